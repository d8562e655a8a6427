/**
 * Logic shared by the protocols: the patient-data inputs and the FHIRPath that reads them. Every
 * expression works over small pre-filtered `%<input>` variables and returns a single Boolean for
 * conditions (written with exists()/empty() so a missing element never yields an empty result).
 */
import type { Coding, DataRequirement, Extension, RelatedArtifact } from '@medplum/fhirtypes';
import { citations } from './citations.ts';
import { vsCodings } from './terminology.ts';
import {
  ACTIVE_ALLERGY,
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  asDate,
  codeInput,
  computableName,
  coding,
  effectiveDate,
  fhirpath,
  hasCoding,
  interpretationAbnormal,
  interpretationIndeterminate,
  interpretationNormal,
  justify,
  LOCAL,
  NOT_REFUTED,
  performedDate,
  PROCEDURE_DONE,
  relatedBefore,
  typeInput,
  RESULT_HOLDS,
  RESULT_OK,
  SCT,
  variable,
  vsInput,
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
    'Look-back 7 days (the texts give none): a pregnancy test or status older than a week no longer describes the current cycle; the windows end 7-10 days after the menses, so a negative result from the last 7 days clears the decision to plan the procedure in this cycle; the procedure day has its own test (pregnancy-test-procedure-day). A positive result in the same 7 days contraindicates even when a later one is negative (conservative). No result in 7 days: the status is collected, never assumed.',
  leukorrhea:
    'Look-back 7 days (the texts give none): the HSG text requires a normal vaginal discharge examination "before imaging"; vaginal infection changes within days, so only a result from the last week counts, and the newest one decides.',
  iodineTest:
    'Look-back 7 days (the texts give none): the sensitivity test is part of the same pre-HSG preparation as the discharge examination; a negative result from the last week is not repeated. A positive result at any date counts as iodine allergy.',
  fitness:
    'Look-back 30 days (the texts give none): the clinician\'s "fit for the procedure" assessment is a pre-operative assessment, conventionally valid for 30 days; the newest one decides.',
  semen:
    'Look-back 90 days (the text gives none): one spermatogenic cycle takes about 74 days, so a semen analysis older than about 3 months no longer describes current sperm production; the newest result decides.',
  routineLabs: 'Look-back 30 days (the texts give none): pre-operative blood, urine and chemistry results are conventionally accepted for 30 days before surgery.',
  serology: 'Look-back 90 days (the texts give none): infection serology (HBV, HCV, HIV, syphilis) is conventionally accepted for 3 months before an elective procedure.',
  bloodGroup: 'No look-back: the ABO/Rh group does not change, any final result is kept.',
  ecg: 'Look-back 30 days (the text gives none): a pre-operative ECG is conventionally accepted for 30 days.',
  chestXray:
    'Look-back 90 days (the text gives none): a chest X-ray from the last 3 months is accepted, which also avoids repeating X-ray exposure before conception (the HSG text counts chest X-rays among the exposures).',
  cervicalSmear: 'Look-back 365 days (the text gives none): a normal cervical smear from the last year is accepted (annual screening interval).',
  exam: 'Look-back 30 days (the text gives none): a pre-operative examination is conventionally valid for 30 days.',
} as const;

// ---- menstrual data (terminology.md section C) ---------------------------------------------------

export const MENSES_INPUTS: DataRequirement[] = [
  vsInput('lastPeriodStart', 'Observation', 'vs-last-menstrual-period'),
  codeInput('mensesEnd', 'Observation', [coding(LOCAL, 'menses-end-date', 'Date menstruation ended')]),
];

/** Required: some menstrual data at all (an LMP start or an end of bleeding); else collect it. */
export const menstrualDataRequired = (): DataRequirement => codeInput('menstrualData', 'Observation', vsCodings('vs-menstrual-data', 'menses-end-date'), { required: true });

/**
 * The usable menstrual dates of an input (Dates): final results whose value is a date with day
 * precision, not after today. A record without a value, with a text value or with a year-month only
 * cannot date a window (a month would put its start in the past); an end of bleeding after today is
 * not an end yet: she is (or may be) still bleeding (SAFE-10). Such records count as no date.
 */
export const usableMenstrualDates = (input: string): string =>
  `${asDate(`%${input}.where(${RESULT_OK}).value.ofType(dateTime).where(toString().substring(9, 1).exists())`)}.where($this <= today())`;
/** The newest end-of-bleeding date (a Date). */
const END = `${usableMenstrualDates('mensesEnd')}.max()`;
/** The newest first-day-of-bleeding date (a Date). */
const START = `${usableMenstrualDates('lastPeriodStart')}.max()`;

const HAS_END = '%bleedingEnd.exists()';
const HAS_START = '%bleedingStart.exists()';

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
  variable(
    'bleedingNotEnded',
    `${HAS_START} and (${HAS_END}.not() or %bleedingStart.toDate() > %bleedingEnd.toDate())`,
    'The newest period has started and no end of bleeding is recorded after it',
  ),
  variable('menstruatingNow', '(%bleedingNotEnded and %bleedingStart.toDate() >= today() - 7 days)', 'Bleeding started within the last 8 days and has no end'),
  variable(
    'menstrualDatesUnusable',
    '(%lastPeriodStart | %mensesEnd).exists() and %bleedingStart.empty() and %bleedingEnd.empty()',
    'Menstrual data is recorded but none of it gives a usable date (no value, not a full date, after today, or not final)',
  ),
];
export const CYCLE_WINDOW_VARIABLES: Extension[] = [
  variable(
    'bleedingEndKnown',
    `(${HAS_END} and (${HAS_START}.not() or %bleedingEnd.toDate() >= %bleedingStart.toDate()))`,
    'The bleeding of the newest period is known to have ended',
  ),
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

export const MENSES_JUSTIFICATION = justify(
  'menstrual state',
  'Windows count from the end of bleeding (LOCAL#menses-end-date; day 1 = the day after it; bounds inclusive; terminology.md section 1 A7/A10/A23: "after menstruation" = after the menses have ended). The newest end date counts when it is on or after the newest LMP start (LOINC 8665-2). An LMP start with no end after it means menstruating now if it began within the last 8 days (FIGO: normal menses last up to 8 days); if it began earlier the end date is unknown and is collected rather than assumed. When the window of the current cycle has passed, the end date of the next menses is collected.',
);
export const MENSES_DATE_JUSTIFICATION = justify(
  'menstrual dates',
  'Safer reading: only a final result whose value is a calendar day (YYYY-MM-DD, or a dateTime) on or before today dates the cycle. A record with no value, a text value or only a year or month cannot say which day the window starts (a month would let it start in the past); an end of bleeding recorded after today means she is, or may be, still bleeding (SAFE-10). Such a record is treated as no date: the end of bleeding is collected, never assumed.',
);

/** Menstrual data is recorded but gives no usable date: collect the end of bleeding rather than decide nothing (SAFE-5, SAFE-10). */
export function menstrualDatesUnusableTask(prefix: string, ruleId: string): Action {
  return {
    id: `${prefix}-menstrual-dates-unusable`,
    title: 'Menstrual dates not usable: record the end of the last menses',
    description:
      'A menstrual record is on file but none gives a usable day (no value, not a full date, a date after today, or not a final result): the window cannot be dated. Record the end date of the last menses and apply the protocol again.',
    documentation: [...citations(ruleId), ...safety('SAFE-5', 'dates'), MENSES_DATE_JUSTIFICATION],
    condition: [applicability('%menstrualDatesUnusable', `${ruleId}: menstrual data recorded, but no usable date`)],
    definitionCanonical: adCanonical('collect-menses-end-date'),
  };
}

/**
 * Tasks when the cycle cannot be used (procedure period variables in scope): the period of this
 * cycle no longer fits (passed, or too close to be prepared: SAFE-5), or the end of bleeding is
 * unknown. `extraPassedCondition` narrows "no longer fits" (e.g. not because of an age limit).
 */
export function cycleTasks(prefix: string, ruleId: string, lastDay?: number, extraPassedCondition?: string): Action[] {
  return [
    {
      id: `${prefix}-window-passed`,
      title: 'Window of this cycle has passed: record the end of the next menses',
      description:
        (lastDay === undefined ? 'The window of this cycle is over' : `Today is too late in this cycle (the window ends on day ${lastDay} after the menses)`) +
        ', or too close to its end for the preparation that must come first, so the procedure cannot be dated in this cycle. Record the end date of the next menses and apply the protocol again.',
      documentation: [
        ...citations(ruleId),
        ...(lastDay === undefined ? [] : [justify(ruleId, `Day ${lastDay} is the last day of the window (inclusive); from day ${lastDay + 1} the next cycle is used.`)]),
        ...safety('SAFE-5', 'dates'),
      ],
      condition: [
        applicability(
          `${CURRENT_END_KNOWN} and %procedureFits.not()${extraPassedCondition ? ` and ${extraPassedCondition}` : ''}`,
          `${ruleId}: the window of this cycle no longer fits the procedure and its preparation`,
        ),
      ],
      definitionCanonical: adCanonical('collect-menses-end-date'),
    },
    {
      id: `${prefix}-menses-end-unknown`,
      title: 'End of the last menses unknown: record it',
      description: 'The last period started more than 8 days ago and no end of bleeding is recorded after it; the window cannot be computed without it.',
      documentation: [...citations(ruleId), MENSES_JUSTIFICATION],
      condition: [applicability(END_UNKNOWN, `${ruleId}: a period started more than 8 days ago with no recorded end`)],
      definitionCanonical: adCanonical('collect-menses-end-date'),
    },
  ];
}

/** Bleeding now: nothing is dated during the bleeding; the end of bleeding is asked for (SAFE-10). */
export function bleedingNowTask(prefix: string, ruleId: string, what: string): Action {
  return {
    id: `${prefix}-bleeding-now`,
    title: `Bleeding now: record the end of bleeding, then ${what}`,
    description:
      'The newest period started within the last 8 days and has no end date yet: no procedure is dated during the bleeding. Record the end of bleeding and apply the protocol again; the window is counted from it.',
    documentation: [...citations(ruleId), ...safety('SAFE-10', 'bleeding'), MENSES_JUSTIFICATION],
    condition: [applicability(MENSTRUATING_NOW, `${ruleId}: bleeding now (started within 8 days, no end recorded)`)],
    definitionCanonical: adCanonical('collect-menses-end-date'),
  };
}

// ---- the patient herself (SAFE-1, SAFE-7) -------------------------------------------------------------

const SEX_UNCONFIRMED = "%patient.gender.where($this in ('female' | 'male')).empty()";
// Written with exists() so that an absent element gives false, never empty.
const DECEASED = '(%patient.deceased.ofType(boolean).where($this = true).exists() or %patient.deceased.ofType(dateTime).exists())';
const RECORD_NOT_IN_USE = "(%patient.active.where($this = false).exists() or %patient.link.where(type = 'replaced-by').exists())";

export const PATIENT_JUSTIFICATION = justify(
  'SAFE-7',
  'The protocols are for women (each text treats female infertility, the uterine cavity and the fallopian tubes). Reading chosen: a patient recorded as male gets no plan; a deceased patient gets no plan; a record that is inactive or replaced by another record (Patient.link replaced-by) gets no plan, as its data may be incomplete and the plan belongs on the record in use; each time the applicability condition that fails says why (SAFE-7: never an empty result without a reason). Gender absent, "unknown" or "other": safer to confirm than to plan or to exclude, so no plan is made and the patient\'s sex is asked to be confirmed.',
);

/** Applicability of a procedure's top action: a living woman whose record is the one in use. */
export function patientGate(ruleId: string): NonNullable<Action['condition']> {
  return [
    applicability("%patient.gender.where($this = 'female').exists()", `${ruleId}/SAFE-7: the protocol is for women (Patient.gender is female)`),
    applicability(`${DECEASED}.not()`, `${ruleId}/SAFE-7: the patient is not recorded as deceased`),
    applicability(`${RECORD_NOT_IN_USE}.not()`, `${ruleId}/SAFE-7: the patient record is in use (not inactive, not replaced by another record)`),
  ];
}

/** Gender absent, unknown or other on a living patient's record in use: ask for it to be confirmed (the plan is not made until then). */
export function patientSexUnconfirmedTask(prefix: string, ruleId: string): Action {
  return {
    id: `${prefix}-patient-sex-unconfirmed`,
    title: "Confirm the patient's sex: the protocol is for women",
    description: 'The record gives no gender, or "unknown" or "other": the protocol is not applied until it is confirmed that she is a woman (female reproductive organs).',
    documentation: [...citations(ruleId, 'SAFE-7'), PATIENT_JUSTIFICATION],
    condition: [applicability(`${SEX_UNCONFIRMED} and ${DECEASED}.not() and ${RECORD_NOT_IN_USE}.not()`, `${ruleId}/SAFE-7: the patient's sex is not recorded as female or male`)],
    definitionCanonical: adCanonical('collect-patient-sex'),
  };
}

// ---- safety rules read across the three texts (clinical-rules.md SAFE-n) ----------------------------

/**
 * The statement of a binding safety rule, as a justification beside the source sentences it reads
 * together (those are cited with citations('SAFE-n')).
 */
export const SAFETY = {
  pregnancy:
    'SAFE-2: pregnancy excludes all three procedures, reversal included. A positive test (final, amended, corrected or preliminary) in the look-back, pregnancy status "pregnant", or a pregnancy on the problem list (suspected included) contraindicates; only a final negative result newer than any other result of the look-back excludes pregnancy; otherwise the current status is collected (collect-pregnancy-status). Safer reading than "newest decides" (SAFE-10): a positive result of the look-back contraindicates even when a later one is negative (a pregnancy loss is then for the clinician to confirm). A result contained in a report holds (the report is cited) but never clears.',
  inflammation:
    'SAFE-3: acute or subacute genital inflammation (acute PID, endometritis, adnexitis, vaginitis, cervicitis; a suspected one holds too, SAFE-10) or an abnormal vaginal discharge routine in the look-back holds every procedure until treated and rechecked. Results disagreeing: the newest valid one decides and on the same day the abnormal one wins; a preliminary result can hold but never clears; an indeterminate or equivocal result (v3 IND, E) is repeated, not read as abnormal.',
  fitness:
    'SAFE-4: fitness is a gate, the same in all three protocols. "Not fit" (the newest clinician assessment of the look-back says false) or an active serious systemic disease contraindicates; a clinician\'s "fit" never overrides an active serious systemic disease. No assessment: the work-up that informs it is still proposed with a task to record the assessment, and the procedure is not proposed until it says fit.',
  dates:
    'SAFE-5: no order lies in the past. The procedure is offered from its window start or from the first day the preparation allows, whichever is later, to the window end; work-up that prepares it is dated from today to the day before the procedure period starts; when the window of this cycle no longer fits, the next end of bleeding is collected.',
  doneAlready:
    'SAFE-6: a study already done with a result inside its look-back is used, not proposed again; each activity appears once in a plan; every request and Task carries a code.',
  pathway:
    'SAFE-7: the results decide the next step: both tubes blocked -> IVF referral (TR-F2), no new HSG; a cavity abnormality on HSG -> hysteroscopy (HYS-I4). An ineligible patient never gets an empty result: the plan names the rule that excludes her and what is offered instead.',
  alternative:
    'SAFE-8: HyCoSy instead of HSG keeps every check and care of HSG except the iodine ones: discharge exam, pregnancy, not during menses, the 5-7 day window, aftercare HSG-A1.',
  ligation:
    'SAFE-9: when the sterilisation record does not name the method (a method code or an operative note), the operative record is asked for; it informs the expected outcome (TR-O1), not eligibility.',
  bleeding: 'SAFE-10: while she is bleeding no procedure is dated during the bleeding; the plan asks for the end of bleeding so that the window can be dated.',
} as const;
export const safety = (ruleId: string, key: keyof typeof SAFETY): RelatedArtifact[] => [...citations(ruleId), justify(ruleId, SAFETY[key])];

// ---- the verdict of a result read by interpretation (SAFE-3, SAFE-10) --------------------------------

/**
 * Named expressions giving the verdict of a lab panel read by Observation.interpretation (vaginal
 * discharge routine, partner semen analysis) over an input of the look-back: `<name>Abnormal` holds
 * the procedure, `<name>Normal` clears it; neither (none, only preliminary normal, indeterminate newest)
 * means the test is (re)done. Dates are compared as calendar dates, so a same-day pair is a tie and
 * the holding result wins.
 */
export function resultVerdictVariables(input: string, name: string, rule: string): Extension[] {
  const dates = (filter: string): string => `%${input}.where(${filter}).select(${effectiveDate}).max()`;
  const d = (v: string): string => `%${name}${v}.toDate()`;
  return [
    variable(`${name}AbnormalDate`, dates(`${RESULT_HOLDS} and ${interpretationAbnormal}`), `${rule}: date of the newest abnormal result (preliminary included)`),
    variable(`${name}IndeterminateDate`, dates(`${RESULT_HOLDS} and ${interpretationIndeterminate}`), `${rule}: date of the newest indeterminate result`),
    variable(`${name}NormalDate`, dates(`${RESULT_OK} and ${interpretationNormal}`), `${rule}: date of the newest final normal result`),
    variable(
      `${name}Abnormal`,
      `%${name}AbnormalDate.exists() and (%${name}NormalDate.empty() or ${d('AbnormalDate')} >= ${d('NormalDate')})`,
      `${rule}: the newest result is abnormal (the abnormal one wins a same-day tie)`,
    ),
    variable(
      `${name}Normal`,
      `%${name}NormalDate.exists() and (%${name}AbnormalDate.empty() or ${d('NormalDate')} > ${d('AbnormalDate')}) and (%${name}IndeterminateDate.empty() or ${d('NormalDate')} > ${d('IndeterminateDate')})`,
      `${rule}: the newest result is a final normal one`,
    ),
  ];
}
/** The results behind `<name>Abnormal`: the abnormal ones of the newest abnormal day. */
export const verdictAbnormalEvidence = (input: string, name: string): string =>
  `%${input}.where(${RESULT_HOLDS} and ${interpretationAbnormal} and ${effectiveDate}.exists($this = %${name}AbnormalDate.toDate()))`;

// ---- pregnancy (SAFE-2) ------------------------------------------------------------------------------

const POSITIVE = ['10828004', '77386006'];
const NEGATIVE = ['260385009', '60001007'];

export const PREGNANCY_INPUTS: DataRequirement[] = [
  vsInput('recentPregnancyTests', 'Observation', 'vs-pregnancy-test-codes', { lookBackDays: LOOK_BACK.pregnancy, newestFirst: true }),
  vsInput('pregnancyConditions', 'Condition', 'vs-pregnancy-condition'),
  // Any report of the look-back: a lab may send the hCG result only inside it (contained, result '#id'),
  // and the report itself may carry a panel code that names no pregnancy test.
  typeInput('recentReports', 'DiagnosticReport', { lookBackDays: LOOK_BACK.pregnancy, newestFirst: true }),
];

/** Required: a determinate pregnancy result (positive/negative, pregnant/not pregnant) in the look-back. */
export const pregnancyStatusRequired = (): DataRequirement =>
  codeInput('pregnancyStatus', 'Observation', vsCodings('vs-pregnancy-test-codes', '82810-3'), {
    lookBackDays: LOOK_BACK.pregnancy,
    newestFirst: true,
    required: true,
    alsoFilter: { path: 'value', valueSet: 'vs-pregnancy-result' },
  });

const POSITIVE_TEST = `${RESULT_HOLDS} and (${hasCoding('value.coding', SCT, POSITIVE)} or interpretation.coding.exists(code = 'POS'))`;
const NEGATIVE_TEST = `${RESULT_OK} and ${hasCoding('value.coding', SCT, NEGATIVE)}`;
/** A report that can be read: not cancelled, not entered-in-error (SAFE-10). */
const REPORT_USABLE = "(status in ('cancelled' | 'entered-in-error')).not()";
const PREGNANCY_TEST_CODES = vsCodings('vs-pregnancy-test-codes');
/** The pregnancy results contained in a report (read on the report: a contained resource is not in the patient data). */
const CONTAINED_PREGNANCY_TESTS = `contained.ofType(Observation).where(${PREGNANCY_TEST_CODES.map((c) => hasCoding('code.coding', c.system, [c.code])).join(' or ')})`;
/** Reports holding a positive pregnancy result: the report is the evidence cited (its contained result has no reference of its own). */
const REPORTS_WITH_POSITIVE = `%recentReports.where(${REPORT_USABLE} and ${CONTAINED_PREGNANCY_TESTS}.where(${POSITIVE_TEST}).exists())`;
export const PREGNANCY_EVIDENCE = `%recentPregnancyTests.where(${POSITIVE_TEST}) | ${REPORTS_WITH_POSITIVE} | %pregnancyConditions.where(${ACTIVE_CONDITION})`;
/** Declared on the protocol's top action: %pregnant (a contraindication) and %pregnancyExcluded (the gate). */
export const PREGNANCY_VARIABLES: Extension[] = [
  variable('pregnant', `(${PREGNANCY_EVIDENCE}).exists()`, 'SAFE-2: a positive pregnancy result in the look-back or a pregnancy on the problem list'),
  variable('pregnancyNegativeDate', `%recentPregnancyTests.where(${NEGATIVE_TEST}).select(${effectiveDate}).max()`, 'SAFE-2: date of the newest final negative pregnancy result'),
  variable(
    'pregnancyOtherDate',
    `(%recentPregnancyTests | %recentReports.where(${REPORT_USABLE}).select(${CONTAINED_PREGNANCY_TESTS})).where(${RESULT_HOLDS} and (${NEGATIVE_TEST}).not()).select(${effectiveDate}).max()`,
    'SAFE-2: date of the newest result that is not a final negative (results contained in a report included)',
  ),
  variable(
    'pregnancyExcluded',
    '%pregnant.not() and %pregnancyNegativeDate.exists() and (%pregnancyOtherDate.empty() or %pregnancyNegativeDate.toDate() > %pregnancyOtherDate.toDate())',
    'SAFE-2: the newest pregnancy result of the look-back is a final negative and nothing else says pregnant',
  ),
];
export const PREGNANT = '%pregnant';
export const PREGNANCY_EXCLUDED = '%pregnancyExcluded';
export const PREGNANCY_JUSTIFICATION = justify('pregnancy status', LOOK_BACK_WHY.pregnancy);

/** A pregnancy result is on record but does not exclude pregnancy: ask for a current one. */
export function pregnancyNotExcludedTask(prefix: string, ruleId: string): Action {
  return {
    id: `${prefix}-pregnancy-not-excluded`,
    title: 'Pregnancy not excluded: record a current pregnancy test',
    description:
      'The newest pregnancy result of the last 7 days is not a final negative (preliminary, indeterminate, or older than another result): the procedure waits for a current final negative result.',
    documentation: [...citations(ruleId), ...safety('SAFE-2', 'pregnancy'), PREGNANCY_JUSTIFICATION],
    condition: [applicability(`${PREGNANCY_EXCLUDED}.not()`, `SAFE-2: the newest pregnancy result of the last 7 days is not a final negative`)],
    definitionCanonical: adCanonical('collect-pregnancy-status'),
  };
}

/**
 * The pregnancy test of the procedure day (SAFE-2), in the preparation of every proposed procedure:
 * the look-back's negative result clears the decision made today, but the window may open days or
 * (hysteroscopy after irregular bleeding) weeks later. Dated with the procedure, before it.
 */
export function procedureDayPregnancyTest(prefix: string, procedureActionId: string, ruleId: string): Action {
  return {
    id: `${prefix}-pregnancy-test-procedure-day`,
    title: 'Pregnancy test on the day of the procedure, before it',
    description: 'Urine or serum hCG on the procedure day (or within 24 hours before it), dated with the procedure: the procedure goes ahead only when it is negative.',
    documentation: [
      ...citations(ruleId),
      justify(
        'SAFE-2',
        'Safer reading of SAFE-2 (a negative counts only if recent enough to speak for today): the look-back negative speaks for the decision day, not for a procedure days or weeks later, so each proposed procedure has a pregnancy test on its own day (derived step, terminology.md AD-PREGTEST).',
      ),
    ],
    relatedAction: [relatedBefore(procedureActionId)],
    definitionCanonical: adCanonical('pregnancy-test-procedure-day'),
    dynamicValue: PROCEDURE_DATES,
  };
}

// ---- acute genital inflammation (SAFE-3) ---------------------------------------------------------------

export const INFLAMMATION_INPUTS: DataRequirement[] = [
  vsInput('acuteGenitalInflammation', 'Condition', 'vs-genital-inflammation-acute'),
  codeInput('recentLeukorrhea', 'Observation', [coding(LOCAL, 'leukorrhea-routine', 'Vaginal discharge routine examination (leukorrhea routine)')], {
    lookBackDays: LOOK_BACK.leukorrhea,
    newestFirst: true,
  }),
];
export const INFLAMMATION_EVIDENCE = `%acuteGenitalInflammation.where(${ACTIVE_CONDITION})`;
export const INFLAMMATION_VARIABLES: Extension[] = [
  variable('acuteInflammation', `${INFLAMMATION_EVIDENCE}.exists()`, 'SAFE-3: an acute or subacute genital inflammation is recorded (suspected included)'),
  ...resultVerdictVariables('recentLeukorrhea', 'leukorrhea', 'SAFE-3'),
];
export const LEUKORRHEA_EVIDENCE = verdictAbnormalEvidence('recentLeukorrhea', 'leukorrhea');

// ---- fitness for the procedure (SAFE-4) -----------------------------------------------------------------

export const SYSTEMIC_INPUTS: DataRequirement[] = [
  vsInput('seriousSystemicDisease', 'Condition', 'vs-serious-systemic-disease'),
  codeInput('fitnessAssessment', 'Observation', [coding(LOCAL, 'fit-for-procedure', 'Clinician assessment: fit for procedure (no serious systemic disease)')], {
    lookBackDays: LOOK_BACK.fitness,
    newestFirst: true,
  }),
];
const NOT_FIT_TEST = `${RESULT_HOLDS} and value.ofType(boolean) = false`;
/** Declared on the protocol's top action: %notFit (a contraindication) and %fitConfirmed (the gate). */
export const FITNESS_VARIABLES: Extension[] = [
  variable('notFitDate', `%fitnessAssessment.where(${NOT_FIT_TEST}).select(${effectiveDate}).max()`, 'SAFE-4: date of the newest "not fit" assessment'),
  variable(
    'fitDate',
    `%fitnessAssessment.where(${RESULT_OK} and value.ofType(boolean) = true).select(${effectiveDate}).max()`,
    'SAFE-4: date of the newest final "fit" assessment',
  ),
  variable(
    'notFit',
    `%seriousSystemicDisease.where(${ACTIVE_CONDITION}).exists() or (%notFitDate.exists() and (%fitDate.empty() or %notFitDate.toDate() >= %fitDate.toDate()))`,
    'SAFE-4: an active serious systemic disease, or the newest assessment says not fit',
  ),
  variable('fitConfirmed', '%notFit.not() and %fitDate.exists()', 'SAFE-4: the newest assessment says fit and no serious systemic disease is active'),
];
export const SYSTEMIC_EVIDENCE = `%seriousSystemicDisease.where(${ACTIVE_CONDITION}) | %fitnessAssessment.where(${NOT_FIT_TEST} and ${effectiveDate}.exists($this = %notFitDate.toDate()))`;
export const NOT_FIT = '%notFit';
export const FIT_CONFIRMED = '%fitConfirmed';
export const FITNESS_JUSTIFICATION = justify('fitness', LOOK_BACK_WHY.fitness);

/** No assessment yet: ask for it (the work-up that informs it is proposed beside this task). */
export function fitnessNotAssessedTask(prefix: string, ruleId: string): Action {
  return {
    id: `${prefix}-fitness-not-assessed`,
    title: 'Record the clinician fitness assessment',
    description:
      'No assessment of fitness for the procedure in the last 30 days: record it (the work-up that informs it is proposed); the procedure is not proposed until it says fit.',
    documentation: [...citations(ruleId), ...safety('SAFE-4', 'fitness'), FITNESS_JUSTIFICATION],
    condition: [applicability(`${FIT_CONFIRMED}.not()`, 'SAFE-4: no fitness assessment in the last 30 days says fit')],
    definitionCanonical: adCanonical('collect-fitness-assessment'),
  };
}

// ---- procedure dates (SAFE-5) ---------------------------------------------------------------------------

export interface ProcedurePeriodSpec {
  /** First day of the window (a Date expression; cycle variables in scope). */
  windowStart: string;
  /** Last day of the window; omitted or empty = no end. */
  windowEnd?: string;
  /** The first day an order can be dated: today, or later when work-up or admission comes first. */
  earliest: string;
  /** The last day the procedure is allowed on at all (e.g. the day before the 40th birthday). */
  lastAllowed?: string;
}

/**
 * The procedure period as named expressions, shared by the protocols: %procedureStart (the later of
 * the window start and the earliest day), %procedureEnd (the window end, or the last allowed day if
 * earlier) and %procedureFits (the period is not empty). Orders read them instead of re-computing
 * windows, so no order is dated in the past and work-up always ends before the procedure starts.
 */
export function procedurePeriodVariables(spec: ProcedurePeriodSpec): Extension[] {
  const out: Extension[] = [
    variable('procedureEarliest', spec.earliest, 'SAFE-5: the first day an order can be dated'),
    variable(
      'procedureStart',
      `iif(${CURRENT_END_KNOWN}, (${spec.windowStart} | %procedureEarliest.toDate()).max(), {})`,
      'SAFE-5: the window start, or the earliest day if later',
    ),
    variable('windowEnd', spec.windowEnd ?? '{}', 'The last day of the window of this cycle (none: no end)'),
  ];
  out.push(
    variable(
      'procedureEnd',
      spec.lastAllowed ? `iif(%windowEnd.exists(), (%windowEnd.toDate() | ${spec.lastAllowed}).min(), ${spec.lastAllowed})` : '%windowEnd',
      spec.lastAllowed ? 'SAFE-5: the window end, or the last allowed day if earlier' : 'SAFE-5: the window end',
    ),
    variable(
      'procedureFits',
      'iif(%procedureStart.exists() and (%procedureEnd.empty() or %procedureStart.toDate() <= %procedureEnd.toDate()), true, false)',
      'SAFE-5: the period from the procedure start to its end is not empty',
    ),
  );
  return out;
}

/** occurrencePeriod of the procedure itself. */
export const PROCEDURE_DATES: NonNullable<Action['dynamicValue']> = [
  { path: 'occurrencePeriod.start', expression: fhirpath('%procedureStart.toDate()') },
  { path: 'occurrencePeriod.end', expression: fhirpath('%procedureEnd.toDate()') },
];
/** occurrencePeriod of work-up that prepares the procedure: from today to the day before it starts (open when it cannot be dated yet). */
export const WORKUP_DATES: NonNullable<Action['dynamicValue']> = [
  { path: 'occurrencePeriod.start', expression: fhirpath('today()') },
  { path: 'occurrencePeriod.end', expression: fhirpath('iif(%procedureFits, %procedureStart.toDate() - 1 day, {})') },
];

// ---- work-up ordered only when no valid recent result is on record ---------------------------------------

export interface Workup {
  id: string;
  ad: string;
  title: string;
  codes: Coding[];
  type: 'Observation' | 'Procedure';
  lookBack?: number;
  why: string;
  rule: string;
  /** The name of a named expression that already says whether the test is needed (e.g. a verdict). */
  neededVariable?: string;
}

/** Input and variable names of a work-up item: its kebab-case id in PascalCase, as artifact names are. */
const pascal = computableName;

/** The input and named expression `%need<Id>` of a work-up item, declared where the procedure dates are. */
export function workupInputs(items: Workup[]): DataRequirement[] {
  return items.filter((w) => !w.neededVariable).map((w) => codeInput(`recent${pascal(w.id)}`, w.type, w.codes));
}
export function workupNeedVariables(items: Workup[]): Extension[] {
  return items.map((w) => {
    if (w.neededVariable) return variable(`need${pascal(w.id)}`, w.neededVariable, `${w.rule}: ${w.title.toLowerCase()} needed`);
    const done = w.type === 'Observation' ? RESULT_OK : PROCEDURE_DONE;
    const dated = w.type === 'Observation' ? effectiveDate : performedDate;
    const input = `recent${pascal(w.id)}`;
    const recent = w.lookBack === undefined ? `%${input}.where(${done})` : `%${input}.where(${done} and ${dated}.exists($this >= today() - ${w.lookBack} days))`;
    return variable(
      `need${pascal(w.id)}`,
      `${recent}.empty()`,
      `${w.rule}: no ${w.title.toLowerCase()} ${w.lookBack === undefined ? 'on record' : `in the last ${w.lookBack} days`}`,
    );
  });
}
/** True when any of the work-up items is needed (the procedure then starts a day later at the earliest). */
export const anyWorkupNeeded = (items: Workup[]): string => `(${items.map((w) => `%need${pascal(w.id)}`).join(' or ')})`;

/** A work-up order: proposed when needed, dated from today to the day before the procedure (SAFE-5). */
export function workupAction(w: Workup, prefix: string, procedureActionId: string): Action {
  return {
    id: `${prefix}-${w.id}`,
    title: w.title,
    description:
      (w.neededVariable
        ? 'Ordered when no valid recent result clears it.'
        : w.lookBack === undefined
          ? 'Ordered when no result is on record.'
          : `Ordered when no result from the last ${w.lookBack} days is on record.`) + ' Dated from today to the day before the procedure period starts.',
    documentation: [...citations(w.rule), justify(w.rule, w.why), ...safety('SAFE-5', 'dates')],
    condition: [applicability(`%need${pascal(w.id)}`, `${w.rule}: ${w.title.toLowerCase()} needed (no valid recent result)`)],
    // The structural link for CPG consumers; the dates themselves come from the procedure period.
    relatedAction: [{ actionId: procedureActionId, relationship: 'before-start' }],
    definitionCanonical: adCanonical(w.ad),
    dynamicValue: WORKUP_DATES,
  };
}

/** The date of the newest completed reversal (performedDateTime, or performedPeriod: end, else start). */
export const reanastomosisDate = `%reanastomosis.where(${PROCEDURE_DONE}).select(${performedDate}).max()`;
/** A completed reversal is recorded but none of them has a date: the follow-up cannot be counted. */
export const REVERSAL_UNDATED = `(%reanastomosis.where(${PROCEDURE_DONE}).exists() and ${reanastomosisDate}.empty())`;
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
