/**
 * Hysteroscopy in the infertility work-up (source 002_04369e6709d45ade.txt, rules HYS-*; safety
 * rules SAFE-2..SAFE-10).
 *
 * hys (any of the seven indications)
 *  |- hys-result-on-record   a hysteroscopy of the last 180 days: used, not repeated (SAFE-6)
 *  `- hys-assessment
 *      |- hys-ci-*           one do-not-perform hysteroscopy per contraindication present (C1-C4, SAFE-2..4)
 *      `- hys-plan           no contraindication
 *          |- hys-fitness-not-assessed   collect the fitness assessment (SAFE-4)
 *          `- hys-timing     [required: menstrual data, pregnancy status]
 *              |- hys-pregnancy-not-excluded
 *              |- hys-window 3-10 days after the menses; irregular bleeding: any day after it stops
 *              |   |- hys-preop-examination (HYS-P1), hys-preop-labs (HYS-P2): today .. the day before
 *              |   `- hys-cleared (pregnancy excluded, fit): hys-order
 *              |- hys-bleeding-now -> collect the end of bleeding (SAFE-10)
 *              `- window passed / end of bleeding unknown -> collect the menses end date
 */
import type { DataRequirement } from '@medplum/fhirtypes';
import { citations, sourceText } from './citations.ts';
import {
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  codeInput,
  coding,
  contraindication,
  justify,
  LOCAL,
  LOINC,
  NOT_REFUTED,
  performedDate,
  PROCEDURE_DONE,
  RESULT_HOLDS,
  RESULT_OK,
  SCT,
  vsInput,
  variable,
  evidenceValues,
  newestHolding,
  NEWEST_EVIDENCE_JUSTIFICATION,
  type Action,
} from './common.ts';
import {
  anyWorkupNeeded,
  bleedingNowTask,
  patientGate,
  patientSexUnconfirmedTask,
  menstrualDatesUnusableTask,
  cycleTasks,
  CYCLE_STATE_VARIABLES,
  CYCLE_WINDOW_VARIABLES,
  FIT_CONFIRMED,
  FITNESS_JUSTIFICATION,
  FITNESS_VARIABLES,
  fitnessNotAssessedTask,
  INFLAMMATION_EVIDENCE,
  INFLAMMATION_INPUTS,
  INFLAMMATION_VARIABLES,
  LEUKORRHEA_EVIDENCE,
  LOOK_BACK,
  LOOK_BACK_WHY,
  MENSES_INPUTS,
  MENSES_JUSTIFICATION,
  menstrualDataRequired,
  NOT_FIT,
  PREGNANCY_EVIDENCE,
  PREGNANCY_EXCLUDED,
  PREGNANCY_INPUTS,
  PREGNANCY_JUSTIFICATION,
  PREGNANCY_VARIABLES,
  PREGNANT,
  pregnancyNotExcludedTask,
  procedureDayPregnancyTest,
  pregnancyStatusRequired,
  PROCEDURE_DATES,
  procedurePeriodVariables,
  safety,
  SYSTEMIC_EVIDENCE,
  SYSTEMIC_INPUTS,
  workupAction,
  workupInputs,
  workupNeedVariables,
  type Workup,
} from './logic.ts';
import { primaryCode } from './activities.ts';
import { defineProcedure } from './procedure.ts';

const WINDOW_START = 3;
const WINDOW_END = 10;
/** A hysteroscopy of the last 180 days is used, not repeated (SAFE-6; the text gives no interval). */
const DONE_LOOK_BACK = 180;

const INPUTS: DataRequirement[] = [
  vsInput('abnormalUterineBleeding', 'Condition', 'vs-abnormal-uterine-bleeding'),
  vsInput('uterineSurgeryProcedures', 'Procedure', 'vs-uterine-surgery'),
  vsInput('uterineSurgeryHistory', 'Condition', 'vs-uterine-surgery'),
  vsInput('recurrentPregnancyLoss', 'Condition', 'vs-recurrent-pregnancy-loss'),
  codeInput('hsgCavity', 'Observation', [coding(LOCAL, 'hsg-uterine-cavity', 'HSG uterine cavity assessment')], { newestFirst: true }),
  vsInput('plannedLaparoscopy', 'ServiceRequest', 'vs-laparoscopy'),
  vsInput('previousHysteroscopy', 'Procedure', 'vs-hysteroscopy-procedures'),
  vsInput('unexplainedInfertility', 'Condition', 'vs-unexplained-infertility'),
  codeInput('failedIvf', 'Condition', [coding(LOCAL, 'failed-ivf-et', 'Failed IVF-ET (no pregnancy after at least one embryo transfer)')]),
  ...INFLAMMATION_INPUTS,
  vsInput('chronicPid', 'Condition', 'vs-pid-chronic'),
  codeInput('heavyBleedingNow', 'Observation', [coding(LOCAL, 'heavy-uterine-bleeding-now', 'Active heavy uterine bleeding')], { lookBackDays: 7, newestFirst: true }),
  ...PREGNANCY_INPUTS,
  ...SYSTEMIC_INPUTS,
  ...MENSES_INPUTS,
  vsInput('irregularBleeding', 'Condition', 'vs-irregular-uterine-bleeding'),
  codeInput('menstrualRegularity', 'Observation', [coding(LOCAL, 'menstrual-regularity', 'Menstrual regularity')], { newestFirst: true }),
];

// ---- indications (HYS-I1..I7, any of) -------------------------------------------------------------

const CAVITY_ABNORMAL = `value.coding.exists(system = '${LOCAL}' and code in ('filling-defect' | 'contour-abnormal'))`;
const NO_PREVIOUS_HYSTEROSCOPY = `%previousHysteroscopy.where(${PROCEDURE_DONE}).empty()`;
const INDICATION = {
  i1: `%abnormalUterineBleeding.where(${ACTIVE_CONDITION})`,
  i2: `%uterineSurgeryProcedures.where(${PROCEDURE_DONE}) | %uterineSurgeryHistory.where(${NOT_REFUTED})`,
  i3: `%recurrentPregnancyLoss.where(${NOT_REFUTED})`,
  i4: newestHolding('hsgCavity', `${RESULT_OK} and ${CAVITY_ABNORMAL}`, `${RESULT_OK} and (${CAVITY_ABNORMAL}).not()`),
  i5: `iif(${NO_PREVIOUS_HYSTEROSCOPY}, %plannedLaparoscopy.where(status in ('draft' | 'active' | 'on-hold') and doNotPerform.where($this = true).empty()), {})`,
  i6: `%unexplainedInfertility.where(${ACTIVE_CONDITION})`,
  i7: `iif(${NO_PREVIOUS_HYSTEROSCOPY}, %failedIvf.where(${NOT_REFUTED}), {})`,
};
const INDICATION_EVIDENCE = Object.values(INDICATION).join(' | ');
const INDICATED = `(${INDICATION_EVIDENCE}).exists()`;

// ---- contraindications -----------------------------------------------------------------------------

const C2_EVIDENCE =
  newestHolding('heavyBleedingNow', `${RESULT_HOLDS} and value.ofType(boolean) = true`, `${RESULT_OK} and value.ofType(boolean) = false`) +
  ` | %abnormalUterineBleeding.where(${ACTIVE_CONDITION} and severity.coding.exists(system = '${SCT}' and code = '24484000'))`;
const C4_EVIDENCE = `%chronicPid.where(${ACTIVE_CONDITION})`;
/**
 * Each contraindication computed once on the hysteroscopy action (R4 variable extension), read by its
 * do-not-perform action and by the planning branch. Pregnancy, acute inflammation and fitness are the
 * shared definitions of logic.ts (SAFE-2..SAFE-4).
 */
const CI_VARIABLES = [
  variable('ciHeavyBleeding', `(${C2_EVIDENCE}).exists()`, 'HYS-C2: heavy uterine bleeding'),
  variable('ciChronicPid', `${C4_EVIDENCE}.exists()`, 'HYS-C4: chronic pelvic inflammatory disease'),
  variable(
    'hysteroscopyDoneRecently',
    `%previousHysteroscopy.where(${PROCEDURE_DONE} and ${performedDate}.exists($this >= today() - ${DONE_LOOK_BACK} days)).exists()`,
    'SAFE-6: a hysteroscopy of the last 180 days',
  ),
];
const NO_CONTRAINDICATION = `(%acuteInflammation or %leukorrheaAbnormal or %ciHeavyBleeding or %ciChronicPid or ${PREGNANT} or ${NOT_FIT}).not()`;

function contraindications(): Action[] {
  const procedure = 'hysteroscopy';
  return [
    contraindication({
      id: 'hys-ci-acute-inflammation',
      ruleId: 'HYS-C1',
      title: 'Do not perform hysteroscopy: acute genital inflammation',
      description:
        'An acute inflammation of the genital tract is recorded (endometritis, adnexitis, pelvic inflammatory disease, vaginitis, cervicitis; a suspected one included): treat it and recheck first.',
      present: '%acuteInflammation',
      evidence: INFLAMMATION_EVIDENCE,
      reason: coding(LOCAL, 'acute-genital-inflammation', 'Acute or subacute inflammation of the genital tract'),
      procedure,
      documentation: [
        ...citations('HYS-C1', 'HYS-P1'),
        justify(
          'HYS-C1',
          'The shared acute genital inflammation value set (vs-genital-inflammation-acute) includes the endometritis, adnexitis and PID of HYS-C1 and the acute vaginitis HYS-P1 looks for: the same inflammation holds all three procedures (SAFE-3).',
        ),
        ...safety('SAFE-3', 'inflammation'),
      ],
    }),
    contraindication({
      id: 'hys-ci-abnormal-leukorrhea',
      ruleId: 'HYS-P2',
      title: 'Do not perform hysteroscopy: vaginal discharge examination abnormal',
      description: 'The newest vaginal discharge routine of the last 7 days is abnormal: treat and recheck before the hysteroscopy.',
      present: '%leukorrheaAbnormal',
      evidence: LEUKORRHEA_EVIDENCE,
      reason: coding(LOCAL, 'leukorrhea-abnormal', 'Abnormal vaginal discharge examination'),
      procedure,
      documentation: [...citations('HYS-P2', 'HYS-P1'), justify('HYS-P2', LOOK_BACK_WHY.leukorrhea), ...safety('SAFE-3', 'inflammation')],
    }),
    contraindication({
      id: 'hys-ci-heavy-bleeding',
      ruleId: 'HYS-C2',
      title: 'Do not perform hysteroscopy: heavy uterine bleeding',
      description:
        'Heavy (massive) uterine bleeding now: the newest observation of the last 7 days says so, or an active abnormal bleeding condition is graded severe. Ordinary abnormal bleeding is an indication (HYS-I1), not a contraindication.',
      present: '%ciHeavyBleeding',
      evidence: C2_EVIDENCE,
      reason: coding(LOCAL, 'heavy-uterine-bleeding-now', 'Active heavy uterine bleeding'),
      procedure,
      documentation: [
        ...citations('HYS-C2'),
        justify(
          'HYS-C2',
          'Look-back 7 days for LOCAL#heavy-uterine-bleeding-now (the text gives none): "massive bleeding" describes the present; the newest observation of the week decides.',
        ),
        NEWEST_EVIDENCE_JUSTIFICATION,
      ],
    }),
    contraindication({
      id: 'hys-ci-pregnancy',
      ruleId: 'HYS-C3',
      title: 'Do not perform hysteroscopy: pregnancy',
      description: 'A positive pregnancy test or pregnancy status in the last 7 days (a preliminary one included), or a pregnancy on the problem list.',
      present: PREGNANT,
      evidence: PREGNANCY_EVIDENCE,
      reason: coding(SCT, '77386006', 'Pregnant'),
      procedure,
      documentation: [...citations('HYS-C3'), ...safety('SAFE-2', 'pregnancy'), PREGNANCY_JUSTIFICATION],
    }),
    contraindication({
      id: 'hys-ci-chronic-pid',
      ruleId: 'HYS-C4',
      title: 'Do not perform hysteroscopy: chronic pelvic inflammatory disease',
      description: 'Active chronic pelvic inflammatory disease, listed by the text as a contraindication (flagged for clinical review: most guidelines treat it as relative).',
      present: '%ciChronicPid',
      evidence: C4_EVIDENCE,
      reason: coding(SCT, '237044002', 'Chronic pelvic inflammatory disease'),
      procedure,
      documentation: [
        ...citations('HYS-C4'),
        justify('HYS-C4', 'terminology.md section 1 A24: encoded as stated (contraindication); none of the texts separates absolute from relative contraindications.'),
      ],
    }),
    contraindication({
      id: 'hys-ci-serious-systemic-disease',
      ruleId: 'HYS-P1',
      title: 'Do not perform hysteroscopy: not fit for the procedure',
      description:
        'A serious systemic disease is recorded, or the newest fitness assessment (last 30 days) says the patient is not fit (HYS-P1 examines the cardiopulmonary function for this).',
      present: NOT_FIT,
      evidence: SYSTEMIC_EVIDENCE,
      reason: coding(LOCAL, 'serious-systemic-disease', 'Serious systemic disease: cannot tolerate the procedure'),
      procedure,
      documentation: [...citations('HYS-P1'), ...safety('SAFE-4', 'fitness'), FITNESS_JUSTIFICATION],
    }),
  ];
}

// ---- timing -------------------------------------------------------------------------------------------

const IRREGULAR_CYCLE = `value.coding.exists(system = '${LOCAL}' and code = 'irregular-menstrual-cycle')`;
const IRREGULAR_EXPRESSION = `(%irregularBleeding.where(${ACTIVE_CONDITION}).exists() or ${newestHolding('menstrualRegularity', `${RESULT_OK} and ${IRREGULAR_CYCLE}`, `${RESULT_OK} and (${IRREGULAR_CYCLE}).not()`)}.exists())`;
const IRREGULAR = '%irregularBleedingNow';

const TIMING_DOCS = [
  ...citations('HYS-T1'),
  justify(
    'HYS-T1',
    `terminology.md section 1 A23: "after menstruation" = after the menses end. Regular cycles: day ${WINDOW_START}..${WINDOW_END} after the end of bleeding. Irregular bleeding (active irregular/abnormal bleeding condition, or menstrual regularity = irregular): from day 1 after the bleeding stopped, no end. "Special circumstances" are left to the clinician.`,
  ),
  MENSES_JUSTIFICATION,
  ...safety('SAFE-5', 'dates'),
];

// ---- pre-operative work-up ---------------------------------------------------------------------------

const EXAMS: Workup[] = [
  {
    id: 'cardiovascular-examination',
    ad: 'preop-cardiovascular-examination',
    title: 'Pre-operative cardiovascular examination',
    codes: [coding(SCT, '444733009')],
    type: 'Procedure',
    lookBack: LOOK_BACK.exam,
    why: LOOK_BACK_WHY.exam,
    rule: 'HYS-P1',
  },
  {
    id: 'pulmonary-examination',
    ad: 'preop-pulmonary-examination',
    title: 'Pre-operative pulmonary examination',
    codes: [coding(SCT, '444562008')],
    type: 'Procedure',
    lookBack: LOOK_BACK.exam,
    why: LOOK_BACK_WHY.exam,
    rule: 'HYS-P1',
  },
  {
    id: 'gynecological-examination',
    ad: 'preop-gynecological-examination',
    title: 'Pre-operative gynaecological examination',
    codes: [coding(LOCAL, 'preop-gynecological-examination')],
    type: 'Procedure',
    lookBack: LOOK_BACK.exam,
    why: LOOK_BACK_WHY.exam,
    rule: 'HYS-P1',
  },
];

export const LABS: Record<string, Workup> = {
  cbc: {
    id: 'complete-blood-count',
    ad: 'complete-blood-count',
    title: 'Complete blood count',
    codes: [coding(LOINC, '57021-8')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  urinalysis: {
    id: 'urinalysis',
    ad: 'urinalysis',
    title: 'Urinalysis',
    codes: [coding(LOINC, '24356-8')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  liver: {
    id: 'liver-function',
    ad: 'liver-function',
    title: 'Liver function tests',
    codes: [coding(LOINC, '24325-3')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  kidney: {
    id: 'kidney-function',
    ad: 'kidney-function',
    title: 'Kidney function tests',
    codes: [coding(LOINC, '24362-6')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  glucose: {
    id: 'fasting-glucose',
    ad: 'fasting-glucose',
    title: 'Fasting blood glucose',
    codes: [coding(LOINC, '1558-6')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  coagulation: {
    id: 'coagulation-panel',
    ad: 'coagulation-panel',
    title: 'Coagulation function',
    codes: [coding(LOCAL, 'coagulation-panel')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  hbv: {
    id: 'hepatitis-b-serology',
    ad: 'hepatitis-b-serology',
    title: 'Hepatitis B serology',
    codes: [coding(LOCAL, 'hbv-serology-5'), coding(LOINC, '5196-1')],
    type: 'Observation',
    lookBack: LOOK_BACK.serology,
    why: LOOK_BACK_WHY.serology,
    rule: 'HYS-P2',
  },
  hcv: {
    id: 'hepatitis-c-antibody',
    ad: 'hepatitis-c-antibody',
    title: 'Hepatitis C antibody',
    codes: [coding(LOINC, '16128-1')],
    type: 'Observation',
    lookBack: LOOK_BACK.serology,
    why: LOOK_BACK_WHY.serology,
    rule: 'HYS-P2',
  },
  hiv: {
    id: 'hiv-screening',
    ad: 'hiv-screening',
    title: 'HIV screening',
    codes: [coding(LOINC, '56888-1')],
    type: 'Observation',
    lookBack: LOOK_BACK.serology,
    why: `${LOOK_BACK_WHY.serology} terminology.md section 1 A25: "negative AIDS" = the test is required; a positive result goes to clinician review, it is not an automatic exclusion.`,
    rule: 'HYS-P2',
  },
  syphilis: {
    id: 'syphilis-trust',
    ad: 'syphilis-trust',
    title: 'Syphilis serology (TRUST)',
    codes: [coding(LOINC, '22461-8')],
    type: 'Observation',
    lookBack: LOOK_BACK.serology,
    why: LOOK_BACK_WHY.serology,
    rule: 'HYS-P2',
  },
  bloodGroup: { id: 'blood-group', ad: 'blood-group', title: 'Blood group', codes: [coding(LOINC, '882-1')], type: 'Observation', why: LOOK_BACK_WHY.bloodGroup, rule: 'HYS-P2' },
  // Read by the shared verdict (SAFE-3): ordered unless a final normal result of the last 7 days is the newest.
  leukorrhea: {
    id: 'leukorrhea-routine',
    ad: 'leukorrhea-routine',
    title: 'Vaginal discharge routine examination',
    codes: [coding(LOCAL, 'leukorrhea-routine')],
    type: 'Observation',
    lookBack: LOOK_BACK.leukorrhea,
    why: `${LOOK_BACK_WHY.leukorrhea} An indeterminate or preliminary result is repeated (SAFE-3).`,
    rule: 'HYS-P2',
    neededVariable: '%leukorrheaNormal.not()',
  },
};

const OPTIONAL_LABS: Workup[] = [
  {
    id: 'cervical-chlamydia',
    ad: 'cervical-chlamydia',
    title: 'Cervical chlamydia test',
    codes: [coding(LOINC, '21190-4')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
  {
    id: 'cervical-mycoplasma',
    ad: 'cervical-mycoplasma',
    title: 'Cervical mycoplasma test',
    codes: [coding(LOCAL, 'mycoplasma-ureaplasma-culture')],
    type: 'Observation',
    lookBack: LOOK_BACK.routineLabs,
    why: LOOK_BACK_WHY.routineLabs,
    rule: 'HYS-P2',
  },
];

const WORKUP: Workup[] = [...EXAMS, ...Object.values(LABS), ...OPTIONAL_LABS];

function windowActions(): Action[] {
  return [
    {
      id: 'hys-preop-examination',
      title: 'Pre-operative physical examination',
      description: 'Cardiopulmonary function; look for pelvic inflammatory disease and acute vaginitis. Dated from today to the day before the hysteroscopy.',
      documentation: citations('HYS-P1'),
      groupingBehavior: 'logical-group',
      selectionBehavior: 'all',
      action: EXAMS.map((w) => workupAction(w, 'hys', 'hys-order')),
    },
    {
      id: 'hys-preop-labs',
      title: 'Pre-operative laboratory tests',
      description: 'Each test is ordered only when no valid recent result is on record; dated from today to the day before the hysteroscopy.',
      documentation: citations('HYS-P2'),
      groupingBehavior: 'logical-group',
      selectionBehavior: 'all',
      action: [
        ...Object.values(LABS).map((w) => workupAction(w, 'hys', 'hys-order')),
        {
          id: 'hys-preop-labs-if-necessary',
          title: 'If necessary: cervical secretions for chlamydia and mycoplasma',
          description: 'Optional ("if necessary"): the clinician decides.',
          documentation: citations('HYS-P2'),
          groupingBehavior: 'logical-group',
          selectionBehavior: 'any',
          requiredBehavior: 'could',
          action: OPTIONAL_LABS.map((w) => workupAction(w, 'hys', 'hys-order')),
        },
      ],
    },
    {
      id: 'hys-cleared',
      title: 'Pregnancy excluded and fit for the procedure',
      description: 'The newest pregnancy result of the last 7 days is a final negative, and the newest fitness assessment of the last 30 days says fit.',
      documentation: [...citations('HYS-C3', 'HYS-P1'), ...safety('SAFE-2', 'pregnancy'), ...safety('SAFE-4', 'fitness'), PREGNANCY_JUSTIFICATION],
      // The indication's records, cited by the hysteroscopy request: computed once, and only when it is proposed.
      extension: [variable('indicationEvidence', INDICATION_EVIDENCE, 'HYS-I1..I7: the records behind the indications found, cited by the hysteroscopy request')],
      condition: [
        applicability(PREGNANCY_EXCLUDED, 'HYS-C3: the newest pregnancy result of the last 7 days is a final negative'),
        applicability(FIT_CONFIRMED, 'HYS-P1: the newest fitness assessment of the last 30 days says fit'),
      ],
      action: [
        {
          id: 'hys-order',
          title: 'Hysteroscopy',
          description: `Hysteroscopy on day ${WINDOW_START}-${WINDOW_END} after the end of the menses (proliferative phase: thin endometrium, little mucus, little bleeding, lesions exposed); with irregular bleeding, any day after the bleeding stops. Never before today, and after the pre-operative tests. reasonReference = the indications found.`,
          priority: 'routine',
          goalId: ['uterine-cavity-assessed'],
          documentation: [...citations('HYS-I1', 'HYS-I2', 'HYS-I3', 'HYS-I4', 'HYS-I5', 'HYS-I6', 'HYS-I7', 'HYS-T1', 'HYS-F1'), ...TIMING_DOCS.slice(-3)],
          definitionCanonical: adCanonical('hysteroscopy'),
          dynamicValue: [...PROCEDURE_DATES, ...evidenceValues('%indicationEvidence')],
        },
        procedureDayPregnancyTest('hys', 'hys-order', 'HYS-C3'),
      ],
    },
  ];
}

export const hysteroscopy = defineProcedure({
  id: 'infertility-hysteroscopy',
  // Section C: the hysteroscopy the protocol orders, and the diagnostic hysteroscopy code an EHR may order it with.
  orderCodes: [primaryCode('hysteroscopy'), coding(SCT, '88355005', 'Diagnostic hysteroscopy')],
  title: 'Hysteroscopy in the infertility work-up',
  description:
    "Hysteroscopy for infertility: the seven indications (any of), the contraindications (the text's four, with the shared pregnancy, genital inflammation and fitness rules), timing 3-10 days after the menses (irregular bleeding: any time after it stops), pre-operative examination and laboratory tests.",
  purpose: 'Encodes 002_04369e6709d45ade.txt (rules HYS-* of clinical-rules.md, with the safety rules SAFE-2..SAFE-10). Hysteroscopy complements HSG; it does not replace it.',
  usage:
    'Apply with the patient record. Results: hysteroscopy ServiceRequest (occurrencePeriod = day 3..10 after the end of bleeding, or from day 1 with irregular bleeding, never before today and after the pre-operative tests; reasonReference = the indications), a doNotPerform hysteroscopy per contraindication, the pre-operative work-up not already on record (dated before the procedure), and collect-information Tasks for missing menstrual data, pregnancy status or fitness assessment. The text gives no post-procedure instructions; none are invented.',
  relatedArtifact: [
    sourceText('hysteroscopy'),
    { type: 'documentation', display: 'Rules', citation: 'clinical-rules.md, section Hysteroscopy (HYS-*) and the safety rules (SAFE-*)' },
  ],
  goal: [
    {
      id: 'uterine-cavity-assessed',
      description: { text: 'Uterine cavity assessed (and lesions treated): fibroids, adhesions, polyps, anomalies, foreign body, proximal tubal blockage' },
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-priority', code: 'medium-priority' }] },
      documentation: citations('HYS-F1'),
    },
  ],
  action: [
    {
      id: 'hys',
      title: 'Hysteroscopy in the infertility work-up',
      description: 'Indicated when any of the seven indications is present (HYS-I1..I7).',
      documentation: [
        ...citations('HYS-I1', 'HYS-I2', 'HYS-I3', 'HYS-I4', 'HYS-I5', 'HYS-I6', 'HYS-I7'),
        justify('HYS-I2', 'terminology.md section 1 A20: "complicated uterine or uterine surgery" = any previous uterine surgery (vs-uterine-surgery).'),
        justify(
          'HYS-I3',
          'terminology.md section 1 A21: "repeated pregnancy failure" = recurrent pregnancy loss, recorded as a diagnosis (vs-recurrent-pregnancy-loss); the count threshold is left to that diagnosis.',
        ),
        justify('HYS-I5', 'terminology.md section 1 A22: a laparoscopy is planned (ServiceRequest draft/active/on-hold) and no hysteroscopy was done before: do both together.'),
        justify('HYS-I6', 'Unexplained infertility = SNOMED 1148927006 idiopathic female infertility (ICD-10 N97.9 "unspecified" is not the same and is not used).'),
      ],
      input: INPUTS,
      extension: [...CYCLE_STATE_VARIABLES, ...PREGNANCY_VARIABLES, ...INFLAMMATION_VARIABLES, ...FITNESS_VARIABLES, ...CI_VARIABLES],
      condition: [...patientGate('HYS-I1'), applicability(INDICATED, 'HYS-I1..I7: at least one indication for hysteroscopy')],
      action: [
        {
          id: 'hys-result-on-record',
          title: 'Hysteroscopy done in the last 180 days: use its findings, do not repeat it',
          code: [{ coding: [coding(LOCAL, 'result-on-record', 'Result on record used, not repeated')] }],
          documentation: [
            ...safety('SAFE-6', 'doneAlready'),
            justify(
              'SAFE-6',
              'Look-back 180 days (the text gives none): a hysteroscopy of the last 6 months is used rather than repeated; a new finding after it (e.g. an HSG filling defect) is for the clinician to weigh.',
            ),
          ],
          condition: [applicability('%hysteroscopyDoneRecently', 'SAFE-6: a hysteroscopy was done in the last 180 days')],
        },
        {
          id: 'hys-assessment',
          title: 'Screen, time and prepare the hysteroscopy',
          documentation: [...citations('HYS-I1'), ...safety('SAFE-6', 'doneAlready')],
          condition: [applicability('%hysteroscopyDoneRecently.not()', 'SAFE-6: no hysteroscopy in the last 180 days')],
          action: [
            ...contraindications(),
            {
              id: 'hys-plan',
              title: 'No contraindication: plan the hysteroscopy',
              documentation: [...citations('HYS-C1', 'HYS-C2', 'HYS-C3', 'HYS-C4'), ...safety('SAFE-3', 'inflammation'), ...safety('SAFE-4', 'fitness')],
              condition: [applicability(NO_CONTRAINDICATION, 'HYS-C1..C4, SAFE-2..4: no contraindication is recorded')],
              action: [
                fitnessNotAssessedTask('hys', 'HYS-P1'),
                {
                  id: 'hys-timing',
                  title: 'Timing: 3-10 days after the menses; irregular bleeding: after it stops',
                  documentation: TIMING_DOCS,
                  description: 'Needs menstrual data and a determinate pregnancy result from the last 7 days; each is collected when absent, never assumed.',
                  input: [menstrualDataRequired(), pregnancyStatusRequired(), ...workupInputs(WORKUP)],
                  extension: [
                    ...CYCLE_WINDOW_VARIABLES,
                    variable('irregularBleedingNow', IRREGULAR_EXPRESSION, 'HYS-T1: irregular bleeding (active condition, or newest regularity observation = irregular)'),
                    ...workupNeedVariables(WORKUP),
                    ...procedurePeriodVariables({
                      windowStart: `iif(${IRREGULAR}, %bleedingEnd.toDate() + 1 day, %bleedingEnd.toDate() + ${WINDOW_START} days)`,
                      windowEnd: `iif(${IRREGULAR}, {}, %bleedingEnd.toDate() + ${WINDOW_END} days)`,
                      // Work-up results must be back the day before the hysteroscopy.
                      earliest: `iif(${anyWorkupNeeded(WORKUP)}, today() + 1 day, today())`,
                    }),
                  ],
                  action: [
                    pregnancyNotExcludedTask('hys', 'HYS-C3'),
                    {
                      id: 'hys-window',
                      title: 'The hysteroscopy fits this cycle',
                      documentation: TIMING_DOCS,
                      condition: [
                        applicability(
                          '%procedureFits',
                          `HYS-T1: the bleeding has ended and the hysteroscopy can be dated on or before day ${WINDOW_END} (no limit with irregular bleeding)`,
                        ),
                      ],
                      action: windowActions(),
                    },
                    bleedingNowTask('hys', 'HYS-T1', `plan the hysteroscopy ${WINDOW_START}-${WINDOW_END} days after it (irregular bleeding: any day after it)`),
                    menstrualDatesUnusableTask('hys', 'HYS-T1'),
                    ...cycleTasks('hys', 'HYS-T1', WINDOW_END),
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
    patientSexUnconfirmedTask('hys', 'HYS-I1'),
  ],
});

export const hysteroscopyPlan = hysteroscopy.plan;
