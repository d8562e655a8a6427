/**
 * Hysterosalpingography (source 001_77e565344cb021a4.txt, rules HSG-*; safety rules SAFE-2..SAFE-10).
 *
 * hsg (indication: infertility, or no pregnancy a year after reversal)
 *  |- hsg-ivf-referral        both tubes known blocked: IVF referral, no new HSG (TR-F2, SAFE-7)
 *  |- hsg-result-on-record    a tubal patency result of the last 180 days: used, not repeated (SAFE-6)
 *  |- hsg-result-missing      HSG done in the last 180 days, result not recorded: collect it (SAFE-6)
 *  `- hsg-assessment          tubal status not known
 *      |- hsg-ci-*            one do-not-perform HSG request per contraindication present (C1-C6, SAFE-2..4)
 *      |- hsg-bleeding-now    collect the end of bleeding (SAFE-10)
 *      |- hsg-plan            no contraindication: HSG 5-7 days after the menses
 *      |   |- hsg-fitness-not-assessed    collect the fitness assessment (SAFE-4)
 *      |   `- hsg-timing      [required: menstrual data, pregnancy status, iodine allergy status]
 *      |       |- hsg-pregnancy-not-excluded
 *      |       |- hsg-window  the period fits this cycle
 *      |       |   |- work-up: discharge exam, iodine test (today .. the day before the HSG)
 *      |       |   `- hsg-cleared (pregnancy excluded, fit): patency test (exactly one), preparation, aftercare
 *      |       `- window passed / end of menses unknown -> collect the menses end date
 *      `- hsg-alternative-hycosy  iodine allergy is the only contraindication: the same checks and care
 *                                 with HyCoSy, except the iodine ones (SAFE-8)
 */
import type { DataRequirement, Extension } from '@medplum/fhirtypes';
import { citations, sourceText } from './citations.ts';
import {
  ACTIVE_ALLERGY,
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  codeInput,
  coding,
  contraindication,
  fhirpath,
  justify,
  LOCAL,
  performedDate,
  PROCEDURE_DONE,
  relatedAfterEnd,
  relatedBefore,
  RESULT_HOLDS,
  RESULT_OK,
  SCT,
  vsInput,
  hasCoding,
  asDate,
  conditionDate,
  DATING_JUSTIFICATION,
  newestHolding,
  NOT_REFUTED,
  effectiveDate,
  variable,
  evidenceValues,
  type Action,
} from './common.ts';
import {
  anyWorkupNeeded,
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
  MENSTRUATING_NOW,
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
  REVERSAL_FOLLOW_UP_INPUTS,
  safety,
  SYSTEMIC_EVIDENCE,
  SYSTEMIC_INPUTS,
  workupAction,
  workupNeedVariables,
  bleedingNowTask,
  patientGate,
  patientSexUnconfirmedTask,
  menstrualDatesUnusableTask,
  type Workup,
} from './logic.ts';
import { primaryCode, STUDY_TEXTS } from './activities.ts';
import { defineProcedure } from './procedure.ts';
import { vsCodings } from './terminology.ts';

const WINDOW_START = 5;
const WINDOW_END = 7;
/** A tubal patency study of the last 180 days is used instead of repeating it (SAFE-6; the texts give no interval). */
const TUBAL_STATUS_LOOK_BACK = 180;
const TUBAL_STATUS_WHY =
  'Look-back 180 days (the texts give none): without a new infection or pelvic surgery tubal status changes slowly, so a tubal patency study of the last 6 months is used rather than repeating the radiation and the instrumentation of the uterus; an older one is repeated. After a tubal reversal only studies dated on or after it count (before it the tubes were ligated).';

// ---- inputs of the whole plan -------------------------------------------------------------------

const INPUTS: DataRequirement[] = [
  vsInput('infertility', 'Condition', 'vs-female-infertility'),
  ...REVERSAL_FOLLOW_UP_INPUTS,
  ...PREGNANCY_INPUTS,
  ...INFLAMMATION_INPUTS,
  ...SYSTEMIC_INPUTS,
  ...MENSES_INPUTS,
  vsInput('pregnancyEndingProcedures', 'Procedure', 'vs-recent-pregnancy-ending'),
  vsInput('pregnancyEndingConditions', 'Condition', 'vs-recent-pregnancy-ending'),
  vsInput('iodineAllergies', 'AllergyIntolerance', 'vs-contrast-iodine-allergy'),
  codeInput('iodineTests', 'Observation', [coding(LOCAL, 'iodine-sensitivity-test', 'Iodine (contrast) sensitivity test')], { newestFirst: true }),
  vsInput('constipation', 'Condition', 'vs-constipation'),
  codeInput('constipationNow', 'Observation', [coding(LOCAL, 'constipation-now', 'Currently constipated')], { lookBackDays: 7, newestFirst: true }),
  // Tubal status already known (SAFE-6, SAFE-7).
  vsInput('recentTubalStudy', 'Procedure', 'vs-tubal-patency-study', { lookBackDays: TUBAL_STATUS_LOOK_BACK }),
  codeInput('recentTubalPatency', 'Observation', [coding(LOCAL, 'tubal-patency-panel', 'Tubal patency (per side)')], { lookBackDays: TUBAL_STATUS_LOOK_BACK, newestFirst: true }),
  // A cavity result is an HSG's result too: the HSG was done, its tubal result is asked for rather than repeating it.
  codeInput('recentHsgCavity', 'Observation', [coding(LOCAL, 'hsg-uterine-cavity', 'HSG uterine cavity assessment')], { lookBackDays: TUBAL_STATUS_LOOK_BACK }),
  vsInput('tubalOcclusion', 'Condition', 'vs-tubal-occlusion'),
];

// ---- indications --------------------------------------------------------------------------------

const INFERTILITY = `%infertility.where(${ACTIVE_CONDITION})`;
const INDICATED = `(${INFERTILITY}.exists() or ${NO_PREGNANCY_YEAR_AFTER_REVERSAL})`;
const INDICATION_EVIDENCE = `${INFERTILITY} | iif(${NO_PREGNANCY_YEAR_AFTER_REVERSAL}, %reanastomosis.where(${PROCEDURE_DONE}), {})`;

// ---- tubal status already known (SAFE-6, SAFE-7) -------------------------------------------------

/** A finding counts if no reversal was done, or it is dated on or after the newest reversal. */
const sinceReversal = (dateExpr: string): string => `(%reanastomosis.where(${PROCEDURE_DONE}).empty() or ${dateExpr}.exists($this >= ${reanastomosisDate}))`;
/** Confirmed (or unstated) and current: a suspected blockage is what HSG is for, it does not send her to IVF. */
const CONFIRMED_CONDITION = `${ACTIVE_CONDITION} and verificationStatus.coding.exists(code in ('provisional' | 'differential' | 'unconfirmed')).not()`;
const side = (code: string): string =>
  `component.where(code.coding.exists(system = '${LOCAL}' and code = '${code}')).value.coding.exists(system = '${LOCAL}' and code in ('blocked-proximal' | 'blocked-distal'))`;
const PATENCY_SINCE_REVERSAL = `%recentTubalPatency.where(${RESULT_OK} and ${sinceReversal(effectiveDate)})`;
const BLOCKAGE_EVIDENCE =
  `%tubalOcclusion.where(${CONFIRMED_CONDITION} and bodySite.coding.exists(system = '${SCT}' and code = '51440002') and ${sinceReversal(asDate('(onset.ofType(dateTime) | recordedDate)'))})` +
  ` | ${PATENCY_SINCE_REVERSAL}.first().where(${side('tubal-patency-right')} and ${side('tubal-patency-left')})`;
const TUBAL_STATUS_VARIABLES: Extension[] = [
  variable(
    'bothTubesBlocked',
    `(${BLOCKAGE_EVIDENCE}).exists()`,
    'TR-F2/SAFE-7: both tubes known blocked (confirmed bilateral occlusion, or the newest tubal patency study has both sides blocked)',
  ),
  variable('tubalResultOnRecord', `${PATENCY_SINCE_REVERSAL}.exists()`, 'SAFE-6: a tubal patency result of the last 180 days'),
  variable(
    'tubalStudyWithoutResult',
    `(%recentTubalStudy.where(${PROCEDURE_DONE} and ${sinceReversal(performedDate)}) | %recentHsgCavity.where(${RESULT_OK} and ${sinceReversal(effectiveDate)})).exists() and %tubalResultOnRecord.not()`,
    'SAFE-6: a tubal patency study (or an HSG cavity result) of the last 180 days whose tubal result is not recorded',
  ),
];
const TUBAL_STATUS_UNKNOWN = '(%bothTubesBlocked or %tubalResultOnRecord or %tubalStudyWithoutResult).not()';

function tubalStatusKnown(): Action[] {
  return [
    {
      id: 'hsg-ivf-referral',
      title: 'Both tubes blocked: refer for IVF, no new HSG',
      description:
        'Both tubes are known blocked (a confirmed bilateral occlusion, or the newest tubal patency study of the last 180 days): assisted reproduction is the way forward and a new HSG adds nothing.',
      documentation: [...citations('TR-F2'), ...safety('SAFE-7', 'pathway'), justify('SAFE-6', TUBAL_STATUS_WHY)],
      condition: [applicability('%bothTubesBlocked', 'TR-F2/SAFE-7: both tubes known blocked')],
      definitionCanonical: adCanonical('ivf-referral'),
      dynamicValue: [{ path: 'reasonReference', expression: fhirpath(BLOCKAGE_EVIDENCE) }],
    },
    {
      id: 'hsg-result-on-record',
      title: 'Tubal patency studied in the last 180 days: use the result, do not repeat the HSG',
      description:
        'A tubal patency result of the last 180 days is on record (at least one tube patent); the next step follows it (a cavity abnormality on HSG: hysteroscopy, HYS-I4).',
      code: [{ coding: [coding(LOCAL, 'result-on-record', 'Result on record used, not repeated')] }],
      documentation: [...safety('SAFE-6', 'doneAlready'), justify('SAFE-6', TUBAL_STATUS_WHY)],
      condition: [applicability('%tubalResultOnRecord and %bothTubesBlocked.not()', 'SAFE-6: a tubal patency result of the last 180 days is on record')],
    },
    {
      id: 'hsg-result-missing',
      title: 'Tubal patency study done in the last 180 days: record its result instead of repeating it',
      description:
        'An HSG (or HyCoSy, or laparoscopic chromopertubation) of the last 180 days is on record, or its uterine cavity result, but not its tubal patency result: record the result; the study is not repeated.',
      documentation: [...safety('SAFE-6', 'doneAlready'), justify('SAFE-6', TUBAL_STATUS_WHY)],
      condition: [applicability('%tubalStudyWithoutResult and %bothTubesBlocked.not()', 'SAFE-6: a tubal patency study of the last 180 days has no recorded result')],
      definitionCanonical: adCanonical('collect-tubal-patency-result'),
    },
  ];
}

// ---- contraindications (each a Boolean that is never empty) -----------------------------------------

/** A delivery, abortion or curettage in the last 42 days, or one with no date at all (it may be recent: held until dated). */
const C5_EVIDENCE =
  `%pregnancyEndingProcedures.where(${PROCEDURE_DONE} and (${performedDate}.empty() or ${performedDate}.exists($this >= today() - 42 days)))` +
  ` | %pregnancyEndingConditions.where(${NOT_REFUTED} and (${conditionDate}.empty() or ${conditionDate}.exists($this >= today() - 42 days)))`;
const IODINE_EVIDENCE =
  `%iodineAllergies.where(${ACTIVE_ALLERGY})` +
  ` | %iodineTests.where(${RESULT_HOLDS} and (${hasCoding('value.coding', SCT, ['10828004'])} or interpretation.coding.exists(code = 'POS')))`;
/** The LMP record(s) behind %bleedingStart (the newest usable first day of bleeding). */
const LATEST_PERIOD_START = `%lastPeriodStart.where(${RESULT_OK} and ${asDate('value.ofType(dateTime)')}.exists($this = %bleedingStart.toDate()))`;

/**
 * Each contraindication is computed once, as a named expression on the HSG action, and read by the
 * do-not-perform actions and by the "no contraindication" / "HyCoSy instead" branches. Pregnancy,
 * inflammation and fitness are the shared definitions of logic.ts (SAFE-2..SAFE-4); menstruation now
 * (HSG-C4) is %menstruatingNow of CYCLE_STATE_VARIABLES.
 */
const CI_VARIABLES = [
  variable('recentPregnancyEndingEvidence', C5_EVIDENCE, 'HSG-C5: the deliveries, abortions or curettages of the last 6 weeks (or undated)'),
  variable('ciRecentPregnancyEnding', '%recentPregnancyEndingEvidence.exists()', 'HSG-C5: within 6 weeks of delivery, abortion or curettage'),
  variable('iodineEvidence', IODINE_EVIDENCE, 'HSG-C6: the active iodine / contrast allergies and positive iodine sensitivity tests'),
  variable('ciIodine', '%iodineEvidence.exists()', 'HSG-C6: iodine allergy'),
];

/** Contraindications other than iodine allergy: they rule out HyCoSy as much as HSG. */
const NO_CI_EXCEPT_IODINE = `(%acuteInflammation or %leukorrheaAbnormal or ${NOT_FIT} or ${PREGNANT} or ${MENSTRUATING_NOW} or %ciRecentPregnancyEnding).not()`;

function hsgContraindications(): Action[] {
  const procedure = 'hysterosalpingography';
  return [
    contraindication({
      id: 'hsg-ci-acute-genital-inflammation',
      ruleId: 'HSG-C1',
      title: 'Do not perform HSG: acute or subacute genital inflammation',
      description:
        'An acute or subacute inflammation of the internal or external genitalia is recorded (a suspected one included). Treat it first; the discharge examination must be normal before imaging.',
      present: '%acuteInflammation',
      evidence: INFLAMMATION_EVIDENCE,
      reason: coding(LOCAL, 'acute-genital-inflammation', 'Acute or subacute inflammation of the genital tract'),
      procedure,
      documentation: [...citations('HSG-C1'), ...safety('SAFE-3', 'inflammation')],
    }),
    contraindication({
      id: 'hsg-ci-abnormal-leukorrhea',
      ruleId: 'HSG-C1',
      title: 'Do not perform HSG: vaginal discharge examination abnormal',
      description: 'The newest vaginal discharge (leukorrhea) examination of the last 7 days is abnormal; treat and recheck: it must be normal before imaging.',
      present: '%leukorrheaAbnormal',
      evidence: LEUKORRHEA_EVIDENCE,
      reason: coding(LOCAL, 'leukorrhea-abnormal', 'Abnormal vaginal discharge examination'),
      procedure,
      documentation: [...citations('HSG-C1'), justify('HSG-C1', LOOK_BACK_WHY.leukorrhea), ...safety('SAFE-3', 'inflammation')],
    }),
    contraindication({
      id: 'hsg-ci-serious-systemic-disease',
      ruleId: 'HSG-C2',
      title: 'Do not perform HSG: serious systemic disease',
      description: 'A serious systemic disease is recorded, or the newest fitness assessment (last 30 days) says the patient cannot tolerate the procedure.',
      present: NOT_FIT,
      evidence: SYSTEMIC_EVIDENCE,
      reason: coding(LOCAL, 'serious-systemic-disease', 'Serious systemic disease: cannot tolerate the procedure'),
      procedure,
      documentation: [
        ...citations('HSG-C2'),
        justify('HSG-C2', 'Read as terminology.md section 1 A28: an active Condition in vs-serious-systemic-disease, or the clinician assessment LOCAL#fit-for-procedure = false.'),
        ...safety('SAFE-4', 'fitness'),
        FITNESS_JUSTIFICATION,
      ],
    }),
    contraindication({
      id: 'hsg-ci-pregnancy',
      ruleId: 'HSG-C3',
      title: 'Do not perform HSG: pregnancy',
      description: 'A positive pregnancy test or pregnancy status in the last 7 days (a preliminary one included), or a pregnancy on the problem list.',
      present: PREGNANT,
      evidence: PREGNANCY_EVIDENCE,
      reason: coding(SCT, '77386006', 'Pregnant'),
      procedure,
      documentation: [...citations('HSG-C3'), ...safety('SAFE-2', 'pregnancy'), PREGNANCY_JUSTIFICATION],
    }),
    contraindication({
      id: 'hsg-ci-menstruation',
      ruleId: 'HSG-C4',
      title: 'Do not perform HSG: menstruating now',
      description: 'The newest period has started (within the last 8 days) and has not ended. HSG is done 5-7 days after the end of the menses.',
      present: MENSTRUATING_NOW,
      evidence: LATEST_PERIOD_START,
      reason: coding(LOCAL, 'menstruating-now', 'Currently menstruating'),
      procedure,
      documentation: [...citations('HSG-C4'), justify('HSG-C4', 'terminology.md section 1 A19: "menstruation" = currently bleeding.'), MENSES_JUSTIFICATION],
    }),
    contraindication({
      id: 'hsg-ci-recent-pregnancy-ending',
      ruleId: 'HSG-C5',
      title: 'Do not perform HSG: within 6 weeks of delivery, abortion or curettage',
      description:
        'A delivery, abortion or curettage on or after the day 42 days ago (6 weeks, inclusive), or one recorded without any date: it may be recent, so HSG is held until its date is recorded.',
      present: '%ciRecentPregnancyEnding',
      evidence: '%recentPregnancyEndingEvidence',
      reason: coding(LOCAL, 'recent-pregnancy-ending', 'Delivery, abortion or curettage within the last 6 weeks'),
      procedure,
      documentation: [
        ...citations('HSG-C5'),
        justify(
          'HSG-C5',
          'terminology.md section 1 A13: "scraping" = uterine curettage. 6 weeks = 42 days: an event 42 days ago still contraindicates, 43 days ago no longer (procedure date = performedDateTime or performedPeriod; condition date = onset, else recordedDate).',
        ),
        justify(
          'HSG-C5',
          'Safer reading: an event of this kind recorded without any date (no performed, onset or recordedDate) cannot be shown to be older than 6 weeks, so it holds the study (do not perform, citing the record) rather than passing silently; recording its date and applying again lifts the hold when it is older.',
        ),
        DATING_JUSTIFICATION,
      ],
    }),
    contraindication({
      id: 'hsg-ci-iodine-allergy',
      ruleId: 'HSG-C6',
      title: 'Do not perform HSG: iodine allergy',
      description:
        'An active allergy to iodine or iodinated contrast, or a positive iodine sensitivity test (a preliminary one included). HyCoSy (no iodine, no radiation) is proposed instead when nothing else contraindicates it.',
      present: '%ciIodine',
      evidence: '%iodineEvidence',
      reason: coding(SCT, '293637006', 'Allergy to contrast media'),
      procedure,
      documentation: citations('HSG-C6', 'HSG-P3'),
    }),
  ];
}

// ---- scheduling ---------------------------------------------------------------------------------

/** The requests of the study cite the records behind the indication: computed once (%indicationEvidence, on the patency-test group), not per request and element. */
const EVIDENCE_VALUES = evidenceValues('%indicationEvidence');
const INDICATION_VARIABLES = [
  variable(
    'indicationEvidence',
    INDICATION_EVIDENCE,
    'HSG-I1/HSG-I2: the records behind the indication (active infertility; the reversal with no pregnancy one year on), cited by the study requests',
  ),
];

function patencyTestGroup(prefix: string, primary: 'hysterosalpingography' | 'hycosy'): Action {
  const primaryId = `${prefix}-order`;
  const isHsg = primary === 'hysterosalpingography';
  return {
    id: `${prefix}-patency-test`,
    title: 'Tubal patency test (choose one)',
    description: isHsg
      ? 'HSG is preselected; saline hydrotubation (simpler, less accurate) and laparoscopic chromopertubation (gold standard, invasive) are the alternatives the text gives.'
      : 'HyCoSy is preselected (iodine allergy); saline hydrotubation and laparoscopic chromopertubation use no iodinated contrast either.',
    documentation: citations('HSG-ALT1'),
    // On the group whose requests cite it: computed only when a study is actually proposed.
    extension: INDICATION_VARIABLES,
    groupingBehavior: 'logical-group',
    selectionBehavior: 'exactly-one',
    requiredBehavior: 'must',
    action: [
      {
        id: primaryId,
        title: isHsg ? 'Hysterosalpingography 5-7 days after the menses' : 'HyCoSy 5-7 days after the menses (iodine allergy)',
        description: isHsg
          ? 'HSG in the window day 5 to day 7 after the end of bleeding (from today or from the day after the last preparation test when later): the endometrium is repaired but not yet thick (too early: thin, easily damaged; too late: contrast reflux, poor tubal filling).'
          : "HyCoSy replaces HSG because of the iodine allergy; it is scheduled in the same window as HSG because the text's reason for the window (state of the endometrium) holds for any transcervical tubal study.",
        priority: 'routine',
        precheckBehavior: 'yes',
        goalId: ['tubal-patency-known'],
        documentation: isHsg
          ? [
              ...citations('HSG-I1', 'HSG-I2', 'HSG-T1', 'HSG-X1'),
              justify('HSG-T1', 'terminology.md section 1 A10: the text says 5-7 days (the common Chinese norm is 3-7); the text is followed.'),
              MENSES_JUSTIFICATION,
              ...safety('SAFE-5', 'dates'),
            ]
          : [
              ...citations('HSG-C6', 'HSG-T1'),
              justify(
                'HSG-C6',
                'The text names HyCoSy as the test that avoids iodine allergy and radiation (terminology.md section 1 A17: minimally invasive, not non-invasive). Window: our choice, the HSG window.',
              ),
              ...safety('SAFE-8', 'alternative'),
            ],
        definitionCanonical: adCanonical(primary),
        dynamicValue: [...PROCEDURE_DATES, ...EVIDENCE_VALUES],
      },
      {
        id: `${prefix}-hydrotubation`,
        title: 'Alternative: tubal hydrotubation (saline)',
        description: 'Simpler than HSG, but shows no image of the cavity or tubes and cannot tell which side is blocked.',
        precheckBehavior: 'no',
        documentation: citations('HSG-ALT1'),
        definitionCanonical: adCanonical('tubal-hydrotubation'),
        dynamicValue: [...PROCEDURE_DATES, ...EVIDENCE_VALUES],
      },
      {
        id: `${prefix}-laparoscopic-chromopertubation`,
        title: 'Alternative: laparoscopic chromopertubation (gold standard)',
        description: 'Gold standard, can unblock tubes and find other pelvic lesions, but invasive: hospital admission, general anaesthesia, higher cost; not the first choice.',
        precheckBehavior: 'no',
        documentation: [
          ...citations('HSG-ALT1', 'HSG-T1'),
          justify(
            'HSG-ALT1',
            'Safer reading: chromopertubation passes dye through the cervix and uterine cavity like HSG, so it keeps the HSG window (day 5-7 after the end of bleeding, not before the preparation allows), with an end: an open period would let it be booked during the next menses or after a conception in a later cycle (SAFE-8, SAFE-5).',
          ),
          ...safety('SAFE-8', 'alternative'),
        ],
        definitionCanonical: adCanonical('laparoscopic-chromopertubation'),
        dynamicValue: [...PROCEDURE_DATES, ...EVIDENCE_VALUES],
      },
    ],
  };
}

/** On the HyCoSy branch, the patient text of a shared HSG activity rewritten to name HyCoSy (the ActivityDefinition's says HSG). */
function studyText(isHsg: boolean, path: string, text: (study: string) => string): Pick<Action, 'dynamicValue'> {
  return isHsg ? {} : { dynamicValue: [{ path, expression: fhirpath(`'${text('HyCoSy')}'`) }] };
}

/** Preparation, premedication and aftercare around the study (the iodine ones only for HSG: SAFE-8). */
function preparation(prefix: string, isHsg: boolean): Action[] {
  const target = `${prefix}-order`;
  const study = isHsg ? 'HSG' : 'HyCoSy';
  const actions: Action[] = [
    {
      id: `${prefix}-atropine`,
      title: `Atropine IM half an hour before the ${study}`,
      description: 'Antispasmodic premedication against uterine and tubal spasm (a spasm can mimic a blocked tube). Dose per local protocol: the text gives none.',
      documentation: [
        ...citations('HSG-P4'),
        justify('HSG-P4', 'terminology.md section 1 A27: no dose in the source; A11: spasm causes false blockage.'),
        ...(isHsg ? [] : safety('SAFE-8', 'alternative')),
      ],
      relatedAction: [relatedBefore(target, 30)],
      // Its own ActivityDefinition per study: the dosage text names it (a dynamicValue into the dosage would write into the definition's own Dosage).
      definitionCanonical: adCanonical(isHsg ? 'atropine-im-before-hsg' : 'atropine-im-before-hycosy'),
    },
    procedureDayPregnancyTest(prefix, target, 'HSG-C3'),
    {
      id: `${prefix}-instruction-no-intercourse-before`,
      title: `No intercourse from the end of the menses until the ${study}`,
      documentation: citations('HSG-P1'),
      relatedAction: [relatedBefore(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-no-intercourse-before-hsg'),
      ...studyText(isHsg, 'payload[0].contentString', STUDY_TEXTS.noIntercourseBefore),
    },
    {
      id: `${prefix}-instruction-day`,
      title: 'Normal diet on the day; bring pads',
      documentation: citations('HSG-P2'),
      relatedAction: [relatedBefore(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-hsg-day'),
      ...studyText(isHsg, 'payload[0].contentString', STUDY_TEXTS.studyDay),
    },
    {
      id: `${prefix}-instruction-empty-bladder`,
      title: 'Empty the bladder before the procedure',
      documentation: citations('HSG-P5'),
      relatedAction: [relatedBefore(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-empty-bladder'),
    },
    {
      id: `${prefix}-enema`,
      title: 'Cleansing enema before the procedure (constipation)',
      description: 'Only for a constipated patient: active constipation on the problem list, or reported constipation in the last 7 days.',
      documentation: citations('HSG-P5'),
      condition: [
        applicability(
          `%constipation.where(${ACTIVE_CONDITION}).exists() or ${newestHolding('constipationNow', `${RESULT_OK} and value.ofType(boolean) = true`, `${RESULT_OK} and value.ofType(boolean) = false`)}.exists()`,
          'HSG-P5: the patient is constipated',
        ),
      ],
      relatedAction: [relatedBefore(target)],
      definitionCanonical: adCanonical('cleansing-enema'),
    },
    {
      id: `${prefix}-instruction-no-intercourse-after`,
      title: `After the ${study}: no intercourse for one menstrual cycle`,
      documentation: [
        ...citations('HSG-A1'),
        justify('HSG-A1', 'terminology.md section 1 A15: one cycle = until the next menses has finished.'),
        ...(isHsg ? [] : safety('SAFE-8', 'alternative')),
      ],
      relatedAction: [relatedAfterEnd(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-no-intercourse-after-hsg'),
    },
    {
      id: `${prefix}-instruction-no-tub-bath`,
      title: `After the ${study}: no tub bath for one menstrual cycle`,
      documentation: citations('HSG-A1'),
      relatedAction: [relatedAfterEnd(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-no-tub-bath'),
    },
  ];
  if (isHsg) {
    actions.push({
      id: `${prefix}-instruction-conception`,
      title: 'After the HSG: wait one cycle, then try to conceive',
      documentation: [
        ...citations('HSG-A2'),
        justify(
          'HSG-A2',
          'terminology.md section 1 A14: the texts disagree (3 months; "2 to 3 months" in the reversal text); the HSG text\'s expert consensus (one month, then try) is the default; the 3-month advice is not required. Not given after HyCoSy: the advice answers the X-ray exposure and the iodised oil, which HyCoSy does not have.',
        ),
      ],
      relatedAction: [relatedAfterEnd(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-conception-after-hsg'),
    });
  }
  return actions;
}

/** The tests that must be back before the study (SAFE-5): the discharge exam, and the iodine test for HSG. */
function workupItems(isHsg: boolean): Workup[] {
  const items: Workup[] = [
    {
      id: 'leukorrhea-test',
      ad: 'leukorrhea-routine',
      title: 'Vaginal discharge examination before imaging',
      codes: [coding(LOCAL, 'leukorrhea-routine')],
      type: 'Observation',
      lookBack: LOOK_BACK.leukorrhea,
      why: `${LOOK_BACK_WHY.leukorrhea} Ordered when no final normal result of the last 7 days is the newest (none, preliminary, or indeterminate: repeated, SAFE-3); the study goes ahead only if it is normal (an abnormal result contraindicates, HSG-C1).`,
      rule: 'HSG-C1',
      neededVariable: '%leukorrheaNormal.not()',
    },
  ];
  if (isHsg) {
    items.push({
      id: 'iodine-sensitivity-test',
      ad: 'iodine-sensitivity-test',
      title: 'Iodine sensitivity test (must be negative)',
      codes: [coding(LOCAL, 'iodine-sensitivity-test')],
      type: 'Observation',
      lookBack: LOOK_BACK.iodineTest,
      why: `${LOOK_BACK_WHY.iodineTest} It must be negative before imaging (positive = iodine allergy, HSG-C6).`,
      rule: 'HSG-P3',
      neededVariable: `%iodineTests.where(${RESULT_OK} and ${hasCoding('value.coding', SCT, ['260385009'])} and ${effectiveDate}.exists($this >= today() - ${LOOK_BACK.iodineTest} days)).empty()`,
    });
  }
  return items;
}

function schedule(prefix: string, isHsg: boolean): Action[] {
  const items = workupItems(isHsg);
  // All the data the decision needs is required here, so every missing item is asked for at once.
  // Element ids are unique within the PlanDefinition: the HyCoSy group's copies carry its prefix
  // (no expression reads these; they only make the engine collect what is missing).
  const unique = (input: DataRequirement): DataRequirement =>
    isHsg ? input : { ...input, id: `${prefix}${(input.id ?? '').charAt(0).toUpperCase()}${(input.id ?? '').slice(1)}` };
  const inputs: DataRequirement[] = [unique(menstrualDataRequired()), unique(pregnancyStatusRequired())];
  if (isHsg) {
    inputs.push(codeInput('iodineAllergyStatus', 'AllergyIntolerance', vsCodings('vs-iodine-allergy-status', '293637006'), { required: true }));
  }
  return [
    fitnessNotAssessedTask(prefix, 'HSG-C2'),
    {
      id: `${prefix}-timing`,
      title: 'Timing: 5-7 days after the menses are clean',
      description:
        'Needs menstrual data (the LMP start or the end of bleeding), a determinate pregnancy result from the last 7 days' +
        (isHsg ? ' and the iodine allergy history (an iodine allergy or "no known allergy")' : '') +
        '; each is collected when absent, never assumed. The study is dated from day 5 after the menses, or from the day after the last preparation test when that is later, to day 7.',
      documentation: [
        ...citations('HSG-T1', 'HSG-C3'),
        MENSES_JUSTIFICATION,
        PREGNANCY_JUSTIFICATION,
        ...safety('SAFE-5', 'dates'),
        ...(isHsg
          ? [
              ...citations('HSG-C6'),
              justify('HSG-C6', 'The allergy history is required before iodinated contrast; SNOMED 716186003 "no known allergy" records it as clear (terminology.md section C).'),
            ]
          : safety('SAFE-8', 'alternative')),
      ],
      input: inputs,
      // The window state and the study period are needed only here (HSG and HyCoSy exclude each other: computed once).
      extension: [
        ...CYCLE_WINDOW_VARIABLES,
        ...workupNeedVariables(items),
        ...procedurePeriodVariables({
          windowStart: `%bleedingEnd.toDate() + ${WINDOW_START} days`,
          windowEnd: `%bleedingEnd.toDate() + ${WINDOW_END} days`,
          // Work-up results must be back the day before the study.
          earliest: `iif(${anyWorkupNeeded(items)}, today() + 1 day, today())`,
        }),
      ],
      action: [
        pregnancyNotExcludedTask(prefix, 'HSG-C3'),
        {
          id: `${prefix}-window`,
          title: 'The study fits this cycle (up to day 7 after the menses)',
          documentation: [...citations('HSG-T1'), MENSES_JUSTIFICATION, ...safety('SAFE-5', 'dates')],
          condition: [applicability('%procedureFits', `HSG-T1: the end of the menses is known and the study can be dated on or before day ${WINDOW_END}`)],
          action: [
            ...items.map((w) => workupAction(w, prefix, `${prefix}-order`)),
            {
              id: `${prefix}-cleared`,
              title: 'Pregnancy excluded and fit for the procedure',
              description: 'The newest pregnancy result of the last 7 days is a final negative, and the newest fitness assessment of the last 30 days says fit.',
              documentation: [...citations('HSG-C3', 'HSG-C2'), ...safety('SAFE-2', 'pregnancy'), ...safety('SAFE-4', 'fitness'), PREGNANCY_JUSTIFICATION],
              condition: [
                applicability(PREGNANCY_EXCLUDED, 'HSG-C3: the newest pregnancy result of the last 7 days is a final negative'),
                applicability(FIT_CONFIRMED, 'HSG-C2: the newest fitness assessment of the last 30 days says fit'),
              ],
              action: [patencyTestGroup(prefix, isHsg ? 'hysterosalpingography' : 'hycosy'), ...preparation(prefix, isHsg)],
            },
          ],
        },
        ...cycleTasks(prefix, 'HSG-T1', WINDOW_END),
      ],
    },
  ];
}

export const hysterosalpingography = defineProcedure({
  id: 'hysterosalpingography',
  orderCodes: [primaryCode('hysterosalpingography')],
  title: 'Hysterosalpingography (HSG) in the infertility work-up',
  description:
    'Hysterosalpingography for infertility (tubal factor, uterine cavity) or after a tubal reversal without pregnancy: a recent result is used rather than repeated (both tubes blocked: IVF referral), contraindication screen, timing 5-7 days after the menses are clean, iodine sensitivity test, atropine premedication, patient instructions before and after, conception advice, and the alternatives (HyCoSy when iodine allergy, saline hydrotubation, laparoscopic chromopertubation).',
  purpose:
    'Encodes 001_77e565344cb021a4.txt (rules HSG-* of clinical-rules.md, with the safety rules SAFE-2..SAFE-10) so that every HSG proposal is screened, timed and prepared the same way.',
  usage:
    'Apply with the patient record. Results: HSG ServiceRequest with occurrencePeriod = day 5..7 after the end of bleeding (never before today, and after the preparation tests); a doNotPerform HSG request per contraindication (reasonReference = the patient data); an IVF referral when both tubes are known blocked; collect-information Tasks for missing menstrual data, pregnancy status, fitness assessment or iodine allergy history.',
  relatedArtifact: [
    sourceText('hsg'),
    { type: 'documentation', display: 'Rules', citation: 'clinical-rules.md, section Hysterosalpingography (HSG-*) and the safety rules (SAFE-*)' },
  ],
  goal: [
    {
      id: 'tubal-patency-known',
      description: { text: 'Tubal patency and uterine cavity morphology assessed' },
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-priority', code: 'medium-priority' }] },
      documentation: citations('HSG-X1'),
    },
  ],
  action: [
    {
      id: 'hsg',
      title: 'Hysterosalpingography (HSG)',
      description:
        'Indicated for infertility (HSG-I1) or another need to know tubal patency and uterine morphology: here, no pregnancy one year after a tubal reversal (HSG-I2, TR-F1).',
      documentation: [
        ...citations('HSG-I1', 'HSG-I2', 'HSG-X1'),
        justify(
          'HSG-I2',
          'Computable form of "other conditions": a completed tubal reanastomosis at least one year ago with no positive pregnancy result or pregnancy recorded since (TR-F1). Routine HSG soon after a reversal is not advised (TR-A3).',
        ),
      ],
      input: INPUTS,
      extension: [...CYCLE_STATE_VARIABLES, ...PREGNANCY_VARIABLES, ...INFLAMMATION_VARIABLES, ...FITNESS_VARIABLES, ...CI_VARIABLES, ...TUBAL_STATUS_VARIABLES],
      condition: [...patientGate('HSG-I1'), applicability(INDICATED, 'HSG-I1/HSG-I2: active female infertility, or no pregnancy one year after a tubal reversal')],
      action: [
        ...tubalStatusKnown(),
        {
          id: 'hsg-assessment',
          title: 'Tubal status not known: screen, time and prepare the study',
          documentation: [...citations('HSG-I1'), ...safety('SAFE-6', 'doneAlready')],
          condition: [applicability(TUBAL_STATUS_UNKNOWN, 'SAFE-6: no tubal patency study or result of the last 180 days')],
          action: [
            ...hsgContraindications(),
            bleedingNowTask('hsg', 'HSG-C4', 'plan the study 5-7 days after it'),
            menstrualDatesUnusableTask('hsg', 'HSG-T1'),
            {
              id: 'hsg-plan',
              title: 'No contraindication: plan the HSG',
              documentation: citations('HSG-C1', 'HSG-C2', 'HSG-C3', 'HSG-C4', 'HSG-C5', 'HSG-C6'),
              condition: [applicability(`${NO_CI_EXCEPT_IODINE} and %ciIodine.not()`, 'HSG-C1..C6: no contraindication is recorded')],
              action: schedule('hsg', true),
            },
            {
              id: 'hsg-alternative-hycosy',
              title: 'Iodine allergy only: plan HyCoSy instead',
              description:
                'HyCoSy avoids iodinated contrast and radiation. Every other HSG contraindication (inflammation, systemic disease, pregnancy, menstruation, recent delivery/abortion/curettage) rules it out too, and it keeps the discharge exam, the pregnancy check, the window and the aftercare of HSG (SAFE-8).',
              documentation: [
                ...citations('HSG-C6', 'HSG-ALT1'),
                justify(
                  'HSG-C6',
                  'Our reading: HyCoSy removes only the iodine (and radiation) problem; the other contraindications concern instrumentation of the uterine cavity and apply unchanged.',
                ),
                ...safety('SAFE-8', 'alternative'),
              ],
              condition: [applicability(`${NO_CI_EXCEPT_IODINE} and %ciIodine`, 'HSG-C6: iodine allergy is the only contraindication')],
              action: schedule('hycosy', false),
            },
          ],
        },
      ],
    },
    patientSexUnconfirmedTask('hsg', 'HSG-I1'),
  ],
});

export const hysterosalpingographyPlan = hysterosalpingography.plan;
