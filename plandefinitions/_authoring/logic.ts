/**
 * Logic shared by the protocols: the patient-data inputs and the FHIRPath that reads them. Every
 * expression works over small pre-filtered `%<input>` variables and returns a single Boolean for
 * conditions (written with exists()/empty() so a missing element never yields an empty result).
 */
import type { DataRequirement, Extension } from '@medplum/fhirtypes';
import { citations } from './citations.ts';
import { vsCodings } from './terminology.ts';
import {
  ACTIVE_ALLERGY,
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  asDate,
  codeInput,
  coding,
  effectiveDate,
  hasCoding,
  interpretationAbnormal,
  interpretationNormal,
  justify,
  LOCAL,
  LOINC,
  NOT_REFUTED,
  performedDate,
  PROCEDURE_DONE,
  RESULT_OK,
  SCT,
  variable,
  vsInput,
  windowValues,
  type Action,
} from './common.ts';

// ---- look-backs (the texts give none; each is stated and justified where it is used) ------------

export const LOOK_BACK = {
  pregnancy: 7,
  leukorrhea: 7,
  iodineTest: 7,
  fitness: 30,
  semen: 90,
  routineLabs: 30,
  serology: 90,
  ecg: 30,
  chestXray: 90,
  cervicalSmear: 365,
  exam: 30,
} as const;

export const LOOK_BACK_WHY = {
  pregnancy:
    'Look-back 7 days (the texts give none): a pregnancy test or status older than a week no longer describes the current cycle; the windows end 7-10 days after the menses, so a negative result from the last 7 days covers the cycle in which the procedure is planned. A positive result in the same 7 days contraindicates even when a later one is negative (conservative). No result in 7 days: the status is collected, never assumed.',
  leukorrhea:
    'Look-back 7 days (the texts give none): the HSG text requires a normal vaginal discharge examination "before imaging"; vaginal infection changes within days, so only a result from the last week counts, and the newest one decides.',
  iodineTest: 'Look-back 7 days (the texts give none): the sensitivity test is part of the same pre-HSG preparation as the discharge examination; a negative result from the last week is not repeated. A positive result at any date counts as iodine allergy.',
  fitness:
    'Look-back 30 days (the texts give none): the clinician\'s "fit for the procedure" assessment is a pre-operative assessment, conventionally valid for 30 days; the newest one decides.',
  semen:
    'Look-back 90 days (the text gives none): one spermatogenic cycle takes about 74 days, so a semen analysis older than about 3 months no longer describes current sperm production; the newest result decides.',
  routineLabs: 'Look-back 30 days (the texts give none): pre-operative blood, urine and chemistry results are conventionally accepted for 30 days before surgery.',
  serology: 'Look-back 90 days (the texts give none): infection serology (HBV, HCV, HIV, syphilis) is conventionally accepted for 3 months before an elective procedure.',
  bloodGroup: 'No look-back: the ABO/Rh group does not change, any final result is kept.',
  ecg: 'Look-back 30 days (the text gives none): a pre-operative ECG is conventionally accepted for 30 days.',
  chestXray: 'Look-back 90 days (the text gives none): a chest X-ray from the last 3 months is accepted, which also avoids repeating X-ray exposure before conception (the HSG text counts chest X-rays among the exposures).',
  cervicalSmear: 'Look-back 365 days (the text gives none): a normal cervical smear from the last year is accepted (annual screening interval).',
  exam: 'Look-back 30 days (the text gives none): a pre-operative examination is conventionally valid for 30 days.',
} as const;

// ---- menstrual data (terminology.md section C) ---------------------------------------------------

export const MENSES_INPUTS: DataRequirement[] = [
  vsInput('lastPeriodStart', 'Observation', 'vs-last-menstrual-period'),
  codeInput('mensesEnd', 'Observation', [coding(LOCAL, 'menses-end-date', 'Date menstruation ended')]),
];

/** Required: some menstrual data at all (an LMP start or an end of bleeding); else collect it. */
export const menstrualDataRequired = (): DataRequirement =>
  codeInput('menstrualData', 'Observation', vsCodings('vs-menstrual-data', 'menses-end-date'), { required: true });

/** The newest end-of-bleeding date (a Date). */
const END = `${asDate(`%mensesEnd.where(${RESULT_OK}).value.ofType(dateTime)`)}.max()`;
/** The newest first-day-of-bleeding date (a Date). */
const START = `${asDate(`%lastPeriodStart.where(${RESULT_OK}).value.ofType(dateTime)`)}.max()`;

const HAS_END = `%mensesEnd.where(${RESULT_OK}).exists()`;
const HAS_START = `%lastPeriodStart.where(${RESULT_OK}).exists()`;

/**
 * The menstrual state as named expressions (R4 `variable` extension), declared once on the action
 * that binds the menstrual data and read by every condition and window below it: the same few
 * hundred characters of FHIRPath were otherwise evaluated up to six times per apply. A variable
 * holding a date reaches its readers as text (fhirpath.js returns dates as strings), so they read
 * it back with toDate(), which keeps the recorded precision.
 *
 * Split in two so that a plan which needs "menstruating now" early (a contraindication) but the
 * window state only once the timing is reached can declare each part where it is first needed:
 * CYCLE_WINDOW_VARIABLES read CYCLE_STATE_VARIABLES, so they go on the same action or below it.
 */
export const CYCLE_STATE_VARIABLES: Extension[] = [
  variable('bleedingEnd', END, 'The newest recorded end of bleeding (a date, as text)'),
  variable('bleedingStart', START, 'The newest recorded first day of bleeding (a date, as text)'),
  variable('bleedingNotEnded', `${HAS_START} and (${HAS_END}.not() or %bleedingStart.toDate() > %bleedingEnd.toDate())`, 'The newest period has started and no end of bleeding is recorded after it'),
  variable('menstruatingNow', '(%bleedingNotEnded and %bleedingStart.toDate() >= today() - 7 days)', 'Bleeding started within the last 8 days and has no end'),
];
export const CYCLE_WINDOW_VARIABLES: Extension[] = [
  variable('bleedingEndKnown', `(${HAS_END} and (${HAS_START}.not() or %bleedingEnd.toDate() >= %bleedingStart.toDate()))`, 'The bleeding of the newest period is known to have ended'),
  variable('bleedingEndUnknown', '(%bleedingNotEnded and %bleedingStart.toDate() < today() - 7 days)', 'A period started more than 8 days ago with no recorded end'),
];
export const CYCLE_VARIABLES: Extension[] = [...CYCLE_STATE_VARIABLES, ...CYCLE_WINDOW_VARIABLES];

/** The newest end-of-bleeding date (a Date); only where CYCLE_VARIABLES are in scope, as are the expressions below. */
export const BLEEDING_END = '%bleedingEnd.toDate()';
/** The bleeding of the newest period is known to have ended. */
export const CURRENT_END_KNOWN = '%bleedingEndKnown';
/** Bleeding started within the last 8 days (FIGO: a normal period lasts up to 8 days) and has no end. */
export const MENSTRUATING_NOW = '%menstruatingNow';
/** A period started more than 8 days ago with no recorded end: the end date must be collected. */
export const END_UNKNOWN = '%bleedingEndUnknown';
export const windowOpen = (lastDay: number): string => `(${CURRENT_END_KNOWN} and today() <= ${BLEEDING_END} + ${lastDay} days)`;
export const windowPassed = (lastDay: number): string => `(${CURRENT_END_KNOWN} and today() > ${BLEEDING_END} + ${lastDay} days)`;

export const MENSES_JUSTIFICATION = justify(
  'menstrual state',
  'Windows count from the end of bleeding (LOCAL#menses-end-date; day 1 = the day after it; bounds inclusive; terminology.md section 1 A7/A10/A23: "after menstruation" = after the menses have ended). The newest end date counts when it is on or after the newest LMP start (LOINC 8665-2). An LMP start with no end after it means menstruating now if it began within the last 8 days (FIGO: normal menses last up to 8 days); if it began earlier the end date is unknown and is collected rather than assumed. When the window of the current cycle has passed, the end date of the next menses is collected.',
);

/** Tasks when the cycle cannot be used: the current window passed, or the end of bleeding is unknown. */
export function cycleTasks(prefix: string, lastDay: number | undefined, ruleId: string): Action[] {
  const actions: Action[] = [];
  if (lastDay !== undefined) {
    actions.push({
      id: `${prefix}-window-passed`,
      title: `Window of this cycle has passed: record the end of the next menses`,
      description: `Today is after day ${lastDay} from the end of the last menses, so the procedure cannot be scheduled in this cycle. Record the end date of the next menses and apply the protocol again.`,
      documentation: [...citations(ruleId), justify(ruleId, `Day ${lastDay} is the last day of the window (inclusive); from day ${lastDay + 1} the next cycle is used.`)],
      condition: [applicability(windowPassed(lastDay), `${ruleId}: today is after day ${lastDay} from the end of the last menses`)],
      definitionCanonical: adCanonical('collect-menses-end-date'),
    });
  }
  actions.push({
    id: `${prefix}-menses-end-unknown`,
    title: 'End of the last menses unknown: record it',
    description: 'The last period started more than 8 days ago and no end of bleeding is recorded after it; the window cannot be computed without it.',
    documentation: [...citations(ruleId), MENSES_JUSTIFICATION],
    condition: [applicability(END_UNKNOWN, `${ruleId}: a period started more than 8 days ago with no recorded end`)],
    definitionCanonical: adCanonical('collect-menses-end-date'),
  });
  return actions;
}

export const windowDynamicValues = (startDay: number, endDay?: number): NonNullable<Action['dynamicValue']> => windowValues(BLEEDING_END, startDay, endDay);

// ---- pregnancy -------------------------------------------------------------------------------------

const POSITIVE = ['10828004', '77386006'];
const NEGATIVE = ['260385009', '60001007'];

export const PREGNANCY_INPUTS: DataRequirement[] = [
  vsInput('recentPregnancyTests', 'Observation', 'vs-pregnancy-test-codes', { lookBackDays: LOOK_BACK.pregnancy, newestFirst: true }),
  vsInput('pregnancyConditions', 'Condition', 'vs-pregnancy-condition'),
];

/** Required: a determinate pregnancy result (positive/negative, pregnant/not pregnant) in the look-back. */
export const pregnancyStatusRequired = (): DataRequirement =>
  codeInput('pregnancyStatus', 'Observation', vsCodings('vs-pregnancy-test-codes', '82810-3'), {
    lookBackDays: LOOK_BACK.pregnancy,
    latestOnly: true,
    required: true,
    alsoFilter: { path: 'value', valueSet: 'vs-pregnancy-result' },
  });

const POSITIVE_TEST = `${RESULT_OK} and (${hasCoding('value.coding', SCT, POSITIVE)} or interpretation.coding.exists(code = 'POS'))`;
export const PREGNANCY_EVIDENCE = `%recentPregnancyTests.where(${POSITIVE_TEST}) | %pregnancyConditions.where(${ACTIVE_CONDITION})`;
export const PREGNANT = `(${PREGNANCY_EVIDENCE}).exists()`;
export const PREGNANCY_NEGATIVE = `%pregnancyStatus.where(${RESULT_OK} and ${hasCoding('value.coding', SCT, NEGATIVE)}).exists()`;
export const PREGNANCY_JUSTIFICATION = justify('pregnancy status', LOOK_BACK_WHY.pregnancy);

// ---- other shared inputs and predicates --------------------------------------------------------------

export const SYSTEMIC_INPUTS: DataRequirement[] = [
  vsInput('seriousSystemicDisease', 'Condition', 'vs-serious-systemic-disease'),
  codeInput('fitnessAssessment', 'Observation', [coding(LOCAL, 'fit-for-procedure', 'Clinician assessment: fit for procedure (no serious systemic disease)')], {
    lookBackDays: LOOK_BACK.fitness,
    latestOnly: true,
  }),
];
export const SYSTEMIC_EVIDENCE = `%seriousSystemicDisease.where(${ACTIVE_CONDITION}) | %fitnessAssessment.where(${RESULT_OK} and value.ofType(boolean) = false)`;
export const SYSTEMIC_DISEASE = `(${SYSTEMIC_EVIDENCE}).exists()`;

export const RESULT_ABNORMAL_LATEST = (input: string): string => `%${input}.where(${RESULT_OK}).first().where(${interpretationAbnormal}).exists()`;
export const RESULT_NORMAL_LATEST = (input: string): string => `%${input}.where(${RESULT_OK}).first().where(${interpretationNormal}).exists()`;

export const reanastomosisDate = `${asDate(`%reanastomosis.where(${PROCEDURE_DONE}).select(performed.ofType(dateTime) | performed.ofType(Period).end)`)}.max()`;
/** A reversal was performed at least one year ago and no pregnancy has been recorded since. */
export const NO_PREGNANCY_YEAR_AFTER_REVERSAL =
  `(%reanastomosis.where(${PROCEDURE_DONE}).exists() and ${reanastomosisDate} <= today() - 1 year` +
  ` and %pregnancyTests.where(${POSITIVE_TEST} and ${effectiveDate}.exists($this >= ${reanastomosisDate})).empty()` +
  ` and %pregnancyConditions.where(${NOT_REFUTED} and ${asDate('(onset.ofType(dateTime) | recordedDate)')}.exists($this >= ${reanastomosisDate})).empty())`;

export const REVERSAL_FOLLOW_UP_INPUTS: DataRequirement[] = [
  vsInput('reanastomosis', 'Procedure', 'vs-tubal-reanastomosis'),
  vsInput('pregnancyTests', 'Observation', 'vs-pregnancy-test-codes'),
];

export { ACTIVE_ALLERGY, ACTIVE_CONDITION, NOT_REFUTED, PROCEDURE_DONE, RESULT_OK, effectiveDate, performedDate };
