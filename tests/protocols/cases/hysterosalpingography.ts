/**
 * Clinical test cases for the hysterosalpingography protocol. Expectations come from the rules
 * (clinical-rules.md HSG-*), not from engine output. Windows: day 5..7 after the end of bleeding,
 * day 1 = the day after the menses-end date.
 */
import type { Resource } from '@medplum/fhirtypes';
import { C, HSG_PREPARATION } from './codes.ts';
import {
  allergy,
  birthDateFor,
  condition,
  constipationNow,
  daysAfter,
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
} from './fixtures.ts';
import type { CaseSpec, Expect } from './schema.ts';

const NOW = '2026-03-10T09:00:00Z';
const plan = 'hysterosalpingography' as const;

const infertility = () => condition('infertility', SCT, '6738008', 'Female infertility', { onset: '2025-01-01' });

interface Options {
  now?: string;
  /** Today is day `day` after the end of the menses. */
  day?: number;
  omit?: ('infertility' | 'pregnancy' | 'allergy' | 'menses' | 'leukorrhea' | 'iodine')[];
  extra?: Resource[];
}

/** An infertile woman of 33 with everything HSG needs recorded and normal. */
function record(o: Options = {}): Resource[] {
  const now = o.now ?? NOW;
  const omit = new Set(o.omit ?? []);
  const r: Resource[] = [patient(birthDateFor(now, 33, 100))];
  if (!omit.has('infertility')) r.push(infertility());
  if (!omit.has('menses')) r.push(...period('menses', daysAgo(now, o.day ?? 6)));
  if (!omit.has('pregnancy')) r.push(pregnancyTest('hcg', daysAgo(now, 1), 'negative'));
  if (!omit.has('allergy')) r.push(noKnownAllergy());
  if (!omit.has('leukorrhea')) r.push(leukorrhea('leukorrhea', daysAgo(now, 2), true));
  if (!omit.has('iodine')) r.push(iodineTest('iodine-test', daysAgo(now, 2), false));
  return [...r, ...(o.extra ?? [])];
}

const windowFrom = (end: string) => ({ start: daysAfter(end, 5), end: daysAfter(end, 7) });
const hsgProposed = (day = 6, now = NOW) => ({ code: C.hsg, occurrencePeriod: windowFrom(daysAgo(now, day)) });

/** Everything a scheduled HSG brings (window on day `day`). */
function scheduled(day = 6, now = NOW): Expect {
  return {
    proposed: [
      hsgProposed(day, now),
      { code: C.hydrotubation, occurrencePeriod: windowFrom(daysAgo(now, day)) },
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
    description: 'Infertile woman, day 6 after the menses, negative pregnancy test, no known allergy, normal discharge and negative iodine test this week: HSG on day 5-7 with atropine, instructions, aftercare and the alternatives.',
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
    description: 'No discharge examination and no iodine test on record: both are ordered before the HSG, which is proposed.',
    rules: ['HSG-C1', 'HSG-P3'],
    now: NOW,
    resources: record({ omit: ['leukorrhea', 'iodine'] }),
    expect: {
      proposed: [hsgProposed(), { code: C.leukorrhea, occurrencePeriod: { start: daysAfter(daysAgo(NOW, 6), 4), end: daysAfter(daysAgo(NOW, 6), 6) } }, { code: C.iodineTest }, ...HSG_PREPARATION.map((code) => ({ code }))],
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
    expect: { proposed: [hsgProposed(), { code: C.leukorrhea }], notProposed: [C.iodineTest], tasks: [] },
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
    resources: record({ extra: [fitness('fitness', daysAgo(NOW, 3), false)] }),
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
    expect: { contraindicated: [ci(['Observation/lmp'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-menstruating-day-8-of-bleeding',
    plan,
    description: 'Bleeding started 7 days ago (8th day of bleeding, the longest normal period) with no end: still menstruating, HSG contraindicated.',
    rules: ['HSG-C4'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [lmpStart('lmp', daysAgo(NOW, 7))] }),
    expect: { contraindicated: [ci(['Observation/lmp'])], notProposed: notScheduled, tasks: [] },
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
    description: 'Allergy to iodinated contrast: HSG contraindicated and HyCoSy (no iodine, no radiation) proposed in the same window, with the other non-iodine alternatives; no atropine or iodine test.',
    rules: ['HSG-C6', 'HSG-ALT1'],
    now: NOW,
    resources: record({ omit: ['allergy', 'iodine'], extra: [allergy('iodine-allergy', SCT, '426722004', 'Iodinated contrast media')] }),
    expect: {
      contraindicated: [ci(['AllergyIntolerance/iodine-allergy'])],
      proposed: [
        { code: C.hycosy, occurrencePeriod: windowFrom(daysAgo(NOW, 6)), reasonReference: ['Condition/infertility'] },
        { code: C.hydrotubation },
        { code: C.lapChromopertubation },
      ],
      notProposed: [C.hsg, C.atropine, C.iodineTest],
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
      proposed: [{ code: C.hycosy, occurrencePeriod: windowFrom(daysAgo(NOW, 6)) }],
      notProposed: [C.hsg, C.atropine],
      tasks: [],
    },
  },
  {
    name: 'hsg-ci-iodine-allergy-and-pregnant',
    plan,
    description: 'Iodine allergy and a positive pregnancy test: two contraindications; HyCoSy is not offered (pregnancy rules it out too).',
    rules: ['HSG-C3', 'HSG-C6'],
    now: NOW,
    resources: record({ omit: ['allergy', 'pregnancy'], extra: [allergy('iodine-allergy', SCT, '44588005', 'Iodine'), pregnancyTest('hcg', daysAgo(NOW, 0), 'positive', '2118-8')] }),
    expect: { contraindicated: [ci(['Observation/hcg']), ci(['AllergyIntolerance/iodine-allergy'])], notProposed: notScheduled, tasks: [] },
  },
  {
    name: 'hsg-ci-inflammation-and-recent-delivery',
    plan,
    description: 'Acute endometritis and a caesarean 30 days ago: both contraindications reported.',
    rules: ['HSG-C1', 'HSG-C5'],
    now: NOW,
    resources: record({
      extra: [condition('endometritis', SCT, '78623009', 'Endometritis', { onset: daysAgo(NOW, 5) }), procedure('caesarean', SCT, '11466000', 'Cesarean section', daysAgo(NOW, 30))],
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
    resources: record({ omit: ['menses'], extra: [lmpStart('menses-start', daysAgo(NOW, 11)), { ...mensesEnd('menses-end', daysAgo(NOW, 6)), valueDateTime: `${daysAgo(NOW, 6)}T20:30:00+08:00` } as Resource] }),
    expect: scheduled(),
  },
];
