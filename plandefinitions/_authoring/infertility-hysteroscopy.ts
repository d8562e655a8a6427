/**
 * Hysteroscopy in the infertility work-up (source 002_04369e6709d45ade.txt, rules HYS-*).
 *
 * hys (any of the seven indications)
 *  |- hys-ci-*           one do-not-perform hysteroscopy per contraindication present (C1-C4)
 *  `- hys-plan           no contraindication
 *      `- hys-timing     [required: menstrual data]
 *          |- hys-window 3-10 days after the menses; irregular bleeding: any day after it stops
 *          |   `- hys-cleared [required: pregnancy status] negative pregnancy test
 *          |       |- hys-order
 *          |       |- hys-preop-examination (HYS-P1)
 *          |       `- hys-preop-labs (HYS-P2), each only when no recent result
 *          |- hys-bleeding-now (information)
 *          `- window passed / end of bleeding unknown -> collect the menses end date
 */
import type { Coding, DataRequirement } from '@medplum/fhirtypes';
import { citations } from './citations.ts';
import {
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  codeInput,
  coding,
  contraindication,
  effectiveDate,
  fhirpath,
  justify,
  relatedDaysBefore,
  LOCAL,
  LOINC,
  NOT_REFUTED,
  performedDate,
  PROCEDURE_DONE,
  RESULT_OK,
  SCT,
  vsInput,
  variable,
  type Action,
} from './common.ts';
import {
  BLEEDING_END,
  CURRENT_END_KNOWN,
  cycleTasks,
  CYCLE_VARIABLES,
  LOOK_BACK,
  LOOK_BACK_WHY,
  MENSES_INPUTS,
  MENSES_JUSTIFICATION,
  MENSTRUATING_NOW,
  menstrualDataRequired,
  PREGNANCY_EVIDENCE,
  PREGNANCY_INPUTS,
  PREGNANCY_JUSTIFICATION,
  PREGNANCY_NEGATIVE,
  PREGNANT,
  pregnancyStatusRequired,
} from './logic.ts';
import { planDefinition } from './plan.ts';

const WINDOW_START = 3;
const WINDOW_END = 10;

const INPUTS: DataRequirement[] = [
  vsInput('abnormalUterineBleeding', 'Condition', 'vs-abnormal-uterine-bleeding'),
  vsInput('uterineSurgeryProcedures', 'Procedure', 'vs-uterine-surgery'),
  vsInput('uterineSurgeryHistory', 'Condition', 'vs-uterine-surgery'),
  vsInput('recurrentPregnancyLoss', 'Condition', 'vs-recurrent-pregnancy-loss'),
  codeInput('hsgCavity', 'Observation', [coding(LOCAL, 'hsg-uterine-cavity', 'HSG uterine cavity assessment')], { latestOnly: true }),
  vsInput('plannedLaparoscopy', 'ServiceRequest', 'vs-laparoscopy'),
  vsInput('previousHysteroscopy', 'Procedure', 'vs-hysteroscopy-procedures'),
  vsInput('unexplainedInfertility', 'Condition', 'vs-unexplained-infertility'),
  codeInput('failedIvf', 'Condition', [coding(LOCAL, 'failed-ivf-et', 'Failed IVF-ET (no pregnancy after at least one embryo transfer)')]),
  vsInput('hysAcuteInflammation', 'Condition', 'vs-hysteroscopy-acute-inflammation'),
  vsInput('chronicPid', 'Condition', 'vs-pid-chronic'),
  codeInput('heavyBleedingNow', 'Observation', [coding(LOCAL, 'heavy-uterine-bleeding-now', 'Active heavy uterine bleeding')], { lookBackDays: 7, latestOnly: true }),
  ...PREGNANCY_INPUTS,
  ...MENSES_INPUTS,
  vsInput('irregularBleeding', 'Condition', 'vs-irregular-uterine-bleeding'),
  codeInput('menstrualRegularity', 'Observation', [coding(LOCAL, 'menstrual-regularity', 'Menstrual regularity')], { latestOnly: true }),
];

// ---- indications (HYS-I1..I7, any of) -------------------------------------------------------------

const NO_PREVIOUS_HYSTEROSCOPY = `%previousHysteroscopy.where(${PROCEDURE_DONE}).empty()`;
const INDICATION = {
  i1: `%abnormalUterineBleeding.where(${ACTIVE_CONDITION})`,
  i2: `%uterineSurgeryProcedures.where(${PROCEDURE_DONE}) | %uterineSurgeryHistory.where(${NOT_REFUTED})`,
  i3: `%recurrentPregnancyLoss.where(${NOT_REFUTED})`,
  i4: `%hsgCavity.where(${RESULT_OK} and value.coding.exists(system = '${LOCAL}' and code in ('filling-defect' | 'contour-abnormal')))`,
  i5: `iif(${NO_PREVIOUS_HYSTEROSCOPY}, %plannedLaparoscopy.where(status in ('draft' | 'active' | 'on-hold') and doNotPerform.where($this = true).empty()), {})`,
  i6: `%unexplainedInfertility.where(${ACTIVE_CONDITION})`,
  i7: `iif(${NO_PREVIOUS_HYSTEROSCOPY}, %failedIvf.where(${NOT_REFUTED}), {})`,
};
const INDICATION_EVIDENCE = Object.values(INDICATION).join(' | ');
const INDICATED = `(${INDICATION_EVIDENCE}).exists()`;

// ---- contraindications -----------------------------------------------------------------------------

const C1_EVIDENCE = `%hysAcuteInflammation.where(${ACTIVE_CONDITION})`;
const C2_EVIDENCE =
  `%heavyBleedingNow.where(${RESULT_OK} and value.ofType(boolean) = true)` +
  ` | %abnormalUterineBleeding.where(${ACTIVE_CONDITION} and severity.coding.exists(system = '${SCT}' and code = '24484000'))`;
const C4_EVIDENCE = `%chronicPid.where(${ACTIVE_CONDITION})`;
/** Each contraindication computed once on the hysteroscopy action (R4 variable extension), read by its do-not-perform action and by the planning branch. */
const CI_VARIABLES = [
  variable('ciAcuteInflammation', `${C1_EVIDENCE}.exists()`, 'HYS-C1: acute endometritis, adnexitis or pelvic inflammatory disease'),
  variable('ciHeavyBleeding', `(${C2_EVIDENCE}).exists()`, 'HYS-C2: heavy uterine bleeding'),
  variable('ciPregnant', PREGNANT, 'HYS-C3: pregnancy'),
  variable('ciChronicPid', `${C4_EVIDENCE}.exists()`, 'HYS-C4: chronic pelvic inflammatory disease'),
];
const NO_CONTRAINDICATION = '(%ciAcuteInflammation or %ciHeavyBleeding or %ciChronicPid or %ciPregnant).not()';

function contraindications(): Action[] {
  const procedure = 'hysteroscopy';
  return [
    contraindication({
      id: 'hys-ci-acute-inflammation',
      ruleId: 'HYS-C1',
      title: 'Do not perform hysteroscopy: acute endometritis, adnexitis or pelvic inflammatory disease',
      description: 'An active acute inflammation of the endometrium, adnexa or pelvis is recorded.',
      present: '%ciAcuteInflammation',
      evidence: C1_EVIDENCE,
      reason: coding(LOCAL, 'acute-genital-inflammation', 'Acute or subacute inflammation of the genital tract'),
      procedure,
      documentation: [...citations('HYS-C1'), justify('HYS-C1', 'vs-hysteroscopy-acute-inflammation includes endometritis and unspecified PID: no verified code separates acute endometritis, and unspecified PID contraindicates under HYS-C1 or HYS-C4 either way.')],
    }),
    contraindication({
      id: 'hys-ci-heavy-bleeding',
      ruleId: 'HYS-C2',
      title: 'Do not perform hysteroscopy: heavy uterine bleeding',
      description: 'Heavy (massive) uterine bleeding now: the newest observation of the last 7 days says so, or an active abnormal bleeding condition is graded severe. Ordinary abnormal bleeding is an indication (HYS-I1), not a contraindication.',
      present: '%ciHeavyBleeding',
      evidence: C2_EVIDENCE,
      reason: coding(LOCAL, 'heavy-uterine-bleeding-now', 'Active heavy uterine bleeding'),
      procedure,
      documentation: [...citations('HYS-C2'), justify('HYS-C2', 'Look-back 7 days for LOCAL#heavy-uterine-bleeding-now (the text gives none): "massive bleeding" describes the present; the newest observation of the week decides.')],
    }),
    contraindication({
      id: 'hys-ci-pregnancy',
      ruleId: 'HYS-C3',
      title: 'Do not perform hysteroscopy: pregnancy',
      description: 'A positive pregnancy test or pregnancy status in the last 7 days, or an active pregnancy on the problem list.',
      present: '%ciPregnant',
      evidence: PREGNANCY_EVIDENCE,
      reason: coding(SCT, '77386006', 'Pregnant'),
      procedure,
      documentation: [...citations('HYS-C3'), PREGNANCY_JUSTIFICATION],
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
      documentation: [...citations('HYS-C4'), justify('HYS-C4', 'terminology.md section 1 A24: encoded as stated (contraindication); none of the texts separates absolute from relative contraindications.')],
    }),
  ];
}

// ---- timing -------------------------------------------------------------------------------------------

const IRREGULAR_EXPRESSION =
  `(%irregularBleeding.where(${ACTIVE_CONDITION}).exists() or %menstrualRegularity.where(${RESULT_OK} and value.coding.exists(system = '${LOCAL}' and code = 'irregular-menstrual-cycle')).exists())`;
/** Read by the window conditions and the window dates: computed once on the timing action, next to the cycle state. */
const TIMING_VARIABLES = [...CYCLE_VARIABLES, variable('irregularBleedingNow', IRREGULAR_EXPRESSION, 'HYS-T1: irregular bleeding (active condition, or newest regularity observation = irregular)')];
const IRREGULAR = '%irregularBleedingNow';
const WINDOW_OPEN = `(${CURRENT_END_KNOWN} and (${IRREGULAR} or today() <= ${BLEEDING_END} + ${WINDOW_END} days))`;
const WINDOW_PASSED = `(${CURRENT_END_KNOWN} and ${IRREGULAR}.not() and today() > ${BLEEDING_END} + ${WINDOW_END} days)`;

const TIMING_DOCS = [
  ...citations('HYS-T1'),
  justify('HYS-T1', `terminology.md section 1 A23: "after menstruation" = after the menses end. Regular cycles: day ${WINDOW_START}..${WINDOW_END} after the end of bleeding. Irregular bleeding (active irregular/abnormal bleeding condition, or menstrual regularity = irregular): from day 1 after the bleeding stopped, no end. "Special circumstances" are left to the clinician.`),
  MENSES_JUSTIFICATION,
];

// ---- pre-operative work-up ---------------------------------------------------------------------------

interface Workup {
  id: string;
  ad: string;
  title: string;
  codes: Coding[];
  type: 'Observation' | 'Procedure';
  lookBack?: number;
  why: string;
  rule: string;
}

/** A work-up order proposed only when no valid recent result / exam is in the record. */
export function workupAction(w: Workup, prefix: string): Action {
  const inputId = `recent${w.id
    .split('-')
    .map((p) => (p[0] ?? '').toUpperCase() + p.slice(1))
    .join('')}`;
  const done = w.type === 'Observation' ? RESULT_OK : PROCEDURE_DONE;
  const dated = w.type === 'Observation' ? effectiveDate : performedDate;
  const recent = w.lookBack === undefined ? `%${inputId}.where(${done})` : `%${inputId}.where(${done} and ${dated}.exists($this >= today() - ${w.lookBack} days))`;
  return {
    id: `${prefix}-${w.id}`,
    title: w.title,
    description: w.lookBack === undefined ? 'Ordered when no result is on record.' : `Ordered when no result from the last ${w.lookBack} days is on record.`,
    documentation: [...citations(w.rule), justify(w.rule, w.why)],
    input: [codeInput(inputId, w.type, w.codes)],
    condition: [applicability(`${recent}.empty()`, `${w.rule}: no ${w.title.toLowerCase()} ${w.lookBack === undefined ? 'on record' : `in the last ${w.lookBack} days`}`)],
    // Results must be back before the procedure: the work-up window is the procedure's, one day earlier.
    relatedAction: [relatedDaysBefore(`${prefix}-order`, 1)],
    definitionCanonical: adCanonical(w.ad),
  };
}

const EXAMS: Workup[] = [
  { id: 'cardiovascular-examination', ad: 'preop-cardiovascular-examination', title: 'Pre-operative cardiovascular examination', codes: [coding(SCT, '444733009')], type: 'Procedure', lookBack: LOOK_BACK.exam, why: LOOK_BACK_WHY.exam, rule: 'HYS-P1' },
  { id: 'pulmonary-examination', ad: 'preop-pulmonary-examination', title: 'Pre-operative pulmonary examination', codes: [coding(SCT, '444562008')], type: 'Procedure', lookBack: LOOK_BACK.exam, why: LOOK_BACK_WHY.exam, rule: 'HYS-P1' },
  { id: 'gynecological-examination', ad: 'preop-gynecological-examination', title: 'Pre-operative gynaecological examination', codes: [coding(LOCAL, 'preop-gynecological-examination')], type: 'Procedure', lookBack: LOOK_BACK.exam, why: LOOK_BACK_WHY.exam, rule: 'HYS-P1' },
];

export const LABS: Record<string, Workup> = {
  cbc: { id: 'complete-blood-count', ad: 'complete-blood-count', title: 'Complete blood count', codes: [coding(LOINC, '57021-8')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  urinalysis: { id: 'urinalysis', ad: 'urinalysis', title: 'Urinalysis', codes: [coding(LOINC, '24356-8')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  liver: { id: 'liver-function', ad: 'liver-function', title: 'Liver function tests', codes: [coding(LOINC, '24325-3')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  kidney: { id: 'kidney-function', ad: 'kidney-function', title: 'Kidney function tests', codes: [coding(LOINC, '24362-6')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  glucose: { id: 'fasting-glucose', ad: 'fasting-glucose', title: 'Fasting blood glucose', codes: [coding(LOINC, '1558-6')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  coagulation: { id: 'coagulation-panel', ad: 'coagulation-panel', title: 'Coagulation function', codes: [coding(LOCAL, 'coagulation-panel')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  hbv: { id: 'hepatitis-b-serology', ad: 'hepatitis-b-serology', title: 'Hepatitis B serology', codes: [coding(LOCAL, 'hbv-serology-5'), coding(LOINC, '5196-1')], type: 'Observation', lookBack: LOOK_BACK.serology, why: LOOK_BACK_WHY.serology, rule: 'HYS-P2' },
  hcv: { id: 'hepatitis-c-antibody', ad: 'hepatitis-c-antibody', title: 'Hepatitis C antibody', codes: [coding(LOINC, '16128-1')], type: 'Observation', lookBack: LOOK_BACK.serology, why: LOOK_BACK_WHY.serology, rule: 'HYS-P2' },
  hiv: { id: 'hiv-screening', ad: 'hiv-screening', title: 'HIV screening', codes: [coding(LOINC, '56888-1')], type: 'Observation', lookBack: LOOK_BACK.serology, why: `${LOOK_BACK_WHY.serology} terminology.md section 1 A25: "negative AIDS" = the test is required; a positive result goes to clinician review, it is not an automatic exclusion.`, rule: 'HYS-P2' },
  syphilis: { id: 'syphilis-trust', ad: 'syphilis-trust', title: 'Syphilis serology (TRUST)', codes: [coding(LOINC, '22461-8')], type: 'Observation', lookBack: LOOK_BACK.serology, why: LOOK_BACK_WHY.serology, rule: 'HYS-P2' },
  bloodGroup: { id: 'blood-group', ad: 'blood-group', title: 'Blood group', codes: [coding(LOINC, '882-1')], type: 'Observation', why: LOOK_BACK_WHY.bloodGroup, rule: 'HYS-P2' },
  leukorrhea: { id: 'leukorrhea-routine', ad: 'leukorrhea-routine', title: 'Vaginal discharge routine examination', codes: [coding(LOCAL, 'leukorrhea-routine')], type: 'Observation', lookBack: LOOK_BACK.leukorrhea, why: LOOK_BACK_WHY.leukorrhea, rule: 'HYS-P2' },
};

const OPTIONAL_LABS: Workup[] = [
  { id: 'cervical-chlamydia', ad: 'cervical-chlamydia', title: 'Cervical chlamydia test', codes: [coding(LOINC, '21190-4')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
  { id: 'cervical-mycoplasma', ad: 'cervical-mycoplasma', title: 'Cervical mycoplasma test', codes: [coding(LOCAL, 'mycoplasma-ureaplasma-culture')], type: 'Observation', lookBack: LOOK_BACK.routineLabs, why: LOOK_BACK_WHY.routineLabs, rule: 'HYS-P2' },
];

function cleared(): Action[] {
  return [
    {
      id: 'hys-order',
      title: 'Hysteroscopy',
      description: `Hysteroscopy on day ${WINDOW_START}-${WINDOW_END} after the end of the menses (proliferative phase: thin endometrium, little mucus, little bleeding, lesions exposed); with irregular bleeding, any day after the bleeding stops. reasonReference = the indications found.`,
      priority: 'routine',
      goalId: ['uterine-cavity-assessed'],
      documentation: [...citations('HYS-I1', 'HYS-I2', 'HYS-I3', 'HYS-I4', 'HYS-I5', 'HYS-I6', 'HYS-I7', 'HYS-T1', 'HYS-F1'), ...TIMING_DOCS.slice(-2)],
      definitionCanonical: adCanonical('hysteroscopy'),
      dynamicValue: [
        { path: 'occurrencePeriod.start', expression: fhirpath(`iif(${IRREGULAR}, ${BLEEDING_END} + 1 days, ${BLEEDING_END} + ${WINDOW_START} days)`) },
        { path: 'occurrencePeriod.end', expression: fhirpath(`iif(${IRREGULAR}, {}, ${BLEEDING_END} + ${WINDOW_END} days)`) },
        { path: 'reasonReference', expression: fhirpath(INDICATION_EVIDENCE) },
      ],
    },
    {
      id: 'hys-preop-examination',
      title: 'Pre-operative physical examination',
      description: 'Cardiopulmonary function; look for pelvic inflammatory disease and acute vaginitis.',
      documentation: citations('HYS-P1'),
      groupingBehavior: 'logical-group',
      selectionBehavior: 'all',
      action: EXAMS.map((w) => workupAction(w, 'hys')),
    },
    {
      id: 'hys-preop-labs',
      title: 'Pre-operative laboratory tests',
      description: 'Each test is ordered only when no valid recent result is on record.',
      documentation: citations('HYS-P2'),
      groupingBehavior: 'logical-group',
      selectionBehavior: 'all',
      action: [
        ...Object.values(LABS).map((w) => workupAction(w, 'hys')),
        {
          id: 'hys-preop-labs-if-necessary',
          title: 'If necessary: cervical secretions for chlamydia and mycoplasma',
          description: 'Optional ("if necessary"): the clinician decides.',
          documentation: citations('HYS-P2'),
          groupingBehavior: 'logical-group',
          selectionBehavior: 'any',
          requiredBehavior: 'could',
          action: OPTIONAL_LABS.map((w) => workupAction(w, 'hys')),
        },
      ],
    },
  ];
}

export const hysteroscopyPlan = planDefinition({
  id: 'infertility-hysteroscopy',
  title: 'Hysteroscopy in the infertility work-up',
  description:
    'Hysteroscopy for infertility: the seven indications (any of), the four contraindications, timing 3-10 days after the menses (irregular bleeding: any time after it stops), pre-operative examination and laboratory tests.',
  purpose: 'Encodes 002_04369e6709d45ade.txt (rules HYS-* of clinical-rules.md). Hysteroscopy complements HSG; it does not replace it.',
  usage:
    'Apply with the patient record. Results: hysteroscopy ServiceRequest (occurrencePeriod = day 3..10 after the end of bleeding, or from day 1 with irregular bleeding; reasonReference = the indications), a doNotPerform hysteroscopy per contraindication, the pre-operative work-up not already on record, and collect-information Tasks for missing menstrual data or pregnancy status. The text gives no post-procedure instructions; none are invented.',
  relatedArtifact: [
    { type: 'documentation', display: 'Source text', citation: '002_04369e6709d45ade.txt (Hysteroscopy in infertility)' },
    { type: 'documentation', display: 'Rules', citation: 'clinical-rules.md, section Hysteroscopy (HYS-*)' },
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
        justify('HYS-I3', 'terminology.md section 1 A21: "repeated pregnancy failure" = recurrent pregnancy loss, recorded as a diagnosis (vs-recurrent-pregnancy-loss); the count threshold is left to that diagnosis.'),
        justify('HYS-I5', 'terminology.md section 1 A22: a laparoscopy is planned (ServiceRequest draft/active/on-hold) and no hysteroscopy was done before: do both together.'),
        justify('HYS-I6', 'Unexplained infertility = SNOMED 1148927006 idiopathic female infertility (ICD-10 N97.9 "unspecified" is not the same and is not used).'),
      ],
      input: INPUTS,
      extension: CI_VARIABLES,
      condition: [applicability(INDICATED, 'HYS-I1..I7: at least one indication for hysteroscopy')],
      action: [
        ...contraindications(),
        {
          id: 'hys-plan',
          title: 'No contraindication: plan the hysteroscopy',
          documentation: citations('HYS-C1', 'HYS-C2', 'HYS-C3', 'HYS-C4'),
          condition: [applicability(NO_CONTRAINDICATION, 'HYS-C1..C4: no contraindication is recorded')],
          action: [
            {
              id: 'hys-timing',
              title: 'Timing: 3-10 days after the menses; irregular bleeding: after it stops',
              documentation: TIMING_DOCS,
              description: 'Needs menstrual data and a determinate pregnancy result from the last 7 days; each is collected when absent, never assumed.',
              input: [menstrualDataRequired(), pregnancyStatusRequired()],
              extension: TIMING_VARIABLES,
              action: [
                {
                  id: 'hys-window',
                  title: 'The window is open',
                  documentation: TIMING_DOCS,
                  condition: [applicability(WINDOW_OPEN, `HYS-T1: the bleeding has ended and today is on or before day ${WINDOW_END} (no limit with irregular bleeding)`)],
                  action: [
                    {
                      id: 'hys-cleared',
                      title: 'Pregnancy excluded',
                      description: 'The newest pregnancy result of the last 7 days is negative.',
                      documentation: [...citations('HYS-C3'), PREGNANCY_JUSTIFICATION],
                      condition: [applicability(PREGNANCY_NEGATIVE, 'HYS-C3: the newest pregnancy result of the last 7 days is negative')],
                      action: cleared(),
                    },
                  ],
                },
                {
                  id: 'hys-bleeding-now',
                  title: 'Bleeding now: plan the hysteroscopy once it has stopped',
                  description: `The newest period started within the last 8 days and has no end date yet. Record the end of bleeding; the window is day ${WINDOW_START}-${WINDOW_END} after it (irregular bleeding: any day after it).`,
                  documentation: TIMING_DOCS,
                  condition: [applicability(MENSTRUATING_NOW, 'HYS-T1: bleeding now (started within 8 days, no end recorded)')],
                },
                {
                  id: 'hys-window-passed',
                  title: 'Window of this cycle has passed: record the end of the next menses',
                  description: `Today is after day ${WINDOW_END} from the end of the last menses (regular cycles). Record the end date of the next menses and apply the protocol again.`,
                  documentation: TIMING_DOCS,
                  condition: [applicability(WINDOW_PASSED, `HYS-T1: regular cycles and today is after day ${WINDOW_END} from the end of the last menses`)],
                  definitionCanonical: adCanonical('collect-menses-end-date'),
                },
                ...cycleTasks('hys', undefined, 'HYS-T1'),
              ],
            },
          ],
        },
      ],
    },
  ],
});
