/**
 * Clinical test cases for the audit findings on the protocol artifacts (session 12): records the
 * protocols must not read as usable (a menses-end without a day, a date after today, a result dated
 * by an instant or a period, an event not dated the expected way, the patient herself). Each case
 * states the safe outcome from the rules (clinical-rules.md HSG-*, HYS-*, TR-*, SAFE-*).
 */
import type { Resource } from '@medplum/fhirtypes';
import { C } from './codes.ts';
import {
  condition,
  daysAfter,
  daysAgo,
  ICD10,
  fitness,
  heavyBleedingNow,
  leukorrhea,
  lmpStart,
  LOCAL,
  mensesEnd,
  pregnancyTest,
  procedure,
  regularity,
  SCT,
  withStatus,
} from './fixtures.ts';
import { record as hsgRecord } from './hysterosalpingography.ts';
import { record as hysRecord } from './infertility-hysteroscopy.ts';
import type { CaseSpec } from './schema.ts';
import { followUp, record as trRecord } from './tubal-reanastomosis.ts';

const HSG_NOW = '2026-03-10T09:00:00Z';
const HYS_NOW = '2026-05-20T09:00:00Z';
const TR_NOW = '2026-07-14T09:00:00Z';

/** The same resource with some elements replaced, and those named in `drop` removed. */
function edited(resource: Resource, changes: Record<string, unknown>, drop: string[] = []): Resource {
  const out = Object.entries({ ...resource, ...changes }).filter(([key]) => !drop.includes(key));
  return Object.fromEntries(out) as unknown as Resource;
}

/** The record with its Patient changed. */
const withPatient = (resources: Resource[], changes: Record<string, unknown>): Resource[] => resources.map((r) => (r.resourceType === 'Patient' ? edited(r, changes) : r));

/** A menses-end record with no value (the date the record was made is not the end of bleeding). */
const mensesEndNoValue = (now: string) => edited(mensesEnd('menses-end', daysAgo(now, 6)), {}, ['valueDateTime']);

/** What the module's menses-end profile says of a record without a value (a server may still hold one). */
const NO_VALUE = ['Observation/menses-end: Missing required property'];

/** The pregnancy test of the procedure day (SAFE-2): a standard pregnancy test, urine or serum hCG. */
const PREGNANCY_TEST_ON_THE_DAY = `${SCT}|252160004`;

/** A final DiagnosticReport that sends its result only as a contained resource (result '#id'), as some labs do. */
function reportWithContainedResult(id: string, date: string, result: Resource): Resource {
  const contained = edited(result, {}, ['subject']);
  return {
    resourceType: 'DiagnosticReport',
    id,
    status: 'final',
    code: (result as { code?: unknown }).code,
    subject: { reference: 'Patient/patient' },
    effectiveDateTime: date,
    contained: [contained],
    result: [{ reference: `#${result.id ?? ''}` }],
  } as Resource;
}

const HSG_NOT_SCHEDULED = [C.hsg, C.hycosy, C.hydrotubation, C.lapChromopertubation, C.atropine, C.iodineTest];
const HYS_NOT_SCHEDULED = [C.hysteroscopy, C.cbc];
const TR_NOT_SCHEDULED = [C.reversalOpen, C.reversalLaparoscopic, C.reversalLapAssisted, C.admission];

export const SAFETY_AUDIT_CASES: CaseSpec[] = [
  // ---- finding 3 / 9 / 12: a menstrual record without a usable day does not open the window ----
  {
    name: 'hsg-menses-end-without-value',
    plan: 'hysterosalpingography',
    description: 'A menses-end record with no value and no LMP: the end of bleeding is unknown, nothing is dated; the end date is collected (SAFE-5, SAFE-10).',
    rules: ['HSG-T1', 'HSG-C4', 'SAFE-5'],
    now: HSG_NOW,
    resources: hsgRecord({ omit: ['menses'], extra: [mensesEndNoValue(HSG_NOW)] }),
    nonConforming: NO_VALUE,
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-menses-end-text-value',
    plan: 'hysterosalpingography',
    description: 'The menses-end is recorded as text ("last week"): not a date, the window is not opened; the end date is collected.',
    rules: ['HSG-T1', 'SAFE-5'],
    now: HSG_NOW,
    resources: hsgRecord({ omit: ['menses'], extra: [edited(mensesEnd('menses-end', daysAgo(HSG_NOW, 6)), { valueString: 'last week' }, ['valueDateTime'])] }),
    nonConforming: [
      'Observation/menses-end: Constraint ip-mend-1 not met: The menses end date SHALL be a valueDateTime',
      'Observation/menses-end: Missing required property',
      'Observation/menses-end: Invalid additional property "valueString"',
    ],
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-menses-end-year-month-only',
    plan: 'hysterosalpingography',
    description:
      'The menses-end is recorded as a month only (2026-03) after an LMP of 12 days ago: the day is unknown, a window from it could lie in the past; the end date is collected.',
    rules: ['HSG-T1', 'SAFE-5'],
    now: HSG_NOW,
    resources: hsgRecord({ omit: ['menses'], extra: [lmpStart('lmp', daysAgo(HSG_NOW, 12)), edited(mensesEnd('menses-end', daysAgo(HSG_NOW, 6)), { valueDateTime: '2026-03' })] }),
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-lmp-year-month-without-end',
    plan: 'hysterosalpingography',
    description: 'Only an LMP recorded as a month (2026-03), no end of bleeding: no usable date, so the end of bleeding is asked for instead of an empty plan (finding 9).',
    rules: ['HSG-T1', 'HSG-C4', 'SAFE-5'],
    now: HSG_NOW,
    resources: hsgRecord({ omit: ['menses'], extra: [edited(lmpStart('lmp', daysAgo(HSG_NOW, 3)), { valueDateTime: '2026-03' })] }),
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-menses-end-after-today',
    plan: 'hysterosalpingography',
    description:
      'Her period started 2 days ago and an end 2 days ahead is recorded: an end after today is not an end yet, she is bleeding now; HSG contraindicated (HSG-C4) and the end of bleeding collected.',
    rules: ['HSG-C4', 'SAFE-10'],
    now: HSG_NOW,
    resources: hsgRecord({ omit: ['menses'], extra: [lmpStart('lmp', daysAgo(HSG_NOW, 2)), mensesEnd('menses-end', daysAgo(HSG_NOW, -2))] }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Observation/lmp'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },
  {
    name: 'hys-menses-end-without-value',
    plan: 'infertility-hysteroscopy',
    description: 'A menses-end record with no value and no LMP: the hysteroscopy is not dated; the end date is collected.',
    rules: ['HYS-T1', 'SAFE-5'],
    now: HYS_NOW,
    resources: hysRecord({ omit: ['menses'], extra: [mensesEndNoValue(HYS_NOW)] }),
    nonConforming: NO_VALUE,
    expect: { notProposed: HYS_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },
  {
    name: 'tr-menses-end-without-value',
    plan: 'tubal-reanastomosis',
    description: 'A menses-end record with no value and no LMP: the reversal is not dated; the end date is collected.',
    rules: ['TR-T1', 'SAFE-5'],
    now: TR_NOW,
    resources: trRecord({ omit: ['menses'], extra: [mensesEndNoValue(TR_NOW)] }),
    nonConforming: NO_VALUE,
    expect: { notProposed: TR_NOT_SCHEDULED, tasks: [C.mensesEnd] },
  },

  // ---- finding 5: results dated by effectiveInstant or effectivePeriod are dated ----
  {
    name: 'hsg-abnormal-discharge-dated-by-instant',
    plan: 'hysterosalpingography',
    description: 'An abnormal vaginal discharge examination of 2 days ago dated by effectiveInstant: it is dated, so it holds the study (HSG-C1, SAFE-3).',
    rules: ['HSG-C1', 'SAFE-3'],
    now: HSG_NOW,
    resources: hsgRecord({
      omit: ['leukorrhea'],
      extra: [edited(leukorrhea('leukorrhea', daysAgo(HSG_NOW, 2), false), { effectiveInstant: `${daysAgo(HSG_NOW, 2)}T08:00:00Z` }, ['effectiveDateTime'])],
    }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Observation/leukorrhea'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-abnormal-discharge-dated-by-period',
    plan: 'hysterosalpingography',
    description:
      'An abnormal vaginal discharge examination dated by effectivePeriod (3 to 2 days ago) after a normal one of 4 days ago: dated at its end, it is the newest and holds the study.',
    rules: ['HSG-C1', 'SAFE-3'],
    now: HSG_NOW,
    resources: hsgRecord({
      omit: ['leukorrhea'],
      extra: [
        leukorrhea('leukorrhea-normal', daysAgo(HSG_NOW, 4), true),
        edited(leukorrhea('leukorrhea', daysAgo(HSG_NOW, 2), false), { effectivePeriod: { start: daysAgo(HSG_NOW, 3), end: daysAgo(HSG_NOW, 2) } }, ['effectiveDateTime']),
      ],
    }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Observation/leukorrhea'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-not-fit-dated-by-instant',
    plan: 'hysterosalpingography',
    description:
      'The clinician assessed "not fit" yesterday, dated by effectiveInstant, after a "fit" 3 days ago: the newest assessment says not fit, HSG contraindicated (HSG-C2, SAFE-4).',
    rules: ['HSG-C2', 'SAFE-4'],
    now: HSG_NOW,
    resources: hsgRecord({ extra: [edited(fitness('not-fit', daysAgo(HSG_NOW, 1), false), { effectiveInstant: `${daysAgo(HSG_NOW, 1)}T10:00:00Z` }, ['effectiveDateTime'])] }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Observation/not-fit'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  // ---- finding 6: HSG-C5 events dated by onset period, recorded date, performed period start, or not at all ----
  {
    name: 'hsg-ci-miscarriage-recorded-date-only',
    plan: 'hysterosalpingography',
    description: 'A miscarriage with no onset, recorded 20 days ago: dated by its recordedDate, within 6 weeks, HSG contraindicated (HSG-C5).',
    rules: ['HSG-C5'],
    now: HSG_NOW,
    resources: hsgRecord({ extra: [condition('miscarriage', SCT, '17369002', 'Miscarriage', { recorded: daysAgo(HSG_NOW, 20), status: 'resolved' })] }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Condition/miscarriage'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-ci-miscarriage-onset-period',
    plan: 'hysterosalpingography',
    description: 'A miscarriage with an onsetPeriod from 50 to 30 days ago: dated at its end, within 6 weeks, HSG contraindicated.',
    rules: ['HSG-C5'],
    now: HSG_NOW,
    resources: hsgRecord({
      extra: [
        edited(condition('miscarriage', SCT, '17369002', 'Miscarriage', { status: 'resolved' }), {
          onsetPeriod: { start: daysAgo(HSG_NOW, 50), end: daysAgo(HSG_NOW, 30) },
        }),
      ],
    }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Condition/miscarriage'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-ci-curettage-period-start-only',
    plan: 'hysterosalpingography',
    description: 'A curettage with a performedPeriod that has a start 10 days ago and no end: dated at its start, within 6 weeks, HSG contraindicated.',
    rules: ['HSG-C5'],
    now: HSG_NOW,
    resources: hsgRecord({
      extra: [edited(procedure('curettage', SCT, '176820000', 'Curettage of uterus', ''), { performedPeriod: { start: daysAgo(HSG_NOW, 10) } }, ['performedDateTime'])],
    }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Procedure/curettage'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-ci-curettage-undated',
    plan: 'hysterosalpingography',
    description: 'A completed curettage recorded with no date at all: it may be recent, so HSG is held (do not perform, citing it) until its date is recorded.',
    rules: ['HSG-C5'],
    now: HSG_NOW,
    resources: hsgRecord({ extra: [edited(procedure('curettage', SCT, '176820000', 'Curettage of uterus', ''), {}, ['performedDateTime'])] }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['Procedure/curettage'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  // ---- finding 7: laparoscopic chromopertubation keeps the HSG window, with an end ----
  {
    name: 'hsg-chromopertubation-in-the-hsg-window',
    plan: 'hysterosalpingography',
    description: 'Day 6 after the menses, everything ready: the laparoscopic chromopertubation alternative is dated in the same day 5-7 window as HSG, start and end (SAFE-8).',
    rules: ['HSG-ALT1', 'HSG-T1', 'SAFE-8'],
    now: HSG_NOW,
    resources: hsgRecord(),
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: { start: daysAgo(HSG_NOW, 0), end: daysAfter(daysAgo(HSG_NOW, 6), 7) } },
        { code: C.lapChromopertubation, occurrencePeriod: { start: daysAgo(HSG_NOW, 0), end: daysAfter(daysAgo(HSG_NOW, 6), 7) } },
      ],
      tasks: [],
    },
  },
  {
    name: 'tr-follow-up-chromopertubation-in-the-hsg-window',
    plan: 'tubal-reanastomosis',
    description:
      'Reversal 13 months ago, no pregnancy: the laparoscopic chromopertubation offered in the follow-up is dated in the HSG window (from tomorrow, after the preparation tests, to day 7).',
    rules: ['TR-F1', 'HSG-ALT1', 'SAFE-8'],
    now: TR_NOW,
    resources: followUp({ sinceDays: 395 }),
    expect: {
      proposed: [{ code: C.lapChromopertubation, occurrencePeriod: { start: daysAfter(daysAgo(TR_NOW, 0), 1), end: daysAfter(daysAgo(TR_NOW, 6), 7) } }],
      tasks: [],
    },
  },
  // ---- finding 9: an undated reversal asks for its date ----
  {
    name: 'tr-follow-up-reversal-without-date',
    plan: 'tubal-reanastomosis',
    description: 'A completed reversal recorded without a date: whether a year has passed cannot be decided; its date is asked for instead of an empty plan (TR-F1).',
    rules: ['TR-F1'],
    now: TR_NOW,
    resources: followUp({ sinceDays: 395 }).map((r) => (r.id === 'reversal' ? edited(r, {}, ['performedDateTime']) : r)),
    expect: { notProposed: [C.hsg, C.lapChromopertubation, C.ivfReferral, ...TR_NOT_SCHEDULED], tasks: [`${LOCAL}|tubal-reanastomosis-date`] },
  },
  {
    name: 'tr-follow-up-reversal-period-start-only',
    plan: 'tubal-reanastomosis',
    description: 'A reversal with a performedPeriod that has only a start 13 months ago: dated at its start, a year has passed without pregnancy, tubal patency is assessed.',
    rules: ['TR-F1'],
    now: TR_NOW,
    resources: followUp({ sinceDays: 395 }).map((r) => (r.id === 'reversal' ? edited(r, { performedPeriod: { start: daysAgo(TR_NOW, 395) } }, ['performedDateTime']) : r)),
    expect: { proposed: [{ code: C.hsg, reasonReference: ['Procedure/reversal'] }], notProposed: [C.ivfReferral, ...TR_NOT_SCHEDULED], tasks: [] },
  },

  // ---- finding 4: a newer record that is not evidence does not hide the one that counts ----
  {
    name: 'hys-heavy-bleeding-not-hidden-by-newer-registered',
    plan: 'infertility-hysteroscopy',
    description:
      'Heavy bleeding observed yesterday (final) and a "not heavy" record of today still registered (no result yet): the registered one is not evidence, the heavy bleeding holds the hysteroscopy (HYS-C2, SAFE-10).',
    rules: ['HYS-C2', 'SAFE-10'],
    now: HYS_NOW,
    resources: hysRecord({
      indication: [condition('aub', SCT, '44991000119100', 'Abnormal uterine bleeding', { onset: '2026-03-01' })],
      extra: [heavyBleedingNow('heavy-bleeding', daysAgo(HYS_NOW, 1), true), withStatus(heavyBleedingNow('not-heavy', daysAgo(HYS_NOW, 0), false), 'registered')],
    }),
    expect: { contraindicated: [{ code: C.hysteroscopy, reasonReference: ['Observation/heavy-bleeding'] }], notProposed: HYS_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hys-heavy-bleeding-not-cleared-by-newer-preliminary',
    plan: 'infertility-hysteroscopy',
    description: 'Heavy bleeding observed yesterday (final) and a preliminary "not heavy" today: a preliminary result never clears (SAFE-10), hysteroscopy contraindicated.',
    rules: ['HYS-C2', 'SAFE-10'],
    now: HYS_NOW,
    resources: hysRecord({
      indication: [condition('aub', SCT, '44991000119100', 'Abnormal uterine bleeding', { onset: '2026-03-01' })],
      extra: [heavyBleedingNow('heavy-bleeding', daysAgo(HYS_NOW, 1), true), withStatus(heavyBleedingNow('not-heavy', daysAgo(HYS_NOW, 0), false), 'preliminary')],
    }),
    expect: { contraindicated: [{ code: C.hysteroscopy, reasonReference: ['Observation/heavy-bleeding'] }], notProposed: HYS_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'tr-irregular-not-hidden-by-newer-registered',
    plan: 'tubal-reanastomosis',
    description: 'Menstruation recorded irregular 10 days ago (final) and a "regular" record of today still registered: the registered one is not evidence; not eligible (TR-I3).',
    rules: ['TR-I3', 'SAFE-10'],
    now: TR_NOW,
    resources: trRecord({
      omit: ['regularity'],
      extra: [regularity('regularity', daysAgo(TR_NOW, 10), false), withStatus(regularity('regularity-new', daysAgo(TR_NOW, 0), true), 'registered')],
    }),
    expect: { contraindicated: [{ code: C.reversalAny, reasonReference: ['Observation/regularity'] }], notProposed: [...TR_NOT_SCHEDULED, C.semen], tasks: [] },
  },

  // ---- finding 10: the patient herself ----
  {
    name: 'hsg-male-patient-no-plan',
    plan: 'hysterosalpingography',
    description: 'A complete HSG record on a patient recorded as male: the protocol is for women, no plan (the applicability condition that fails says so).',
    rules: ['HSG-I1', 'SAFE-7'],
    now: HSG_NOW,
    resources: withPatient(hsgRecord(), { gender: 'male' }),
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-unknown-gender-confirm-sex',
    plan: 'hysterosalpingography',
    description: 'A complete HSG record on a patient whose gender is "unknown": no plan is made, the patient\'s sex is asked to be confirmed (safer than planning or excluding).',
    rules: ['HSG-I1', 'SAFE-7'],
    now: HSG_NOW,
    resources: withPatient(hsgRecord(), { gender: 'unknown' }),
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [`${LOCAL}|patient-sex-confirmed-female`] },
  },
  {
    name: 'hsg-deceased-patient-no-plan',
    plan: 'hysterosalpingography',
    description: 'A complete HSG record on a patient recorded as deceased 9 days ago: no plan.',
    rules: ['HSG-I1', 'SAFE-7'],
    now: HSG_NOW,
    resources: withPatient(hsgRecord(), { deceasedDateTime: daysAgo(HSG_NOW, 9) }),
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hsg-patient-record-replaced-no-plan',
    plan: 'hysterosalpingography',
    description: 'A complete HSG record on a Patient record that is inactive and replaced by another one: the plan belongs on the record in use, none is made here.',
    rules: ['HSG-I1', 'SAFE-7'],
    now: HSG_NOW,
    resources: withPatient(hsgRecord(), { active: false, link: [{ other: { reference: 'Patient/new-id' }, type: 'replaced-by' }] }),
    expect: { notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'hys-male-patient-no-plan',
    plan: 'infertility-hysteroscopy',
    description: 'A complete hysteroscopy record on a patient recorded as male: no plan.',
    rules: ['HYS-I1', 'SAFE-7'],
    now: HYS_NOW,
    resources: withPatient(hysRecord(), { gender: 'male' }),
    expect: { notProposed: HYS_NOT_SCHEDULED, tasks: [] },
  },
  {
    name: 'tr-deceased-patient-no-plan',
    plan: 'tubal-reanastomosis',
    description: 'A complete reversal record on a patient recorded as deceased: no plan.',
    rules: ['TR-I1', 'SAFE-7'],
    now: TR_NOW,
    resources: withPatient(trRecord(), { deceasedBoolean: true }),
    expect: { notProposed: TR_NOT_SCHEDULED, tasks: [] },
  },

  // ---- finding 9: undecided without a reason ----
  {
    name: 'tr-regularity-only-registered',
    plan: 'tubal-reanastomosis',
    description: 'Menstrual regularity recorded only as a registered (not yet final) result: eligibility cannot be decided; the assessment is asked for instead of an empty plan.',
    rules: ['TR-I3', 'SAFE-10'],
    now: TR_NOW,
    resources: trRecord({ omit: ['regularity'], extra: [withStatus(regularity('regularity', daysAgo(TR_NOW, 2), true), 'registered')] }),
    expect: { notProposed: [...TR_NOT_SCHEDULED, C.semen], tasks: [C.regularity] },
  },
  // ---- finding 16: the look-back's negative pregnancy result speaks for today, not for the procedure day ----
  {
    name: 'hsg-pregnancy-test-on-the-procedure-day',
    plan: 'hysterosalpingography',
    description:
      "Day 4 after the menses, negative pregnancy test yesterday: HSG proposed for day 5-7 (up to 3 days ahead), so yesterday's negative does not speak for the day of the study; a pregnancy test dated with the HSG, before it, is part of the preparation (SAFE-2).",
    rules: ['SAFE-2', 'HSG-C3'],
    now: HSG_NOW,
    resources: hsgRecord({ day: 4 }),
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: { start: '2026-03-11', end: '2026-03-13' } },
        { code: PREGNANCY_TEST_ON_THE_DAY, occurrencePeriod: { start: '2026-03-11', end: '2026-03-13' } },
      ],
      tasks: [],
    },
  },
  {
    name: 'hys-irregular-bleeding-pregnancy-test-on-the-procedure-day',
    plan: 'infertility-hysteroscopy',
    description:
      'Irregular bleeding that stopped 25 days ago: the hysteroscopy window has no end (HYS-T1), so the negative pregnancy test of the look-back may be weeks old on the day of the hysteroscopy; a pregnancy test dated with the hysteroscopy, before it, is proposed with it (SAFE-2).',
    rules: ['SAFE-2', 'HYS-C3', 'HYS-T1'],
    now: HYS_NOW,
    resources: hysRecord({ day: 25, indication: [condition('aub', ICD10, 'N93.9', 'Abnormal uterine and vaginal bleeding, unspecified', { onset: '2026-02-01' })] }),
    expect: {
      proposed: [
        { code: C.hysteroscopy, occurrencePeriod: { start: '2026-05-21' } },
        { code: PREGNANCY_TEST_ON_THE_DAY, occurrencePeriod: { start: '2026-05-21' } },
      ],
      tasks: [],
    },
  },
  {
    name: 'tr-pregnancy-test-on-the-surgery-day',
    plan: 'tubal-reanastomosis',
    description:
      'Eligible for reversal on day 4 after the menses, negative pregnancy test on record: the surgery is dated 2-3 days ahead, so a pregnancy test dated with the surgery, before it, is part of the preparation (SAFE-2).',
    rules: ['SAFE-2'],
    now: TR_NOW,
    resources: trRecord(),
    expect: {
      proposed: [
        { code: C.reversalLapAssisted, occurrencePeriod: { start: '2026-07-16', end: '2026-07-17' } },
        { code: PREGNANCY_TEST_ON_THE_DAY, occurrencePeriod: { start: '2026-07-16', end: '2026-07-17' } },
      ],
      contraindicated: [
        { code: C.hydrotubation, reasonReference: [] },
        { code: C.hsg, reasonReference: [] },
      ],
      tasks: [],
    },
  },
  // ---- finding 8: a pregnancy result sent only inside a report (contained, result '#id') ----
  {
    name: 'hsg-ci-pregnancy-positive-contained-in-report',
    plan: 'hysterosalpingography',
    description:
      "A negative pregnancy test yesterday, and today a DiagnosticReport whose positive hCG result is contained in it (result '#hcg-today'): the positive is read on the report and contraindicates HSG, the report cited as the evidence; HyCoSy is not offered either (HSG-C3, SAFE-2).",
    rules: ['HSG-C3', 'SAFE-2'],
    now: HSG_NOW,
    resources: hsgRecord({ extra: [reportWithContainedResult('dr', HSG_NOW.slice(0, 10), pregnancyTest('hcg-today', HSG_NOW.slice(0, 10), 'positive'))] }),
    expect: { contraindicated: [{ code: C.hsg, reasonReference: ['DiagnosticReport/dr'] }], notProposed: HSG_NOT_SCHEDULED, tasks: [] },
  },
];
