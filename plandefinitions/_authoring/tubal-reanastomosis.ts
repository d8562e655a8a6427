/**
 * Tubal ligation reversal (source 000_df67b89a1d6e44a9.txt, rules TR-*).
 *
 * tr (previous tubal sterilisation)
 *  |- tr-candidate (no reversal yet)
 *  |   |- tr-ci-serious-systemic-disease   do-not-perform (TR-I4)
 *  |   `- tr-eligibility [required: menstrual regularity, fitness assessment] age < 40, regular, fit
 *  |       |- tr-ci-partner-semen-abnormal do-not-perform until treated (TR-W1)
 *  |       |- tr-partner-semen-analysis    when no recent result (TR-W1)
 *  |       |- tr-recanalization-permit     collect the permit (TR-I5)
 *  |       `- tr-scheduling [required: menstrual data]  (semen not abnormal)
 *  |           |- tr-window (3-7 days after the menses): admission, work-up, technique (exactly one),
 *  |           |   intra-operative steps, post-operative advice, do-not-perform routine tubal tests
 *  |           `- bleeding now / window passed / end of bleeding unknown
 *  `- tr-follow-up (after a reversal)
 *      |- tr-ivf-referral            both tubes blocked after the reversal (TR-F2)
 *      |- tr-patency-assessment      no pregnancy one year after (TR-F1): HSG protocol | laparoscopy
 *      `- tr-follow-up-waiting       less than a year: nothing to do yet
 */
import type { DataRequirement } from '@medplum/fhirtypes';
import { citations } from './citations.ts';
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
  NOT_REFUTED,
  pdCanonical,
  PROCEDURE_DONE,
  relatedAfterEnd,
  RESULT_OK,
  SCT,
  vsInput,
  effectiveDate,
  type Action,
} from './common.ts';
import { workupAction } from './infertility-hysteroscopy.ts';
import {
  cycleTasks,
  CYCLE_VARIABLES,
  LOOK_BACK,
  LOOK_BACK_WHY,
  MENSES_INPUTS,
  MENSES_JUSTIFICATION,
  MENSTRUATING_NOW,
  menstrualDataRequired,
  NO_PREGNANCY_YEAR_AFTER_REVERSAL,
  PREGNANCY_INPUTS,
  reanastomosisDate,
  RESULT_ABNORMAL_LATEST,
  REVERSAL_FOLLOW_UP_INPUTS,
  SYSTEMIC_DISEASE,
  SYSTEMIC_EVIDENCE,
  SYSTEMIC_INPUTS,
  windowDynamicValues,
  windowOpen,
} from './logic.ts';
import { planDefinition } from './plan.ts';
import { LABS } from './infertility-hysteroscopy.ts';

const WINDOW_START = 3;
const WINDOW_END = 7;

const STERILISATION_EVIDENCE = `%tubalSterilizationProcedures.where(${PROCEDURE_DONE}) | %tubalSterilizationHistory.where(${NOT_REFUTED})`;
const SEMEN_ABNORMAL = RESULT_ABNORMAL_LATEST('partnerSemen');
const FIT = `%fitForSurgery.where(${RESULT_OK} and value.ofType(boolean) = true).exists()`;
const REGULAR =
  `%menstrualRegularityRequired.where(${RESULT_OK} and value.coding.exists(system = '${SCT}' and code = '78456001')).exists()` +
  ` and %menstrualDisorder.where(${ACTIVE_CONDITION}).empty()`;

const TR_INPUTS: DataRequirement[] = [
  vsInput('tubalSterilizationProcedures', 'Procedure', 'vs-tubal-sterilization-history'),
  vsInput('tubalSterilizationHistory', 'Condition', 'vs-tubal-sterilization-history'),
  ...REVERSAL_FOLLOW_UP_INPUTS,
];

const CANDIDATE_INPUTS: DataRequirement[] = [
  ...SYSTEMIC_INPUTS,
  vsInput('menstrualDisorder', 'Condition', 'vs-menstrual-disorder'),
  codeInput('partnerSemen', 'Observation', [coding(SCT, '5025004', 'Semen analysis, presence and motility of sperm'), coding(LOCAL, 'semen-analysis-panel', 'Semen analysis panel (WHO)')], {
    lookBackDays: LOOK_BACK.semen,
    newestFirst: true,
  }),
  codeInput('recanalizationPermit', 'DocumentReference', [coding(LOCAL, 'recanalization-permit', 'Family-planning recanalization permit')]),
  ...MENSES_INPUTS,
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
  offsetRange: { low: { value: 1, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' }, high: { value: 2, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } },
};

const EVIDENCE_REASON = { path: 'reasonReference', expression: fhirpath(STERILISATION_EVIDENCE) };

function surgery(): Action[] {
  const workup = [
    { w: { id: 'ecg', ad: 'ecg', title: 'Electrocardiogram', codes: [coding(SCT, '29303009')], type: 'Procedure' as const, lookBack: LOOK_BACK.ecg, why: LOOK_BACK_WHY.ecg, rule: 'TR-P1' } },
    { w: { id: 'chest-x-ray', ad: 'chest-x-ray', title: 'Chest X-ray', codes: [coding(SCT, '399208008')], type: 'Procedure' as const, lookBack: LOOK_BACK.chestXray, why: LOOK_BACK_WHY.chestXray, rule: 'TR-P1' } },
    { w: { ...LABS.cbc!, rule: 'TR-P1' } },
    { w: { ...LABS.leukorrhea!, rule: 'TR-P1' } },
    { w: { id: 'cervical-smear', ad: 'cervical-smear', title: 'Cervical smear', codes: [coding('http://loinc.org', '47528-5')], type: 'Observation' as const, lookBack: LOOK_BACK.cervicalSmear, why: LOOK_BACK_WHY.cervicalSmear, rule: 'TR-P1' } },
  ];
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
    {
      id: 'tr-preop-workup',
      title: 'Pre-operative work-up: heart and lung function, blood, vaginal discharge, cervical smear',
      description: 'Each test is ordered only when no valid recent result is on record. "Blood" is not enumerated by the text: a complete blood count is ordered (terminology.md REV-WU-2; the hysteroscopy list is the natural extension, left to the clinician).',
      documentation: citations('TR-P1'),
      groupingBehavior: 'logical-group',
      selectionBehavior: 'all',
      // Done during the 1-2 days of pre-operative preparation after admission.
      action: workup.map(({ w }) => ({ ...workupAction(w, 'tr'), relatedAction: [ADMISSION_DAYS_BEFORE_SURGERY] })),
    },
    {
      id: 'tr-technique',
      title: 'Surgical technique (choose one)',
      description: 'The three techniques the text describes; the laparoscopy-assisted mini-laparotomy is preselected as the ideal one (higher cost). Window: day 3-7 after the end of the menses.',
      documentation: [...citations('TR-S1', 'TR-T1', 'TR-O1'), justify('TR-T1', 'terminology.md section 1 A7: "3-7 days after menstruation" = 3-7 days after the menses have ended.'), MENSES_JUSTIFICATION],
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
        dynamicValue: [...windowDynamicValues(WINDOW_START, WINDOW_END), EVIDENCE_REASON],
      })),
    },
    {
      id: 'tr-intraoperative-patency-test',
      title: 'Methylene-blue patency test right after the anastomosis',
      documentation: [...citations('TR-S2'), justify('TR-S2', 'terminology.md section 1 A2: "Melanoma fluid pass test" = methylene blue (meilan) hydrotubation, a translation slip.')],
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
      documentation: [...citations('TR-A2'), justify('TR-A2', 'terminology.md section 1 A1: "Tubal ligation after the next menstrual cycle" is a slip for routine post-operative tubal hydrotubation (flushing).')],
      relatedAction: [relatedAfterEnd(SURGERY)],
      definitionCanonical: adCanonical('tubal-hydrotubation'),
      dynamicValue: [{ path: 'doNotPerform', expression: fhirpath('true') }, { path: 'reasonCode[0].text', expression: fhirpath("'TR-A2: routine tubal flushing after a reversal raises the risk of pelvic infection'") }],
    },
    {
      id: 'tr-no-routine-hsg',
      title: 'Do not perform routine HSG after the reversal',
      description: 'Routine post-operative HSG is even less desirable: contraception would be needed for 2-3 months after it. HSG is for no pregnancy one year after surgery (TR-F1).',
      documentation: citations('TR-A3', 'TR-F1'),
      relatedAction: [relatedAfterEnd(SURGERY)],
      definitionCanonical: adCanonical('hysterosalpingography'),
      dynamicValue: [{ path: 'doNotPerform', expression: fhirpath('true') }, { path: 'reasonCode[0].text', expression: fhirpath("'TR-A3: routine HSG after a reversal would need 2-3 months of contraception'") }],
    },
  ];
}

export const tubalReanastomosisPlan = planDefinition({
  id: 'tubal-reanastomosis',
  title: 'Tubal ligation reversal (tubal reanastomosis)',
  description:
    'Reversal of tubal sterilisation: eligibility (under 40, regular menstruation, good health, family-planning permit), partner semen analysis, surgery 3-7 days after the menses with admission and pre-operative work-up, the choice of technique, intra-operative patency test and anti-adhesion agent, post-operative advice, and the one-year follow-up (no pregnancy: HSG or laparoscopy; both tubes blocked: IVF referral).',
  purpose: 'Encodes 000_df67b89a1d6e44a9.txt (rules TR-* of clinical-rules.md).',
  usage:
    'Apply with the patient record. Results: the three techniques as an exactly-one group of ServiceRequests with occurrencePeriod = day 3..7 after the end of bleeding; do-not-perform requests for a contraindication or an untreated partner semen abnormality; the work-up not already on record; collect-information Tasks for missing menstrual data, menstrual regularity or fitness assessment; after a reversal, the follow-up.',
  relatedArtifact: [
    { type: 'documentation', display: 'Source text', citation: '000_df67b89a1d6e44a9.txt (Post-ligation recanalization)' },
    { type: 'documentation', display: 'Rules', citation: 'clinical-rules.md, section Tubal ligation reversal (TR-*)' },
    { type: 'composed-of', display: 'Hysterosalpingography protocol (TR-F1)', resource: pdCanonical('hysterosalpingography') },
  ],
  goal: [
    {
      id: 'pregnancy-within-one-year',
      description: { text: 'Intrauterine pregnancy within one year of the reversal (>90% with a favourable original ligation: isthmic core extraction or fold-ligation-and-cut in the middle third)' },
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
      condition: [applicability(`(${STERILISATION_EVIDENCE}).exists()`, 'TR-I1: a previous tubal sterilisation is recorded')],
      action: [
        {
          id: 'tr-candidate',
          title: 'Candidate for reversal (no reversal done yet)',
          documentation: citations('TR-I1', 'TR-I4', 'TR-W1'),
          input: CANDIDATE_INPUTS,
          condition: [applicability(`%reanastomosis.where(${PROCEDURE_DONE}).empty()`, 'TR-I1: no tubal reanastomosis has been done yet')],
          action: [
            contraindication({
              id: 'tr-ci-serious-systemic-disease',
              ruleId: 'TR-I4',
              title: 'Do not perform the reversal: contraindication to surgery',
              description: 'A serious systemic disease is recorded, or the newest fitness assessment (last 30 days) says the patient is not fit for surgery.',
              present: SYSTEMIC_DISEASE,
              evidence: SYSTEMIC_EVIDENCE,
              reason: coding(LOCAL, 'serious-systemic-disease', 'Serious systemic disease: cannot tolerate the procedure'),
              procedure: 'tubal-reanastomosis',
              documentation: [...citations('TR-I4'), justify('TR-I4', `terminology.md section 1 A28: clinician assessment LOCAL#fit-for-procedure and problem-list screening. ${LOOK_BACK_WHY.fitness} The partner's health has no computable representation; it is part of the clinician's assessment.`)],
            }),
            {
              id: 'tr-eligibility',
              title: 'Eligible: under 40, regular menstruation, fit for surgery',
              description: 'Needs the birth date, the menstrual regularity, a fitness assessment from the last 30 days and menstrual data (for the window); each is collected when absent, never assumed.',
              documentation: [
                ...citations('TR-I2', 'TR-I3', 'TR-I4'),
                justify('TR-I2', 'terminology.md section 1 A8: strictly under 40; the reference date is the apply date (the surgery date is not fixed when the plan is made): on the 40th birthday she is no longer eligible.'),
                justify('TR-I3', 'Regular = the newest menstrual regularity observation is SNOMED 78456001 (normal cycle) and no active menstrual disorder (386804004, 14302001); irregular or absent menstruation: not eligible until assessed.'),
              ],
              input: [
                patientElementRequired('patientBirthDate', 'birthDate'),
                codeInput('menstrualRegularityRequired', 'Observation', [coding(LOCAL, 'menstrual-regularity', 'Menstrual regularity')], { latestOnly: true, required: true }),
                codeInput('fitForSurgery', 'Observation', [coding(LOCAL, 'fit-for-procedure', 'Clinician assessment: fit for procedure (no serious systemic disease)')], {
                  lookBackDays: LOOK_BACK.fitness,
                  latestOnly: true,
                  required: true,
                }),
                menstrualDataRequired(),
              ],
              // The cycle state, computed once for the scheduling windows below.
              extension: CYCLE_VARIABLES,
              condition: [
                applicability(`%patient.birthDate.exists() and %patient.birthDate > today() - 40 years`, 'TR-I2: the woman is under 40 years old'),
                applicability(REGULAR, 'TR-I3: menstruation is regular'),
                applicability(`${FIT} and ${SYSTEMIC_DISEASE}.not()`, 'TR-I4: fit for surgery, no serious systemic disease'),
              ],
              action: [
                contraindication({
                  id: 'tr-ci-partner-semen-abnormal',
                  ruleId: 'TR-W1',
                  title: 'Do not schedule the reversal yet: partner semen analysis abnormal',
                  description: 'The newest partner semen analysis (last 90 days) is abnormal: find and treat the cause before surgery, then repeat it.',
                  present: SEMEN_ABNORMAL,
                  evidence: `%partnerSemen.where(${RESULT_OK}).first()`,
                  reason: coding(LOCAL, 'partner-semen-abnormal', 'Abnormal partner semen analysis, to treat before surgery'),
                  procedure: 'tubal-reanastomosis',
                  documentation: [...citations('TR-W1'), justify('TR-W1', LOOK_BACK_WHY.semen)],
                }),
                {
                  id: 'tr-partner-semen-analysis',
                  title: 'Semen analysis of the male partner',
                  description: 'No partner semen analysis from the last 90 days: propose one ("if necessary": the clinician may skip it).',
                  requiredBehavior: 'could',
                  documentation: [...citations('TR-W1'), justify('TR-W1', LOOK_BACK_WHY.semen)],
                  condition: [applicability(`%partnerSemen.where(${RESULT_OK}).empty()`, 'TR-W1: no partner semen analysis in the last 90 days')],
                  relatedAction: [{ actionId: SURGERY, relationship: 'before-start' }],
                  definitionCanonical: adCanonical('partner-semen-analysis'),
                },
                {
                  id: 'tr-recanalization-permit',
                  title: 'Collect the recanalization permit',
                  description: 'No proof of family-planning approval for recanalization on record: collect it before surgery (administrative; the clinical plan is not held back).',
                  documentation: [...citations('TR-I5'), justify('TR-I5', 'terminology.md section 1 A9: China-specific administrative prerequisite (DocumentReference type LOCAL#recanalization-permit); disable outside China.')],
                  condition: [applicability(`%recanalizationPermit.where(status = 'current').empty()`, 'TR-I5: no current recanalization permit on record')],
                  definitionCanonical: adCanonical('collect-recanalization-permit'),
                },
                {
                  id: 'tr-scheduling',
                  title: 'Schedule the surgery 3-7 days after the menses',
                  description: 'Held while the partner semen analysis is abnormal.',
                  documentation: [...citations('TR-T1'), MENSES_JUSTIFICATION],
                  condition: [applicability(`${SEMEN_ABNORMAL}.not()`, 'TR-W1: no untreated partner semen abnormality')],
                  action: [
                    {
                      id: 'tr-window',
                      title: 'The window of this cycle is open (up to day 7 after the menses)',
                      documentation: [...citations('TR-T1'), MENSES_JUSTIFICATION],
                      condition: [applicability(windowOpen(WINDOW_END), `TR-T1: the end of the menses is known and today is on or before day ${WINDOW_END}`)],
                      action: surgery(),
                    },
                    {
                      id: 'tr-bleeding-now',
                      title: 'Menstruating now: admit after the menses',
                      description: 'The newest period started within the last 8 days and has no end date yet. Record the end of bleeding; surgery is day 3-7 after it.',
                      documentation: [...citations('TR-T1'), MENSES_JUSTIFICATION],
                      condition: [applicability(MENSTRUATING_NOW, 'TR-T1: menstruating now')],
                    },
                    ...cycleTasks('tr', WINDOW_END, 'TR-T1'),
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
            ...PREGNANCY_INPUTS.filter((i) => i.id === 'pregnancyConditions'),
            vsInput('tubalOcclusion', 'Condition', 'vs-tubal-occlusion'),
            codeInput('tubalPatency', 'Observation', [coding(LOCAL, 'tubal-patency-panel', 'Tubal patency (per side)')]),
          ],
          condition: [applicability(`%reanastomosis.where(${PROCEDURE_DONE}).exists()`, 'TR-F1: a tubal reanastomosis has been done')],
          action: [
            {
              id: 'tr-ivf-referral',
              title: 'Both tubes blocked after the reversal: refer for IVF',
              description: 'Bilateral tubal blockage confirmed after the reversal (HSG or laparoscopy): assisted reproduction (IVF) is the way forward.',
              documentation: [...citations('TR-F2'), justify('TR-F2', 'terminology.md section 1 A6: "incompetent or incompetent bilaterally" = both tubes not patent. Only findings dated on or after the reversal count (before it the tubes were ligated).')],
              condition: [applicability(`(${BILATERAL_BLOCKAGE}).exists()`, 'TR-F2: both tubes confirmed blocked after the reversal')],
              definitionCanonical: adCanonical('ivf-referral'),
              dynamicValue: [{ path: 'reasonReference', expression: fhirpath(BILATERAL_BLOCKAGE) }],
            },
            {
              id: 'tr-patency-assessment',
              title: 'No pregnancy one year after the reversal: assess tubal patency (choose one)',
              description: 'HSG (applied through the hysterosalpingography protocol, with its contraindications and timing) or laparoscopy with chromopertubation.',
              documentation: citations('TR-F1'),
              groupingBehavior: 'logical-group',
              selectionBehavior: 'exactly-one',
              condition: [
                applicability(NO_PREGNANCY_YEAR_AFTER_REVERSAL, 'TR-F1: one year or more after the reversal and no pregnancy since'),
                applicability(`(${BILATERAL_BLOCKAGE}).empty() and %tubalPatency.where(${RESULT_OK} and ${effectiveDate}.exists($this >= ${reanastomosisDate})).empty()`, 'TR-F1: tubal patency not yet assessed since the reversal'),
              ],
              action: [
                {
                  id: 'tr-follow-up-hsg',
                  title: 'Hysterosalpingography (HSG protocol)',
                  precheckBehavior: 'yes',
                  documentation: citations('TR-F1', 'HSG-I2'),
                  definitionCanonical: pdCanonical('hysterosalpingography'),
                },
                {
                  id: 'tr-follow-up-laparoscopy',
                  title: 'Laparoscopy with chromopertubation',
                  precheckBehavior: 'no',
                  documentation: citations('TR-F1'),
                  definitionCanonical: adCanonical('laparoscopic-chromopertubation'),
                  dynamicValue: [{ path: 'reasonReference', expression: fhirpath(`%reanastomosis.where(${PROCEDURE_DONE})`) }],
                },
              ],
            },
            {
              id: 'tr-follow-up-waiting',
              title: 'Less than a year since the reversal: keep trying to conceive',
              description: 'No test is advised before one year without pregnancy (routine HSG or tubal flushing is not advised: TR-A2, TR-A3).',
              documentation: citations('TR-F1', 'TR-A2', 'TR-A3'),
              condition: [applicability(`${reanastomosisDate} > today() - 1 year`, 'TR-F1: less than one year since the reversal')],
            },
          ],
        },
      ],
    },
  ],
});
