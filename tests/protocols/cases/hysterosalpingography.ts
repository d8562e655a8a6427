/**
 * Clinical test cases for the hysterosalpingography protocol. Expectations come from the rules
 * (clinical-rules.md HSG-*, SAFE-*), not from engine output. Windows: day 5..7 after the end of
 * bleeding, day 1 = the day after the menses-end date, never before today, and from tomorrow when
 * a preparation test (discharge exam, iodine test) must be done first (SAFE-5).
 */
import type { Resource } from '@medplum/fhirtypes';
import { C, HSG_PREPARATION, HYCOSY_PREPARATION } from './codes.ts';
import {
  allergy,
  birthDateFor,
  condition,
  constipationNow,
  daysAfter,
  laterDate,
  daysAgo,
  fitness,
  ICD10,
  iodineTest,
  LOCAL,
  leukorrhea,
  lmpStart,
  mensesEnd,
  noKnownAllergy,
  patient,
  period,
  pregnancyStatus,
  pregnancyTest,
  procedure,
  SCT,
  tubalPatency,
  withStatus,
} from './fixtures.ts';
import type { CaseSpec, Expect } from './schema.ts';

const NOW = '2026-03-10T09:00:00Z';
const TODAY = NOW.slice(0, 10);
const plan = 'hysterosalpingography' as const;

const infertility = () => condition('infertility', SCT, '6738008', 'Female infertility', { onset: '2025-01-01' });

export interface Options {
  now?: string;
  /** Today is day `day` after the end of the menses. */
  day?: number;
  omit?: ('infertility' | 'pregnancy' | 'allergy' | 'menses' | 'leukorrhea' | 'iodine' | 'fitness')[];
  extra?: Resource[];
}

/** An infertile woman of 33 with everything HSG needs recorded and normal (assessed fit 3 days ago). */
export function record(o: Options = {}): Resource[] {
  const now = o.now ?? NOW;
  const omit = new Set(o.omit ?? []);
  const r: Resource[] = [patient(birthDateFor(now, 33, 100))];
  if (!omit.has('infertility')) r.push(infertility());
  if (!omit.has('menses')) r.push(...period('menses', daysAgo(now, o.day ?? 6)));
  if (!omit.has('pregnancy')) r.push(pregnancyTest('hcg', daysAgo(now, 1), 'negative'));
  if (!omit.has('allergy')) r.push(noKnownAllergy());
  if (!omit.has('leukorrhea')) r.push(leukorrhea('leukorrhea', daysAgo(now, 2), true));
  if (!omit.has('iodine')) r.push(iodineTest('iodine-test', daysAgo(now, 2), false));
  if (!omit.has('fitness')) r.push(fitness('fitness', daysAgo(now, 3), true));
  return [...r, ...(o.extra ?? [])];
}

/** Day 5..7 after the menses that ended on `end`; not before today, nor before tomorrow when a preparation test is pending (`lead` 1). */
const windowFrom = (end: string, now = NOW, lead = 0) => ({ start: laterDate(daysAfter(end, 5), daysAfter(now.slice(0, 10), lead)), end: daysAfter(end, 7) });
const hsgProposed = (day = 6, now = NOW, lead = 0) => ({ code: C.hsg, occurrencePeriod: windowFrom(daysAgo(now, day), now, lead) });

/** Everything a scheduled HSG brings (window on day `day`). */
function scheduled(day = 6, now = NOW): Expect {
  return {
    proposed: [
      hsgProposed(day, now),
      { code: C.hydrotubation, occurrencePeriod: windowFrom(daysAgo(now, day), now) },
      { code: C.lapChromopertubation },
      ...HSG_PREPARATION.map((code) => ({ code })),
    ],
    notProposed: [C.hycosy, C.leukorrhea, C.iodineTest, C.enema],
    tasks: [],
  };
}

const notScheduled = [C.hsg, C.hycosy, C.hydrotubation, C.lapChromopertubation, C.atropine, C.iodineTest];
const ci = (reasonReference: string[]) => ({ code: C.hsg, reasonReference });

export const HSG_CASES: CaseSpec[] = [
  {
    name: 'hsg-infertility-day-6-all-ready',
    plan,
    description:
      'Infertile woman, day 6 after the menses, negative pregnancy test, no known allergy, normal discharge and negative iodine test this week: HSG on day 5-7 with atropine, instructions, aftercare and the alternatives.',
    rules: ['HSG-I1', 'HSG-T1', 'HSG-P1', 'HSG-P2', 'HSG-P3', 'HSG-P4', 'HSG-P5', 'HSG-A1', 'HSG-A2', 'HSG-ALT1', 'HSG-X1', 'HSG-C1'],
    now: NOW,
    resources: record(),
    expect: { ...scheduled(), proposed: [{ ...hsgProposed(), reasonReference: ['Condition/infertility'] }, ...scheduled().proposed!.slice(1)] },
    example: true,
  },
  {
    name: 'hsg-window-day-4-before',
    plan,
    description: 'Day 4 after the menses (the day before the window): HSG proposed for day 5-7 ahead.',
    rules: ['HSG-T1'],
    now: NOW,
    resources: record({ day: 4 }),
    expect: scheduled(4),
  },
  {
    name: 'hsg-window-day-5-first',
    plan,
    description: 'Day 5 after the menses (first day of the window): HSG proposed.',
    rules: ['HSG-T1'],
    now: NOW,
    resources: record({ day: 5 }),
    expect: scheduled(5),
  },
  {
    name: 'hsg-window-day-7-last',
    plan,
    description: 'Day 7 after the menses (last day of the window): HSG still proposed.',
    rules: ['HSG-T1'],
    now: NOW,
    resources: record({ day: 7 }),
    expect: scheduled(7),
  },
  {
    name: 'hsg-window-day-8-after',
    plan,
    description: 'Day 8 after the menses (the day after the window): no HSG this cycle; the end of the next menses is collected.',
    rules: ['HSG-T1'],
    now: NOW,
    resources: record({ day: 8 }),
    expect: { notProposed: notScheduled, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-not-indicated-no-infertility',
    plan,
    description: 'No infertility and no tubal reversal: HSG not indicated, nothing proposed, nothing collected.',
    rules: ['HSG-I1', 'HSG-I2'],
    now: NOW,
    resources: record({ omit: ['infertility'] }),
    expect: { notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-reversal-13-months-no-pregnancy',
    plan,
    description: 'No infertility diagnosis, but a tubal reanastomosis 13 months ago and no pregnancy since: HSG indicated (other need to know tubal patency).',
    rules: ['HSG-I2', 'TR-F1'],
    now: NOW,
    resources: record({
      omit: ['infertility'],
      extra: [procedure('reversal', LOCAL, 'tubal-reanastomosis-open-microsurgical', 'Open microsurgical tubal reanastomosis', daysAgo(NOW, 395))],
    }),
    expect: { ...scheduled(), proposed: [{ ...hsgProposed(), reasonReference: ['Procedure/reversal'] }, ...scheduled().proposed!.slice(1)] },
  },
  {
    name: 'hsg-reversal-pregnant-since',
    plan,
    description: 'Tubal reanastomosis 13 months ago with a positive pregnancy test 6 months ago (the current test is negative): no HSG.',
    rules: ['HSG-I2'],
    now: NOW,
    resources: record({
      omit: ['infertility'],
      extra: [
        procedure('reversal', LOCAL, 'tubal-reanastomosis-open-microsurgical', 'Open microsurgical tubal reanastomosis', daysAgo(NOW, 395)),
        pregnancyTest('hcg-old', daysAgo(NOW, 180), 'positive'),
      ],
    }),
    expect: { notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-acute-pelvic-inflammatory-disease',
    plan,
    description: 'Active acute pelvic inflammatory disease: HSG contraindicated, no alternative.',
    rules: ['HSG-C1'],
    now: NOW,
    resources: record({ extra: [condition('pid', SCT, '237037006', 'Acute pelvic inflammatory disease', { onset: daysAgo(NOW, 4) })] }),
    expect: { contraindicated: [ci(['Condition/pid'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-acute-vaginitis-icd10',
    plan,
    description: 'Active acute vaginitis coded in ICD-10 (N76.0): HSG contraindicated.',
    rules: ['HSG-C1'],
    now: NOW,
    resources: record({ extra: [condition('vaginitis', ICD10, 'N76.0', 'Acute vaginitis', { onset: daysAgo(NOW, 3) })] }),
    expect: { contraindicated: [ci(['Condition/vaginitis'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-resolved-vaginitis-not-contraindicated',
    plan,
    description: 'A vaginitis that is resolved does not contraindicate: HSG proposed.',
    rules: ['HSG-C1'],
    now: NOW,
    resources: record({ extra: [condition('vaginitis', SCT, '30800001', 'Vaginitis', { onset: daysAgo(NOW, 60), status: 'resolved' })] }),
    expect: scheduled(),
  },
  {
    name: 'hsg-ci-abnormal-leukorrhea',
    plan,
    description: 'The vaginal discharge examination of two days ago is abnormal: HSG contraindicated until it is normal.',
    rules: ['HSG-C1'],
    now: NOW,
    resources: record({ omit: ['leukorrhea'], extra: [leukorrhea('leukorrhea', daysAgo(NOW, 2), false)] }),
    expect: { contraindicated: [ci(['Observation/leukorrhea'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-leukorrhea-and-iodine-test-missing',
    plan,
    description:
      'Day 6 after the menses, no discharge examination and no iodine test on record: both are ordered today (never in the past), and the HSG is proposed from tomorrow to day 7 (SAFE-5).',
    rules: ['HSG-C1', 'HSG-P3', 'SAFE-5'],
    now: NOW,
    resources: record({ omit: ['leukorrhea', 'iodine'] }),
    expect: {
      proposed: [
        hsgProposed(6, NOW, 1),
        { code: C.leukorrhea, occurrencePeriod: { start: TODAY, end: TODAY } },
        { code: C.iodineTest, occurrencePeriod: { start: TODAY, end: TODAY } },
        ...HSG_PREPARATION.map((code) => ({ code })),
      ],
      notProposed: [C.hycosy],
      tasks: [],
    },
    example: true,
  },
  {
    name: 'hsg-leukorrhea-8-days-old-reordered',
    plan,
    description: 'The only normal discharge examination is 8 days old (look-back 7 days): it is repeated; HSG proposed.',
    rules: ['HSG-C1'],
    now: NOW,
    resources: record({ omit: ['leukorrhea'], extra: [leukorrhea('leukorrhea-old', daysAgo(NOW, 8), true)] }),
    expect: { proposed: [hsgProposed(6, NOW, 1), { code: C.leukorrhea, occurrencePeriod: { start: TODAY, end: TODAY } }], notProposed: [C.iodineTest], tasks: [] },
  },
  {
    name: 'hsg-ci-heart-failure',
    plan,
    description: 'Active heart failure (serious systemic disease): HSG contraindicated.',
    rules: ['HSG-C2'],
    now: NOW,
    resources: record({ extra: [condition('heart-failure', SCT, '84114007', 'Heart failure', { onset: '2024-06-01' })] }),
    expect: { contraindicated: [ci(['Condition/heart-failure'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-not-fit-assessment',
    plan,
    description: 'The clinician assessed 3 days ago that she cannot tolerate the procedure: HSG contraindicated.',
    rules: ['HSG-C2'],
    now: NOW,
    resources: record({ omit: ['fitness'], extra: [fitness('fitness', daysAgo(NOW, 3), false)] }),
    expect: { contraindicated: [ci(['Observation/fitness'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-pregnancy-positive-test',
    plan,
    description: 'Positive urine pregnancy test yesterday: HSG contraindicated; HyCoSy is not offered either.',
    rules: ['HSG-C3'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [pregnancyTest('hcg', daysAgo(NOW, 1), 'positive')] }),
    expect: { contraindicated: [ci(['Observation/hcg'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-pregnancy-status-pregnant',
    plan,
    description: 'Pregnancy status "pregnant" recorded today (LOINC 82810-3): HSG contraindicated.',
    rules: ['HSG-C3'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [pregnancyStatus('pregnancy-status', daysAgo(NOW, 0), true)] }),
    expect: { contraindicated: [ci(['Observation/pregnancy-status'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-menstruating-day-3',
    plan,
    description: 'Her period started 3 days ago and has not ended: HSG contraindicated during menstruation (the window opens 5 days after the end).',
    rules: ['HSG-C4'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [...period('previous', daysAgo(NOW, 30)), lmpStart('lmp', daysAgo(NOW, 3))] }),
    expect: { contraindicated: [ci(['Observation/lmp'])], notProposed: notScheduled, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-ci-menstruating-day-8-of-bleeding',
    plan,
    description:
      'Bleeding started 7 days ago (8th day of bleeding, the longest normal period) with no end: still menstruating, HSG contraindicated; the end of bleeding is asked for so that the window can be dated (SAFE-10).',
    rules: ['HSG-C4', 'SAFE-10'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [lmpStart('lmp', daysAgo(NOW, 7))] }),
    expect: { contraindicated: [ci(['Observation/lmp'])], notProposed: notScheduled, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-menses-end-unknown',
    plan,
    description: 'Bleeding started 8 days ago with no end recorded: the end date is unknown and collected, nothing assumed.',
    rules: ['HSG-C4', 'HSG-T1'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [lmpStart('lmp', daysAgo(NOW, 8))] }),
    expect: { notProposed: notScheduled, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-ci-delivery-41-days',
    plan,
    description: 'Delivery 41 days ago (within 6 weeks): HSG contraindicated.',
    rules: ['HSG-C5'],
    now: NOW,
    resources: record({ extra: [procedure('delivery', SCT, '236973005', 'Delivery procedure', daysAgo(NOW, 41))] }),
    expect: { contraindicated: [ci(['Procedure/delivery'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-curettage-42-days',
    plan,
    description: 'Curettage exactly 42 days (6 weeks) ago: still within 6 weeks, HSG contraindicated.',
    rules: ['HSG-C5'],
    now: NOW,
    resources: record({ extra: [procedure('curettage', SCT, '176820000', 'Curettage of uterus', daysAgo(NOW, 42))] }),
    expect: { contraindicated: [ci(['Procedure/curettage'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-delivery-43-days-allowed',
    plan,
    description: 'Delivery 43 days ago (past 6 weeks): no longer a contraindication, HSG proposed.',
    rules: ['HSG-C5'],
    now: NOW,
    resources: record({ extra: [procedure('delivery', SCT, '236973005', 'Delivery procedure', daysAgo(NOW, 43))] }),
    expect: scheduled(),
  },
  {
    name: 'hsg-ci-miscarriage-20-days',
    plan,
    description: 'Miscarriage 20 days ago recorded as a condition (onset): HSG contraindicated.',
    rules: ['HSG-C5'],
    now: NOW,
    resources: record({ extra: [condition('miscarriage', SCT, '17369002', 'Miscarriage', { onset: daysAgo(NOW, 20), status: 'resolved' })] }),
    expect: { contraindicated: [ci(['Condition/miscarriage'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-iodine-allergy-hycosy',
    plan,
    description:
      'Allergy to iodinated contrast: HSG contraindicated and HyCoSy (no iodine, no radiation) proposed in the same window, with the other non-iodine alternatives and the care of HSG (premedication, instructions, aftercare HSG-A1), but no iodine test and no X-ray conception advice (SAFE-8).',
    rules: ['HSG-C6', 'HSG-ALT1', 'SAFE-8'],
    now: NOW,
    resources: record({ omit: ['allergy', 'iodine'], extra: [allergy('iodine-allergy', SCT, '426722004', 'Iodinated contrast media')] }),
    expect: {
      contraindicated: [ci(['AllergyIntolerance/iodine-allergy'])],
      proposed: [
        { code: C.hycosy, occurrencePeriod: windowFrom(daysAgo(NOW, 6)), reasonReference: ['Condition/infertility'] },
        { code: C.hydrotubation },
        { code: C.lapChromopertubation },
        ...HYCOSY_PREPARATION.map((code) => ({ code })),
      ],
      notProposed: [C.hsg, C.iodineTest, C.conceptionAfterHsg],
      tasks: [],
    },
    example: true,
  },
  {
    name: 'hsg-ci-positive-iodine-test-hycosy',
    plan,
    description: 'Positive iodine sensitivity test (no allergy recorded otherwise): HSG contraindicated, HyCoSy proposed.',
    rules: ['HSG-C6', 'HSG-P3'],
    now: NOW,
    resources: record({ omit: ['iodine'], extra: [iodineTest('iodine-test', daysAgo(NOW, 2), true)] }),
    expect: {
      contraindicated: [ci(['Observation/iodine-test'])],
      proposed: [{ code: C.hycosy, occurrencePeriod: windowFrom(daysAgo(NOW, 6)) }, { code: C.atropine }],
      notProposed: [C.hsg, C.iodineTest],
      tasks: [],
    },
  },
  {
    name: 'hsg-ci-iodine-allergy-and-pregnant',
    plan,
    description: 'Iodine allergy and a positive pregnancy test: two contraindications; HyCoSy is not offered (pregnancy rules it out too).',
    rules: ['HSG-C3', 'HSG-C6'],
    now: NOW,
    resources: record({
      omit: ['allergy', 'pregnancy'],
      extra: [allergy('iodine-allergy', SCT, '44588005', 'Iodine'), pregnancyTest('hcg', daysAgo(NOW, 0), 'positive', '2118-8')],
    }),
    expect: { contraindicated: [ci(['Observation/hcg']), ci(['AllergyIntolerance/iodine-allergy'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-inflammation-and-recent-delivery',
    plan,
    description: 'Acute endometritis and a caesarean 30 days ago: both contraindications reported.',
    rules: ['HSG-C1', 'HSG-C5'],
    now: NOW,
    resources: record({
      extra: [
        condition('endometritis', SCT, '78623009', 'Endometritis', { onset: daysAgo(NOW, 5) }),
        procedure('caesarean', SCT, '11466000', 'Cesarean section', daysAgo(NOW, 30)),
      ],
    }),
    expect: { contraindicated: [ci(['Condition/endometritis']), ci(['Procedure/caesarean'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-missing-menstrual-data',
    plan,
    description: 'No LMP and no end of menses recorded: the window cannot be computed; menstrual data collected, no HSG.',
    rules: ['HSG-T1'],
    now: NOW,
    resources: record({ omit: ['menses'] }),
    expect: { notProposed: notScheduled, tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-missing-pregnancy-status',
    plan,
    description: 'No pregnancy test on record: the pregnancy status is collected, no HSG.',
    rules: ['HSG-C3'],
    now: NOW,
    resources: record({ omit: ['pregnancy'] }),
    expect: { notProposed: notScheduled, tasks: [C.pregnancyStatus] },
  },
  {
    name: 'hsg-pregnancy-test-8-days-old',
    plan,
    description: 'The only negative pregnancy test is 8 days old (look-back 7 days): the status is collected again, no HSG.',
    rules: ['HSG-C3'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [pregnancyTest('hcg-old', daysAgo(NOW, 8), 'negative')] }),
    expect: { notProposed: notScheduled, tasks: [C.pregnancyStatus] },
  },
  {
    name: 'hsg-missing-iodine-allergy-status',
    plan,
    description: 'No allergy history recorded: the iodine allergy status is collected before any contrast study.',
    rules: ['HSG-C6'],
    now: NOW,
    resources: record({ omit: ['allergy'] }),
    expect: { notProposed: notScheduled, tasks: [C.iodineAllergyStatus] },
  },
  {
    name: 'hsg-missing-everything',
    plan,
    description: 'Infertility only: menstrual data, pregnancy status and iodine allergy status are all collected at once.',
    rules: ['HSG-T1', 'HSG-C3', 'HSG-C6'],
    now: NOW,
    resources: record({ omit: ['menses', 'pregnancy', 'allergy', 'leukorrhea', 'iodine'] }),
    expect: { notProposed: notScheduled, tasks: [C.mensesEnd, C.pregnancyStatus, C.iodineAllergyStatus] },
    example: true,
  },
  {
    name: 'hsg-constipation-enema',
    plan,
    description: 'Constipated (reported today): a cleansing enema is added before the HSG.',
    rules: ['HSG-P5'],
    now: NOW,
    resources: record({ extra: [constipationNow('constipation', daysAgo(NOW, 0))] }),
    expect: { proposed: [hsgProposed(), { code: C.enema }], tasks: [] },
  },
  {
    name: 'hsg-menses-end-recorded-with-time',
    plan,
    description: 'The end of the menses is recorded with a time and a +08:00 offset: the calendar date as recorded counts (day 6).',
    rules: ['HSG-T1'],
    now: NOW,
    resources: record({
      omit: ['menses'],
      extra: [lmpStart('menses-start', daysAgo(NOW, 11)), { ...mensesEnd('menses-end', daysAgo(NOW, 6)), valueDateTime: `${daysAgo(NOW, 6)}T20:30:00+08:00` } as Resource],
    }),
    expect: scheduled(),
  },

  // ---- safety faults found in review (issue #11): one case each, named after the fault ----
  {
    name: 'hsg-day-7-workup-not-dated-in-past',
    plan,
    description:
      'Day 7 (the last window day) with no discharge exam and no iodine test: the tests would have to be done before the HSG, which no longer fits this cycle; nothing is dated in the past, the next end of bleeding is collected (SAFE-5).',
    rules: ['SAFE-5', 'HSG-T1'],
    now: NOW,
    resources: record({ day: 7, omit: ['leukorrhea', 'iodine'] }),
    expect: { notProposed: [...notScheduled, C.leukorrhea], tasks: [C.mensesEnd] },
  },
  {
    name: 'hsg-window-open-offered-from-today',
    plan,
    description: 'Day 6 with all preparation done: the window (day 5-7) is offered from today, not from yesterday (SAFE-5).',
    rules: ['SAFE-5', 'HSG-T1'],
    now: NOW,
    resources: record({ day: 6 }),
    expect: { ...scheduled(6), proposed: [{ code: C.hsg, occurrencePeriod: { start: TODAY, end: daysAfter(TODAY, 1) } }] },
  },
  {
    name: 'hsg-no-fitness-assessment-collected',
    plan,
    description:
      'No fitness assessment on record: it is collected; HSG is not proposed until it says fit, and is not contraindicated either (SAFE-4: the same gate as the other protocols).',
    rules: ['SAFE-4', 'HSG-C2'],
    now: NOW,
    resources: record({ omit: ['fitness'] }),
    expect: { notProposed: notScheduled, tasks: [C.fitness] },
  },
  {
    name: 'hsg-hycosy-keeps-discharge-exam-and-aftercare',
    plan,
    description: 'Iodine allergy and no discharge exam this week: HyCoSy keeps the discharge exam (today), the window (from tomorrow) and the aftercare of HSG (SAFE-8).',
    rules: ['SAFE-8', 'HSG-C6', 'HSG-C1', 'HSG-A1'],
    now: NOW,
    resources: record({ omit: ['allergy', 'iodine', 'leukorrhea'], extra: [allergy('iodine-allergy', SCT, '426722004', 'Iodinated contrast media')] }),
    expect: {
      contraindicated: [ci(['AllergyIntolerance/iodine-allergy'])],
      proposed: [
        { code: C.hycosy, occurrencePeriod: windowFrom(daysAgo(NOW, 6), NOW, 1) },
        { code: C.leukorrhea, occurrencePeriod: { start: TODAY, end: TODAY } },
        { code: C.noIntercourseAfter },
        { code: C.noTubBath },
      ],
      notProposed: [C.hsg, C.iodineTest],
      tasks: [],
    },
  },
  {
    name: 'hsg-indeterminate-discharge-exam-repeated',
    plan,
    description: 'The discharge exam of 2 days ago is indeterminate: repeated today, not read as abnormal; the HSG follows from tomorrow (SAFE-3).',
    rules: ['SAFE-3', 'HSG-C1'],
    now: NOW,
    resources: record({ omit: ['leukorrhea'], extra: [leukorrhea('leukorrhea', daysAgo(NOW, 2), 'indeterminate')] }),
    expect: { proposed: [hsgProposed(6, NOW, 1), { code: C.leukorrhea, occurrencePeriod: { start: TODAY, end: TODAY } }], notProposed: [C.iodineTest], tasks: [] },
  },
  {
    name: 'hsg-preliminary-normal-discharge-does-not-clear',
    plan,
    description: 'The only discharge exam is a preliminary normal result: it cannot clear the HSG, so the exam is done again first (SAFE-10).',
    rules: ['SAFE-10', 'HSG-C1'],
    now: NOW,
    resources: record({ omit: ['leukorrhea'], extra: [withStatus(leukorrhea('leukorrhea', daysAgo(NOW, 1), true), 'preliminary')] }),
    expect: { proposed: [hsgProposed(6, NOW, 1), { code: C.leukorrhea, occurrencePeriod: { start: TODAY, end: TODAY } }], tasks: [] },
  },
  {
    name: 'hsg-preliminary-abnormal-discharge-holds',
    plan,
    description: 'A preliminary abnormal discharge exam newer than the final normal one: a preliminary result can hold a procedure, so HSG is contraindicated (SAFE-10).',
    rules: ['SAFE-10', 'HSG-C1'],
    now: NOW,
    resources: record({ extra: [withStatus(leukorrhea('leukorrhea-new', daysAgo(NOW, 1), false), 'preliminary')] }),
    expect: { contraindicated: [ci(['Observation/leukorrhea-new'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-same-day-discharge-results-abnormal-wins',
    plan,
    description: 'A normal and an abnormal discharge exam on the same day: the one that holds the procedure wins (SAFE-10).',
    rules: ['SAFE-10', 'HSG-C1'],
    now: NOW,
    resources: record({ extra: [leukorrhea('leukorrhea-abnormal', daysAgo(NOW, 2), false)] }),
    expect: { contraindicated: [ci(['Observation/leukorrhea-abnormal'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-entered-in-error-positive-pregnancy-ignored',
    plan,
    description: 'A positive pregnancy test entered in error is not evidence: the negative test decides, HSG scheduled (SAFE-10).',
    rules: ['SAFE-10', 'HSG-C3'],
    now: NOW,
    resources: record({ extra: [withStatus(pregnancyTest('hcg-error', daysAgo(NOW, 0), 'positive'), 'entered-in-error')] }),
    expect: scheduled(),
  },
  {
    name: 'hsg-refuted-iodine-allergy-ignored',
    plan,
    description: 'An iodine allergy marked refuted is not a contraindication: HSG with the negative iodine test (SAFE-10).',
    rules: ['SAFE-10', 'HSG-C6'],
    now: NOW,
    resources: record({
      extra: [
        {
          ...allergy('iodine-allergy', SCT, '426722004', 'Iodinated contrast media'),
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'refuted' }] },
        } as Resource,
      ],
    }),
    expect: scheduled(),
  },
  {
    name: 'hsg-preliminary-negative-pregnancy-not-clearing',
    plan,
    description: 'The only pregnancy result is a preliminary negative: it cannot exclude pregnancy, so a current one is asked for and HSG waits (SAFE-2, SAFE-10).',
    rules: ['SAFE-2', 'SAFE-10', 'HSG-C3'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [withStatus(pregnancyTest('hcg', daysAgo(NOW, 0), 'negative'), 'preliminary')] }),
    expect: { notProposed: notScheduled, tasks: [C.pregnancyStatusNow] },
  },
  {
    name: 'hsg-positive-then-negative-pregnancy-held',
    plan,
    description:
      'A positive pregnancy test 5 days ago and a negative one yesterday: the safer reading holds the HSG (a positive in the 7-day look-back contraindicates; a pregnancy loss is for the clinician to confirm).',
    rules: ['SAFE-2', 'HSG-C3'],
    now: NOW,
    resources: record({ extra: [pregnancyTest('hcg-positive', daysAgo(NOW, 5), 'positive')] }),
    expect: { contraindicated: [ci(['Observation/hcg-positive'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-done-recently-result-used',
    plan,
    description: 'An HSG 30 days ago found both tubes patent: the result is used, HSG is not repeated (SAFE-6).',
    rules: ['SAFE-6'],
    now: NOW,
    resources: record({
      extra: [procedure('hsg-done', SCT, '168884001', 'Hysterosalpingography', daysAgo(NOW, 30)), tubalPatency('patency', daysAgo(NOW, 30), 'patent', 'patent')],
    }),
    expect: { notProposed: [...notScheduled, C.ivfReferral], tasks: [] },
  },
  {
    name: 'hsg-done-recently-result-missing',
    plan,
    description: 'An HSG 20 days ago whose result is not recorded: the result is asked for instead of repeating the HSG (SAFE-6).',
    rules: ['SAFE-6'],
    now: NOW,
    resources: record({ extra: [procedure('hsg-done', SCT, '168884001', 'Hysterosalpingography', daysAgo(NOW, 20))] }),
    expect: { notProposed: notScheduled, tasks: [C.tubalPatencyResult] },
  },
  {
    name: 'hsg-both-tubes-blocked-ivf-referral',
    plan,
    description: 'A confirmed bilateral tubal occlusion: IVF referral, no new HSG (TR-F2, SAFE-7).',
    rules: ['SAFE-7', 'TR-F2'],
    now: NOW,
    resources: record({
      extra: [
        condition('bilateral-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', {
          onset: daysAgo(NOW, 90),
          bodySite: { system: SCT, code: '51440002', display: 'Bilateral' },
        }),
      ],
    }),
    expect: { proposed: [{ code: C.ivfReferral, reasonReference: ['Condition/bilateral-blockage'] }], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-suspected-blockage-studied',
    plan,
    description: 'A bilateral tubal occlusion recorded as provisional (suspected): that is what HSG is for, so HSG is scheduled, no IVF referral yet.',
    rules: ['SAFE-7', 'HSG-I1'],
    now: NOW,
    resources: record({
      extra: [
        condition('suspected-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', {
          onset: daysAgo(NOW, 20),
          bodySite: { system: SCT, code: '51440002', display: 'Bilateral' },
          verification: 'provisional',
        }),
      ],
    }),
    expect: { ...scheduled(), notProposed: [C.ivfReferral, C.hycosy] },
  },
  {
    name: 'hsg-now-with-offset-uses-local-date',
    plan,
    description: '`now` is 23:30 at UTC-05:00 on day 7 (already the next day in UTC): today is the calendar date in that offset, so the window is still open today (SAFE-10).',
    rules: ['SAFE-10', 'HSG-T1'],
    now: '2026-03-10T23:30:00-05:00',
    resources: record({ now: '2026-03-10T23:30:00-05:00', day: 7 }),
    expect: scheduled(7, '2026-03-10T23:30:00-05:00'),
  },
];
