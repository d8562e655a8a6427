/**
 * Tubal ligation reversal (source 000_df67b89a1d6e44a9.txt, rules TR-*; safety rules SAFE-2..SAFE-10).
 *
 * tr (previous tubal sterilisation)
 *  |- tr-candidate (no reversal yet)
 *  |   |- tr-ci-pregnancy / -acute-inflammation / -abnormal-leukorrhea / -serious-systemic-disease
 *  |   |                               do-not-perform (SAFE-2, SAFE-3, TR-I4/SAFE-4)
 *  |   |- tr-ligation-method           operative record asked for when the method is not recorded (SAFE-9)
 *  |   |- tr-not-eligible-age          40 or older: no reversal, IVF referral instead (TR-I2, SAFE-7)
 *  |   |- tr-not-eligible-irregular    irregular or absent menses: no reversal until assessed (TR-I3)
 *  |   `- tr-eligibility [required: birth date, menstrual regularity] under 40, regular, no contraindication
 *  |       |- tr-ci-partner-semen-abnormal do-not-perform until treated (TR-W1)
 *  |       |- tr-partner-semen-analysis    when no valid recent result (TR-W1), dated before the surgery
 *  |       |- tr-recanalization-permit     collect the permit (TR-I5)
 *  |       |- tr-fitness-not-assessed      collect the assessment; the work-up is proposed anyway (SAFE-4)
 *  |       |- tr-preop-workup              the tests not on record, today .. the day before the surgery (TR-P1)
 *  |       `- tr-scheduling [required: menstrual data, pregnancy status]  (semen not abnormal)
 *  |           |- tr-window (fits before the 40th birthday, pregnancy excluded, fit): admission,
 *  |           |   technique (exactly one), intra-operative steps, post-operative advice
 *  |           `- bleeding now / turns 40 first / window passed / end of bleeding unknown
 *  `- tr-follow-up (after a reversal)
 *      |- tr-ivf-referral            both tubes blocked after the reversal (TR-F2)
 *      |- tr-patency-assessment      no pregnancy one year after (TR-F1): the HSG protocol (with its alternatives)
 *      |- tr-patency-known-not-bilateral  assessed, not both blocked, still no pregnancy: clinician review (texts silent)
 *      `- tr-follow-up-waiting       less than a year: nothing to do yet
 */
import type { DataRequirement } from '@medplum/fhirtypes';
import { citations, sourceText } from './citations.ts';
import {
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  asDate,
  codeInput,
  patientElementRequired,
  coding,
  contraindication,
  fhirpath,
  justify,
  LOCAL,
  NHSA9,
  NOT_REFUTED,
  pdCanonical,
  PROCEDURE_DONE,
  relatedAfterEnd,
  RESULT_OK,
  SCT,
  vsInput,
  effectiveDate,
  evidenceValues,
  newestHolding,
  NEWEST_EVIDENCE_JUSTIFICATION,
  DATING_JUSTIFICATION,
  type Action,
} from './common.ts';
import { LABS } from './infertility-hysteroscopy.ts';
import {
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
  NO_PREGNANCY_YEAR_AFTER_REVERSAL,
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
  reanastomosisDate,
  REVERSAL_UNDATED,
  resultVerdictVariables,
  REVERSAL_FOLLOW_UP_INPUTS,
  safety,
  SYSTEMIC_EVIDENCE,
  SYSTEMIC_INPUTS,
  verdictAbnormalEvidence,
  WORKUP_DATES,
  workupAction,
  workupInputs,
  workupNeedVariables,
  type Workup,
} from './logic.ts';
import { primaryCode } from './activities.ts';
import { defineProcedure } from './procedure.ts';

const WINDOW_START = 3;
const WINDOW_END = 7;
/** Admission is 1-2 days before the surgery and cannot be in the past: the surgery starts 2 days from today at the earliest. */
const ADMISSION_LEAD_DAYS = 2;

const STERILISATION_EVIDENCE = `%tubalSterilizationProcedures.where(${PROCEDURE_DONE}) | %tubalSterilizationHistory.where(${NOT_REFUTED})`;
const REGULAR_CYCLE = `value.coding.exists(system = '${SCT}' and code = '78456001')`;
/** The newest final regularity record says regular (a same-day "irregular" wins: newestHolding) and no menstrual disorder is active. */
const REGULAR =
  `%menstrualRegularityRequired.where(${RESULT_OK} and ${REGULAR_CYCLE}).exists()` +
  ` and ${newestHolding('menstrualRegularityRequired', `${RESULT_OK} and (${REGULAR_CYCLE}).not()`, `${RESULT_OK} and ${REGULAR_CYCLE}`)}.empty()` +
  ` and %menstrualDisorder.where(${ACTIVE_CONDITION}).empty()`;
const IRREGULAR_EVIDENCE =
  newestHolding('menstrualRegularity', `${RESULT_OK} and (${REGULAR_CYCLE}).not()`, `${RESULT_OK} and ${REGULAR_CYCLE}`) + ` | %menstrualDisorder.where(${ACTIVE_CONDITION})`;
/**
 * The birth date is known to the day. A year or a month alone cannot date the 40th birthday, and
 * FHIRPath compares dates of different precision as empty (or, after date arithmetic, at the
 * coarser precision): eligibility is only decided on a full date (safer reading, SAFE-5/SAFE-7);
 * 40 or older is still decided when the year alone settles it.
 */
// A 10th character (YYYY-MM-DD): substring is in the fast path's subset, length() is not.
const BIRTH_DATE_TO_THE_DAY = '%patient.birthDate.toString().substring(9, 1).exists()';
const UNDER_40_TODAY = `%patient.birthDate.exists() and ${BIRTH_DATE_TO_THE_DAY} and %patient.birthDate > today() - 40 years`;
const FORTY_OR_OLDER_TODAY = '%patient.birthDate.exists() and %patient.birthDate <= today() - 40 years';
/** A birth date to the year or month only, not already settling "40 or older": the full date is asked for. */
const BIRTH_DATE_IMPRECISE = `%patient.birthDate.exists() and (${BIRTH_DATE_TO_THE_DAY}).not() and iif(${FORTY_OR_OLDER_TODAY}, false, true)`;
/** The last day she is under 40 (TR-I2 on the planned date, SAFE-5). */
const LAST_DAY_UNDER_40 = '%patient.birthDate + 40 years - 1 day';
/** No contraindication of the candidate level: pregnancy, genital inflammation, not fit. */
const NO_CANDIDATE_CI = `(${PREGNANT} or %acuteInflammation or %leukorrheaAbnormal or ${NOT_FIT}).not()`;

/**
 * Ligation methods a code can name (TR-O1; terminology.md IN-TL-METHOD): the local method concepts,
 * the NHSA ICD-9-CM-3 method codes, and SNOMED fimbriectomy / resection of both tubes.
 */
const METHOD_RECORDED =
  `%tubalSterilizationProcedures.where(${PROCEDURE_DONE} and (note.exists() or code.coding.exists(` +
  `(system = '${LOCAL}' and code.startsWith('tl-method-')) or (system = '${NHSA9}' and code in ('66.3201' | '66.3200x002' | '66.3902' | '66.2900x001')) or (system = '${SCT}' and code in ('25344002' | '287945002'))` +
  `))).exists()`;

/** Read by both the candidate and the follow-up branch: declared once here, as element ids are unique in a resource. */
const PREGNANCY_CONDITIONS = PREGNANCY_INPUTS.filter((i) => i.id === 'pregnancyConditions');

const TR_INPUTS: DataRequirement[] = [
  vsInput('tubalSterilizationProcedures', 'Procedure', 'vs-tubal-sterilization-history'),
  vsInput('tubalSterilizationHistory', 'Condition', 'vs-tubal-sterilization-history'),
  ...REVERSAL_FOLLOW_UP_INPUTS,
  ...PREGNANCY_CONDITIONS,
];

const CANDIDATE_INPUTS: DataRequirement[] = [
  ...PREGNANCY_INPUTS.filter((i) => !PREGNANCY_CONDITIONS.includes(i)),
  ...INFLAMMATION_INPUTS,
  ...SYSTEMIC_INPUTS,
  vsInput('menstrualDisorder', 'Condition', 'vs-menstrual-disorder'),
  codeInput('menstrualRegularity', 'Observation', [coding(LOCAL, 'menstrual-regularity', 'Menstrual regularity')], { newestFirst: true }),
  codeInput(
    'partnerSemen',
    'Observation',
    [coding(SCT, '5025004', 'Semen analysis, presence and motility of sperm'), coding(LOCAL, 'semen-analysis-panel', 'Semen analysis panel (WHO)')],
    {
      lookBackDays: LOOK_BACK.semen,
      newestFirst: true,
    },
  ),
  codeInput('recanalizationPermit', 'DocumentReference', [coding(LOCAL, 'recanalization-permit', 'Family-planning recanalization permit')]),
  ...MENSES_INPUTS,
];

/** TR-P1 work-up: ordered only when no valid recent result is on record. */
const TR_WORKUP: Workup[] = [
  { id: 'ecg', ad: 'ecg', title: 'Electrocardiogram', codes: [coding(SCT, '29303009')], type: 'Procedure', lookBack: LOOK_BACK.ecg, why: LOOK_BACK_WHY.ecg, rule: 'TR-P1' },
  {
    id: 'chest-x-ray',
    ad: 'chest-x-ray',
    title: 'Chest X-ray',
    codes: [coding(SCT, '399208008')],
    type: 'Procedure',
    lookBack: LOOK_BACK.chestXray,
    why: LOOK_BACK_WHY.chestXray,
    rule: 'TR-P1',
  },
  { ...LABS.cbc!, rule: 'TR-P1' },
  { ...LABS.leukorrhea!, rule: 'TR-P1' },
  {
    id: 'cervical-smear',
    ad: 'cervical-smear',
    title: 'Cervical smear',
    codes: [coding('http://loinc.org', '47528-5')],
    type: 'Observation',
    lookBack: LOOK_BACK.cervicalSmear,
    why: LOOK_BACK_WHY.cervicalSmear,
    rule: 'TR-P1',
  },
];

const TECHNIQUES: { id: string; title: string; description: string; preferred: boolean }[] = [
  {
    id: 'tubal-reanastomosis-open-microsurgical',
    title: 'Open microsurgical reanastomosis',
    description: 'Laparotomy under an operating microscope (10-30x) or a surgical loupe (4-10x) with fine instruments: significantly improves success.',
    preferred: false,
  },
  {
    id: 'tubal-reanastomosis-laparoscopic',
    title: 'Laparoscopic reanastomosis',
    description: 'Many advantages, but suturing the tube with 7-0 non-absorbable suture under laparoscopy is difficult and time-consuming.',
    preferred: false,
  },
  {
    id: 'tubal-reanastomosis-lap-assisted-minilaparotomy',
    title: 'Laparoscopy-assisted mini-laparotomy reanastomosis (ideal)',
    description: 'The ideal technique, at a higher cost: also treats pelvic endometriosis under laparoscopy, flushes blood from the abdomen, and allows the patency test at once.',
    preferred: true,
  },
];

function blockage(): string {
  const since = (dateExpr: string): string => `${asDate(dateExpr)}.exists($this >= ${reanastomosisDate})`;
  const side = (code: string): string =>
    `component.where(code.coding.exists(system = '${LOCAL}' and code = '${code}')).value.coding.exists(system = '${LOCAL}' and code in ('blocked-proximal' | 'blocked-distal'))`;
  return (
    `%tubalOcclusion.where(${NOT_REFUTED} and bodySite.coding.exists(system = '${SCT}' and code = '51440002') and ${since('(onset.ofType(dateTime) | recordedDate)')})` +
    ` | %tubalPatency.where(${RESULT_OK} and ${side('tubal-patency-right')} and ${side('tubal-patency-left')} and ${effectiveDate}.exists($this >= ${reanastomosisDate}))`
  );
}
const BILATERAL_BLOCKAGE = blockage();

/**
 * The action other steps are timed against. The technique group has no date of its own; its three
 * options share the same window, so the preselected one carries the surgery's dates.
 */
const SURGERY = 'tr-lap-assisted-minilaparotomy';

/** TR-T1: admission after the menses, 1-2 days of preparation before the operation. */
const ADMISSION_DAYS_BEFORE_SURGERY: NonNullable<Action['relatedAction']>[number] = {
  actionId: SURGERY,
  relationship: 'before-start',
  offsetRange: {
    low: { value: 1, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
    high: { value: 2, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
  },
};

const EVIDENCE_VALUES = evidenceValues(STERILISATION_EVIDENCE);

function surgery(): Action[] {
  return [
    {
      id: 'tr-admission',
      title: 'Admission after the menses, 1-2 days before surgery',
      description: 'Admission after the menses for 1-2 days of pre-operative preparation.',
      documentation: citations('TR-T1'),
      relatedAction: [ADMISSION_DAYS_BEFORE_SURGERY],
      definitionCanonical: adCanonical('surgical-admission'),
    },
    {
      id: 'tr-instruction-admission',
      title: 'Tell the patient when to come in',
      documentation: citations('TR-T1'),
      participant: [{ type: 'patient' }],
      relatedAction: [ADMISSION_DAYS_BEFORE_SURGERY],
      definitionCanonical: adCanonical('instruction-reversal-admission'),
    },
    procedureDayPregnancyTest('tr', SURGERY, 'SAFE-2'),
    {
      id: 'tr-technique',
      title: 'Surgical technique (choose one)',
      description:
        'The three techniques the text describes; the laparoscopy-assisted mini-laparotomy is preselected as the ideal one (higher cost). Window: day 3-7 after the end of the menses, from 2 days after today at the earliest (admission comes first), and before the 40th birthday.',
      documentation: [
        ...citations('TR-S1', 'TR-T1', 'TR-O1'),
        justify('TR-T1', 'terminology.md section 1 A7: "3-7 days after menstruation" = 3-7 days after the menses have ended.'),
        MENSES_JUSTIFICATION,
        ...safety('SAFE-5', 'dates'),
      ],
      groupingBehavior: 'logical-group',
      selectionBehavior: 'exactly-one',
      requiredBehavior: 'must',
      goalId: ['pregnancy-within-one-year'],
      action: TECHNIQUES.map((t) => ({
        id: `tr-${t.id.replace('tubal-reanastomosis-', '')}`,
        title: t.title,
        description: t.description,
        precheckBehavior: t.preferred ? ('yes' as const) : ('no' as const),
        goalId: ['pregnancy-within-one-year'],
        documentation: citations('TR-S1', 'TR-T1'),
        definitionCanonical: adCanonical(t.id),
        dynamicValue: [...PROCEDURE_DATES, ...EVIDENCE_VALUES],
      })),
    },
    {
      id: 'tr-intraoperative-patency-test',
      title: 'Methylene-blue patency test right after the anastomosis',
      documentation: [
        ...citations('TR-S2'),
        justify('TR-S2', 'terminology.md section 1 A2: "Melanoma fluid pass test" = methylene blue (meilan) hydrotubation, a translation slip.'),
      ],
      relatedAction: [{ actionId: SURGERY, relationship: 'concurrent-with-end' }],
      definitionCanonical: adCanonical('methylene-blue-patency-test'),
    },
    {
      id: 'tr-anti-adhesion',
      title: 'Anti-adhesion agent at the end of surgery',
      documentation: [...citations('TR-S3'), justify('TR-S3', 'terminology.md section 1 A4: "bioprotein gel" = fibrin sealant, "hyaluronic acid na" = sodium hyaluronate.')],
      relatedAction: [{ actionId: SURGERY, relationship: 'concurrent-with-end' }],
      definitionCanonical: adCanonical('anti-adhesion-barrier-application'),
    },
    {
      id: 'tr-postop-advice',
      title: 'After surgery: no contraception needed, conception from the next cycle',
      documentation: citations('TR-A1', 'TR-O1'),
      relatedAction: [relatedAfterEnd(SURGERY)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-after-reversal'),
    },
    {
      id: 'tr-no-routine-hydrotubation',
      title: 'Do not perform routine tubal hydrotubation after the next cycle',
      description: 'Formerly advocated after the next menses; no longer advised because of the risk of pelvic infection.',
      documentation: [
        ...citations('TR-A2'),
        justify('TR-A2', 'terminology.md section 1 A1: "Tubal ligation after the next menstrual cycle" is a slip for routine post-operative tubal hydrotubation (flushing).'),
      ],
      relatedAction: [relatedAfterEnd(SURGERY)],
      definitionCanonical: adCanonical('tubal-hydrotubation'),
      dynamicValue: [
        { path: 'doNotPerform', expression: fhirpath('true') },
        { path: 'reasonCode[0].text', expression: fhirpath("'TR-A2: routine tubal flushing after a reversal raises the risk of pelvic infection'") },
      ],
    },
    {
      id: 'tr-no-routine-hsg',
      title: 'Do not perform routine HSG after the reversal',
      description:
        'Routine post-operative HSG is even less desirable: contraception would be needed for 2-3 months after it. HSG is for no pregnancy one year after surgery (TR-F1).',
      documentation: citations('TR-A3', 'TR-F1'),
      relatedAction: [relatedAfterEnd(SURGERY)],
      definitionCanonical: adCanonical('hysterosalpingography'),
      dynamicValue: [
        { path: 'doNotPerform', expression: fhirpath('true') },
        { path: 'reasonCode[0].text', expression: fhirpath("'TR-A3: routine HSG after a reversal would need 2-3 months of contraception'") },
      ],
    },
  ];
}

const IVF_INSTEAD_WHY =
  'Our reading of TR-F2 for a woman the reversal is not offered to: her ligated tubes are non-functional, so assisted reproduction (IVF) is what remains; the referral is proposed, the clinician decides (SAFE-7: say what is offered instead).';

/** Not eligible for the reversal: a do-not-perform request naming the rule, and the IVF referral instead (SAFE-7). */
function notEligible(id: string, ruleId: string, title: string, description: string, present: string, evidence: string, conditionText: string, ivfInstead: boolean): Action[] {
  const actions: Action[] = [
    {
      ...contraindication({
        id,
        ruleId,
        title,
        description,
        present,
        evidence,
        reason: coding(LOCAL, 'not-eligible', 'Not eligible for the procedure'),
        procedure: 'tubal-reanastomosis',
        kind: 'not-eligible',
        documentation: [...citations(ruleId), ...safety('SAFE-7', 'pathway')],
      }),
      condition: [applicability(present, conditionText)],
    },
  ];
  if (ivfInstead) {
    actions.push({
      id: `${id}-ivf-referral`,
      title: 'Instead: refer for IVF (assisted reproduction)',
      documentation: [...citations('TR-F2', ruleId), justify('TR-F2', IVF_INSTEAD_WHY), ...safety('SAFE-7', 'pathway')],
      condition: [applicability(present, conditionText)],
      definitionCanonical: adCanonical('ivf-referral'),
      dynamicValue: evidenceValues(`${evidence} | ${STERILISATION_EVIDENCE}`),
    });
  }
  return actions;
}

const TURNS_40_FIRST = `%bleedingEndKnown and %procedureFits.not() and %windowEnd.exists() and %procedureStart.toDate() <= %windowEnd.toDate() and %procedureStart.toDate() > (${LAST_DAY_UNDER_40})`;

export const tubalReanastomosis = defineProcedure({
  id: 'tubal-reanastomosis',
  // Section C: each technique, and ICD-9-CM 66.73, the code of the protocol's own "do not perform
  // the reversal" requests (they hold for every technique).
  orderCodes: [...TECHNIQUES.map((t) => primaryCode(t.id)), primaryCode('tubal-reanastomosis')],
  title: 'Tubal ligation reversal (tubal reanastomosis)',
  description:
    'Reversal of tubal sterilisation: eligibility (under 40 on the planned date, regular menstruation, good health, family-planning permit) with pregnancy, genital inflammation and fitness screened as for every procedure, partner semen analysis, pre-operative work-up, surgery 3-7 days after the menses with admission, the choice of technique, intra-operative patency test and anti-adhesion agent, post-operative advice, and the one-year follow-up (no pregnancy: HSG protocol with its alternatives; both tubes blocked: IVF referral).',
  purpose: 'Encodes 000_df67b89a1d6e44a9.txt (rules TR-* of clinical-rules.md, with the safety rules SAFE-2..SAFE-10).',
  usage:
    'Apply with the patient record. Results: the three techniques as an exactly-one group of ServiceRequests with occurrencePeriod = day 3..7 after the end of bleeding (from 2 days after today at the earliest, ending before the 40th birthday); do-not-perform requests for a contraindication, an ineligibility (with the IVF referral instead) or an untreated partner semen abnormality; the work-up not already on record, dated before the surgery; collect-information Tasks for missing menstrual data, menstrual regularity, pregnancy status, fitness assessment or the ligation method; after a reversal, the follow-up.',
  relatedArtifact: [
    sourceText('reversal'),
    { type: 'documentation', display: 'Rules', citation: 'clinical-rules.md, section Tubal ligation reversal (TR-*) and the safety rules (SAFE-*)' },
    { type: 'composed-of', display: 'Hysterosalpingography protocol (TR-F1)', resource: pdCanonical('hysterosalpingography') },
  ],
  goal: [
    {
      id: 'pregnancy-within-one-year',
      description: {
        text: 'Intrauterine pregnancy within one year of the reversal (>90% with a favourable original ligation: isthmic core extraction or fold-ligation-and-cut in the middle third)',
      },
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-priority', code: 'high-priority' }] },
      documentation: citations('TR-O1'),
      target: [
        {
          measure: { coding: [coding('http://loinc.org', '82810-3', 'Pregnancy status')] },
          detailCodeableConcept: { coding: [coding(SCT, '77386006', 'Pregnant')] },
          due: { value: 1, unit: 'year', system: 'http://unitsofmeasure.org', code: 'a' },
        },
      ],
    },
  ],
  action: [
    {
      id: 'tr',
      title: 'Tubal ligation reversal',
      description: 'Only after a previous tubal sterilisation (TR-I1).',
      documentation: citations('TR-I1'),
      input: TR_INPUTS,
      condition: [...patientGate('TR-I1'), applicability(`(${STERILISATION_EVIDENCE}).exists()`, 'TR-I1: a previous tubal sterilisation is recorded')],
      action: [
        {
          id: 'tr-candidate',
          title: 'Candidate for reversal (no reversal done yet)',
          documentation: citations('TR-I1', 'TR-I4', 'TR-W1'),
          input: CANDIDATE_INPUTS,
          extension: [
            ...CYCLE_STATE_VARIABLES,
            ...PREGNANCY_VARIABLES,
            ...INFLAMMATION_VARIABLES,
            ...FITNESS_VARIABLES,
            ...resultVerdictVariables('partnerSemen', 'semen', 'TR-W1'),
          ],
          condition: [applicability(`%reanastomosis.where(${PROCEDURE_DONE}).empty()`, 'TR-I1: no tubal reanastomosis has been done yet')],
          action: [
            contraindication({
              id: 'tr-ci-pregnancy',
              ruleId: 'SAFE-2',
              title: 'Do not perform the reversal: pregnancy',
              description:
                'A positive pregnancy test or pregnancy status in the last 7 days (a preliminary one included), or a pregnancy on the problem list: no surgery on the tubes of a pregnant woman.',
              present: PREGNANT,
              evidence: PREGNANCY_EVIDENCE,
              reason: coding(SCT, '77386006', 'Pregnant'),
              procedure: 'tubal-reanastomosis',
              documentation: [...safety('SAFE-2', 'pregnancy'), PREGNANCY_JUSTIFICATION],
            }),
            contraindication({
              id: 'tr-ci-acute-inflammation',
              ruleId: 'SAFE-3',
              title: 'Do not perform the reversal: acute genital inflammation',
              description: 'An acute or subacute inflammation of the genital tract is recorded (a suspected one included): treat it and recheck before surgery.',
              present: '%acuteInflammation',
              evidence: INFLAMMATION_EVIDENCE,
              reason: coding(LOCAL, 'acute-genital-inflammation', 'Acute or subacute inflammation of the genital tract'),
              procedure: 'tubal-reanastomosis',
              documentation: [...citations('TR-P1'), ...safety('SAFE-3', 'inflammation')],
            }),
            contraindication({
              id: 'tr-ci-abnormal-leukorrhea',
              ruleId: 'TR-P1',
              title: 'Do not perform the reversal: vaginal discharge examination abnormal',
              description: 'The newest vaginal discharge routine of the last 7 days is abnormal: treat and recheck before surgery.',
              present: '%leukorrheaAbnormal',
              evidence: LEUKORRHEA_EVIDENCE,
              reason: coding(LOCAL, 'leukorrhea-abnormal', 'Abnormal vaginal discharge examination'),
              procedure: 'tubal-reanastomosis',
              documentation: [...citations('TR-P1'), justify('TR-P1', LOOK_BACK_WHY.leukorrhea), ...safety('SAFE-3', 'inflammation')],
            }),
            contraindication({
              id: 'tr-ci-serious-systemic-disease',
              ruleId: 'TR-I4',
              title: 'Do not perform the reversal: contraindication to surgery',
              description: 'A serious systemic disease is recorded, or the newest fitness assessment (last 30 days) says the patient is not fit for surgery.',
              present: NOT_FIT,
              evidence: SYSTEMIC_EVIDENCE,
              reason: coding(LOCAL, 'serious-systemic-disease', 'Serious systemic disease: cannot tolerate the procedure'),
              procedure: 'tubal-reanastomosis',
              documentation: [
                ...citations('TR-I4'),
                justify(
                  'TR-I4',
                  "terminology.md section 1 A28: clinician assessment LOCAL#fit-for-procedure and problem-list screening. The partner's health has no computable representation; it is part of the clinician's assessment.",
                ),
                ...safety('SAFE-4', 'fitness'),
                FITNESS_JUSTIFICATION,
              ],
            }),
            {
              id: 'tr-ligation-method',
              title: 'Ligation method not recorded: obtain the operative record',
              description:
                'No completed sterilisation Procedure names the method (a method code or an operative note): the method and site of the ligation decide the expected success of the reversal.',
              documentation: [...citations('TR-O1'), ...safety('SAFE-9', 'ligation')],
              condition: [applicability(`(${METHOD_RECORDED}).not()`, 'SAFE-9: the sterilisation record does not say how the tubes were ligated')],
              definitionCanonical: adCanonical('collect-ligation-operative-record'),
            },
            {
              id: 'tr-birth-date-imprecise',
              title: 'Birth date not known to the day: record the full date of birth',
              description:
                'The birth date is recorded to the year or the month only: whether she is under 40 on the planned dates cannot be decided, so the reversal is not proposed (never assumed eligible, never an empty plan); record the full date of birth and apply again.',
              documentation: [
                ...citations('TR-I2'),
                justify(
                  'TR-I2',
                  'Strictly under 40 on the planned date (terminology.md section 1 A8) needs the birth date to the day; a year or month alone is the safer reading: undecided, collected.',
                ),
                ...safety('SAFE-7', 'pathway'),
              ],
              condition: [applicability(BIRTH_DATE_IMPRECISE, 'TR-I2/SAFE-7: the birth date is known only to the year or month, and does not settle 40 or older')],
              definitionCanonical: adCanonical('collect-full-birth-date'),
            },
            ...notEligible(
              'tr-not-eligible-age',
              'TR-I2',
              'Do not perform the reversal: 40 years or older',
              'The reversal is for women under 40 (on her 40th birthday she is no longer eligible); assisted reproduction is proposed instead.',
              FORTY_OR_OLDER_TODAY,
              '%patient',
              'TR-I2: the woman is 40 or older',
              true,
            ),
            ...notEligible(
              'tr-not-eligible-irregular',
              'TR-I3',
              'Do not perform the reversal yet: menstruation not regular',
              'Irregular or absent menstruation: not eligible until it has been assessed (and treated); apply again once the cycle is regular.',
              `(${IRREGULAR_EVIDENCE}).exists()`,
              IRREGULAR_EVIDENCE,
              'TR-I3: menstruation is irregular or absent',
              false,
            ),
            {
              id: 'tr-regularity-not-usable',
              title: 'Menstrual regularity not usable: record it',
              description:
                'Menstrual regularity is on record, but no final result (only registered, preliminary or cancelled ones): eligibility (TR-I3) cannot be decided. Record the assessment and apply the protocol again.',
              documentation: [...citations('TR-I3'), NEWEST_EVIDENCE_JUSTIFICATION],
              condition: [
                applicability(
                  `%menstrualRegularity.exists() and %menstrualRegularity.where(${RESULT_OK}).empty() and %menstrualDisorder.where(${ACTIVE_CONDITION}).empty()`,
                  'TR-I3/SAFE-10: menstrual regularity is recorded, but not as a final result',
                ),
              ],
              definitionCanonical: adCanonical('collect-menstrual-regularity'),
            },
            {
              id: 'tr-eligibility',
              title: 'Eligible: under 40, regular menstruation, no contraindication',
              description:
                'Needs the birth date and the menstrual regularity; each is collected when absent, never assumed. Fitness is a gate further on (SAFE-4): the work-up that informs it is proposed whatever the assessment.',
              documentation: [
                ...citations('TR-I2', 'TR-I3', 'TR-I4'),
                NEWEST_EVIDENCE_JUSTIFICATION,
                justify(
                  'TR-I2',
                  'terminology.md section 1 A8: strictly under 40, on the planned date: she must be under 40 today, and the surgery period ends the day before her 40th birthday (SAFE-5).',
                ),
                justify(
                  'TR-I3',
                  'Regular = the newest menstrual regularity observation is SNOMED 78456001 (normal cycle) and no active menstrual disorder (386804004, 14302001); irregular or absent menstruation: not eligible until assessed.',
                ),
                ...safety('SAFE-4', 'fitness'),
              ],
              input: [
                patientElementRequired('patientBirthDate', 'birthDate'),
                codeInput('menstrualRegularityRequired', 'Observation', [coding(LOCAL, 'menstrual-regularity', 'Menstrual regularity')], { newestFirst: true, required: true }),
                ...workupInputs(TR_WORKUP),
              ],
              // The cycle window and the surgery period, computed once for the work-up dates and the scheduling below.
              extension: [
                ...CYCLE_WINDOW_VARIABLES,
                ...workupNeedVariables(TR_WORKUP),
                ...procedurePeriodVariables({
                  windowStart: `%bleedingEnd.toDate() + ${WINDOW_START} days`,
                  windowEnd: `%bleedingEnd.toDate() + ${WINDOW_END} days`,
                  earliest: `today() + ${ADMISSION_LEAD_DAYS} days`,
                  lastAllowed: `(${LAST_DAY_UNDER_40})`,
                }),
              ],
              condition: [
                applicability(UNDER_40_TODAY, 'TR-I2: the woman is under 40 years old (birth date known to the day)'),
                applicability(REGULAR, 'TR-I3: menstruation is regular'),
                applicability(NO_CANDIDATE_CI, 'SAFE-2..4: not pregnant, no genital inflammation, not "not fit"'),
              ],
              action: [
                contraindication({
                  id: 'tr-ci-partner-semen-abnormal',
                  ruleId: 'TR-W1',
                  title: 'Do not schedule the reversal yet: partner semen analysis abnormal',
                  description: 'The newest partner semen analysis (last 90 days) is abnormal: find and treat the cause before surgery, then repeat it.',
                  present: '%semenAbnormal',
                  evidence: verdictAbnormalEvidence('partnerSemen', 'semen'),
                  reason: coding(LOCAL, 'partner-semen-abnormal', 'Abnormal partner semen analysis, to treat before surgery'),
                  procedure: 'tubal-reanastomosis',
                  documentation: [...citations('TR-W1'), justify('TR-W1', LOOK_BACK_WHY.semen)],
                }),
                {
                  id: 'tr-partner-semen-analysis',
                  title: 'Semen analysis of the male partner',
                  description:
                    'No valid partner semen analysis from the last 90 days (none, only preliminary, or indeterminate): propose one ("if necessary": the clinician may skip it), dated before the surgery.',
                  requiredBehavior: 'could',
                  documentation: [...citations('TR-W1'), justify('TR-W1', LOOK_BACK_WHY.semen), ...safety('SAFE-5', 'dates')],
                  condition: [applicability('(%semenAbnormal or %semenNormal).not()', 'TR-W1: no valid partner semen analysis in the last 90 days')],
                  relatedAction: [{ actionId: SURGERY, relationship: 'before-start' }],
                  definitionCanonical: adCanonical('partner-semen-analysis'),
                  dynamicValue: WORKUP_DATES,
                },
                {
                  id: 'tr-recanalization-permit',
                  title: 'Collect the recanalization permit',
                  description: 'No proof of family-planning approval for recanalization on record: collect it before surgery (administrative; the clinical plan is not held back).',
                  documentation: [
                    ...citations('TR-I5'),
                    justify(
                      'TR-I5',
                      'terminology.md section 1 A9: China-specific administrative prerequisite (DocumentReference type LOCAL#recanalization-permit); disable outside China.',
                    ),
                  ],
                  condition: [applicability(`%recanalizationPermit.where(status = 'current').empty()`, 'TR-I5: no current recanalization permit on record')],
                  definitionCanonical: adCanonical('collect-recanalization-permit'),
                },
                fitnessNotAssessedTask('tr', 'TR-I4'),
                {
                  id: 'tr-preop-workup',
                  title: 'Pre-operative work-up: heart and lung function, blood, vaginal discharge, cervical smear',
                  description:
                    'Each test is ordered only when no valid recent result is on record, dated from today to the day before the surgery period. "Blood" is not enumerated by the text: a complete blood count is ordered (terminology.md REV-WU-2; the hysteroscopy list is the natural extension, left to the clinician). Proposed before the fitness assessment too: it informs it (SAFE-4).',
                  documentation: [...citations('TR-P1'), ...safety('SAFE-4', 'fitness'), ...safety('SAFE-5', 'dates')],
                  groupingBehavior: 'logical-group',
                  selectionBehavior: 'all',
                  // Not while the partner's abnormal semen holds the surgery; when fit, only once the surgery can be dated this cycle.
                  condition: [
                    applicability(
                      `%semenAbnormal.not() and (%procedureFits or ${FIT_CONFIRMED}.not())`,
                      'TR-P1/SAFE-4: the surgery can be dated this cycle, or the work-up informs the fitness assessment',
                    ),
                  ],
                  action: TR_WORKUP.map((w) => workupAction(w, 'tr', SURGERY)),
                },
                {
                  id: 'tr-scheduling',
                  title: 'Schedule the surgery 3-7 days after the menses',
                  description:
                    'Needs menstrual data and a determinate pregnancy result of the last 7 days (collected when absent). Held while the partner semen analysis is abnormal.',
                  documentation: [...citations('TR-T1'), MENSES_JUSTIFICATION, ...safety('SAFE-2', 'pregnancy')],
                  input: [menstrualDataRequired(), pregnancyStatusRequired()],
                  condition: [applicability('%semenAbnormal.not()', 'TR-W1: no untreated partner semen abnormality')],
                  action: [
                    pregnancyNotExcludedTask('tr', 'TR-I4'),
                    {
                      id: 'tr-window',
                      title: 'The surgery fits this cycle (up to day 7 after the menses, before the 40th birthday)',
                      documentation: [...citations('TR-T1', 'TR-I2'), MENSES_JUSTIFICATION, ...safety('SAFE-5', 'dates'), ...safety('SAFE-4', 'fitness')],
                      condition: [
                        applicability(
                          '%procedureFits',
                          `TR-T1: the end of the menses is known and the surgery can be dated on or before day ${WINDOW_END}, before the 40th birthday`,
                        ),
                        applicability(PREGNANCY_EXCLUDED, 'SAFE-2: the newest pregnancy result of the last 7 days is a final negative'),
                        applicability(FIT_CONFIRMED, 'TR-I4: the newest fitness assessment of the last 30 days says fit'),
                      ],
                      action: surgery(),
                    },
                    bleedingNowTask('tr', 'TR-T1', 'admit for surgery 3-7 days after it'),
                    menstrualDatesUnusableTask('tr', 'TR-T1'),
                    ...notEligible(
                      'tr-not-eligible-turns-40',
                      'TR-I2',
                      'Do not perform the reversal: she turns 40 before the surgery can take place',
                      'The surgery period of this cycle starts on or after her 40th birthday: not eligible on the planned date; assisted reproduction is proposed instead.',
                      TURNS_40_FIRST,
                      '%patient',
                      'TR-I2: the surgery period would start on or after the 40th birthday',
                      true,
                    ),
                    ...cycleTasks('tr', 'TR-T1', WINDOW_END, `(${TURNS_40_FIRST}).not()`),
                  ],
                },
              ],
            },
          ],
        },
        {
          id: 'tr-follow-up',
          title: 'Follow-up after the reversal',
          documentation: citations('TR-F1', 'TR-F2'),
          input: [
            vsInput('tubalOcclusion', 'Condition', 'vs-tubal-occlusion'),
            codeInput('tubalPatency', 'Observation', [coding(LOCAL, 'tubal-patency-panel', 'Tubal patency (per side)')]),
          ],
          condition: [applicability(`%reanastomosis.where(${PROCEDURE_DONE}).exists()`, 'TR-F1: a tubal reanastomosis has been done')],
          action: [
            {
              id: 'tr-ivf-referral',
              title: 'Both tubes blocked after the reversal: refer for IVF',
              description: 'Bilateral tubal blockage confirmed after the reversal (HSG or laparoscopy): assisted reproduction (IVF) is the way forward.',
              documentation: [
                ...citations('TR-F2'),
                justify(
                  'TR-F2',
                  'terminology.md section 1 A6: "incompetent or incompetent bilaterally" = both tubes not patent. Only findings dated on or after the reversal count (before it the tubes were ligated).',
                ),
                ...safety('SAFE-7', 'pathway'),
              ],
              condition: [applicability(`(${BILATERAL_BLOCKAGE}).exists()`, 'TR-F2: both tubes confirmed blocked after the reversal')],
              definitionCanonical: adCanonical('ivf-referral'),
              dynamicValue: [{ path: 'reasonReference', expression: fhirpath(BILATERAL_BLOCKAGE) }],
            },
            {
              id: 'tr-patency-assessment',
              title: 'No pregnancy one year after the reversal: assess tubal patency (HSG protocol)',
              description:
                'The HSG protocol, with its contraindications, timing and alternatives: HyCoSy, saline hydrotubation and the laparoscopy with chromopertubation that TR-F1 names (offered there once, not twice).',
              documentation: [...citations('TR-F1', 'HSG-I2'), ...safety('SAFE-6', 'doneAlready')],
              condition: [
                applicability(NO_PREGNANCY_YEAR_AFTER_REVERSAL, 'TR-F1: one year or more after the reversal and no pregnancy since'),
                applicability(
                  `(${BILATERAL_BLOCKAGE}).empty() and %tubalPatency.where(${RESULT_OK} and ${effectiveDate}.exists($this >= ${reanastomosisDate})).empty()`,
                  'TR-F1: tubal patency not yet assessed since the reversal',
                ),
              ],
              code: [{ coding: [coding(SCT, '168884001', 'Hysterosalpingography')] }],
              definitionCanonical: pdCanonical('hysterosalpingography'),
            },
            {
              id: 'tr-patency-known-not-bilateral',
              title: 'No pregnancy one year after the reversal, tubes assessed, not both blocked: clinician review of the next step',
              description:
                'Tubal patency has been assessed since the reversal and not both tubes are blocked, with still no pregnancy a year after the reversal. No new HSG or laparoscopy (patency is known: SAFE-6) and no IVF referral by rule (TR-F2 names IVF only when both tubes are blocked); the texts name no further step, so the clinician reviews the result and the next step with the couple.',
              documentation: [
                ...citations('TR-F1', 'TR-F2', 'HSG-I1'),
                justify(
                  'TR-F1',
                  'The texts are silent here: TR-F1 asks for the patency assessment (done), TR-F2 gives IVF for bilateral blockage only, and the HSG text says the result provides "a basis for the next step of treatment" without naming it. Rather than an empty plan, or a step the texts do not give (a repeat study, IVF for one patent tube), the plan asks the clinician to review the result, decide the next step with the couple and record it, and says why nothing is ordered (SAFE-7).',
                ),
                ...safety('SAFE-7', 'pathway'),
                ...safety('SAFE-6', 'doneAlready'),
              ],
              condition: [
                applicability(NO_PREGNANCY_YEAR_AFTER_REVERSAL, 'TR-F1: one year or more after the reversal and no pregnancy since'),
                applicability(
                  `(${BILATERAL_BLOCKAGE}).empty() and %tubalPatency.where(${RESULT_OK} and ${effectiveDate}.exists($this >= ${reanastomosisDate})).exists()`,
                  'TR-F1/TR-F2: tubal patency assessed since the reversal and not both tubes blocked',
                ),
              ],
              definitionCanonical: adCanonical('collect-next-step-after-reversal'),
            },
            {
              id: 'tr-reversal-date-unknown',
              title: 'Date of the reversal unknown: record it',
              description:
                'A tubal reanastomosis is recorded without the day it was performed: whether a year has passed (TR-F1) cannot be decided. Record the date and apply the protocol again.',
              documentation: [
                ...citations('TR-F1'),
                justify(
                  'TR-F1',
                  'Safer reading: an undated reversal neither starts the follow-up nor leaves the plan empty; its date is asked for, since the follow-up (and which tubal findings count) is counted from it.',
                ),
                DATING_JUSTIFICATION,
              ],
              condition: [applicability(REVERSAL_UNDATED, 'TR-F1: a tubal reanastomosis is recorded without a date')],
              definitionCanonical: adCanonical('collect-reversal-date'),
            },
            {
              id: 'tr-follow-up-waiting',
              title: 'Less than a year since the reversal: keep trying to conceive',
              description: 'No test is advised before one year without pregnancy (routine HSG or tubal flushing is not advised: TR-A2, TR-A3).',
              code: [{ coding: [coding(LOCAL, 'follow-up-waiting', 'Keep trying to conceive; reassess at one year')] }],
              documentation: citations('TR-F1', 'TR-A2', 'TR-A3'),
              condition: [applicability(`${reanastomosisDate} > today() - 1 year`, 'TR-F1: less than one year since the reversal')],
            },
          ],
        },
      ],
    },
    patientSexUnconfirmedTask('tr', 'TR-I1'),
  ],
});

export const tubalReanastomosisPlan = tubalReanastomosis.plan;
