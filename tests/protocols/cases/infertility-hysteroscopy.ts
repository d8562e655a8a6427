/**
 * Clinical test cases for the hysteroscopy protocol (clinical-rules.md HYS-*, SAFE-*). Windows: day
 * 3..10 after the end of bleeding; with irregular bleeding, from day 1 after it with no end. Never
 * before today, and from tomorrow when pre-operative work-up is ordered (it runs today, SAFE-5).
 */
import type { Resource } from '@medplum/fhirtypes';
import { C, HYS_WORKUP } from './codes.ts';
import {
  birthDateFor,
  condition,
  daysAfter,
  laterDate,
  daysAgo,
  fitness,
  heavyBleedingNow,
  hsgCavity,
  leukorrhea,
  ICD10,
  LOCAL,
  lmpStart,
  LOINC,
  patient,
  period,
  pregnancyStatus,
  pregnancyTest,
  procedure,
  regularity,
  result,
  SCT,
  serviceRequest,
} from './fixtures.ts';
import type { CaseSpec, Expect } from './schema.ts';

const NOW = '2026-05-20T09:00:00Z';
const plan = 'infertility-hysteroscopy' as const;

export interface Options {
  day?: number;
  omit?: ('pregnancy' | 'menses' | 'fitness')[];
  indication?: Resource[];
  extra?: Resource[];
}

const myomectomy = () => procedure('myomectomy', SCT, '42010004', 'Uterine myomectomy', '2023-09-14');

/** A woman of 31 on day 5 after her menses with a negative pregnancy test, assessed fit; the indication varies. */
export function record(o: Options = {}): Resource[] {
  const omit = new Set(o.omit ?? []);
  const r: Resource[] = [patient(birthDateFor(NOW, 31, 40))];
  r.push(...(o.indication ?? [myomectomy()]));
  if (!omit.has('menses')) r.push(...period('menses', daysAgo(NOW, o.day ?? 5)));
  if (!omit.has('pregnancy')) r.push(pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'));
  if (!omit.has('fitness')) r.push(fitness('fitness', daysAgo(NOW, 2), true));
  return [...r, ...(o.extra ?? [])];
}

const TODAY = NOW.slice(0, 10);
/** Day 3..10 after the menses, from tomorrow at the earliest while work-up is pending (`lead` 1). */
const regularWindow = (day: number, lead = 1) => ({ start: laterDate(daysAfter(daysAgo(NOW, day), 3), daysAfter(TODAY, lead)), end: daysAfter(daysAgo(NOW, day), 10) });
/** Irregular bleeding: from the day after it stopped, or tomorrow while work-up is pending; no end. */
const irregularWindow = (day: number, lead = 1) => ({ start: laterDate(daysAfter(daysAgo(NOW, day), 1), daysAfter(TODAY, lead)) });
/** Work-up: today only (the hysteroscopy can be from tomorrow). */
const WORKUP_TODAY = { start: TODAY, end: TODAY };

function scheduled(reasons: string[], day = 5): Expect {
  return {
    proposed: [{ code: C.hysteroscopy, occurrencePeriod: regularWindow(day), reasonReference: reasons }, ...HYS_WORKUP.map((code) => ({ code, occurrencePeriod: WORKUP_TODAY }))],
    tasks: [],
  };
}
const none: Expect = { notProposed: [C.hysteroscopy, C.cbc], tasks: [] };
const ci = (reasonReference: string[]) => ({ code: C.hysteroscopy, reasonReference });

/** Every pre-operative examination and test done 2 days ago, all normal. */
function allWorkupDone(): Resource[] {
  const date = daysAgo(NOW, 2);
  const exams: [string, string, string, string][] = [
    ['cardio-exam', SCT, '444733009', 'Preoperative cardiovascular examination'],
    ['pulmonary-exam', SCT, '444562008', 'Preoperative pulmonary examination'],
    ['gyn-exam', LOCAL, 'preop-gynecological-examination', 'Pre-operative gynaecological examination'],
  ];
  const labs: [string, string, string, string][] = [
    ['cbc', LOINC, '57021-8', 'CBC W Auto Differential panel - Blood'],
    ['urinalysis', LOINC, '24356-8', 'Urinalysis complete panel - Urine'],
    ['liver', LOINC, '24325-3', 'Hepatic function 2000 panel - Serum or Plasma'],
    ['kidney', LOINC, '24362-6', 'Renal function 2000 panel - Serum or Plasma'],
    ['glucose', LOINC, '1558-6', 'Fasting glucose [Mass/volume] in Serum or Plasma'],
    ['coagulation', LOCAL, 'coagulation-panel', 'Coagulation function panel'],
    ['hbv', LOCAL, 'hbv-serology-5', 'Hepatitis B serology panel (5 items)'],
    ['hcv', LOINC, '16128-1', 'Hepatitis C virus Ab [Presence] in Serum'],
    ['hiv', LOINC, '56888-1', 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay'],
    ['syphilis', LOINC, '22461-8', 'Reagin Ab [Presence] in Serum'],
    ['blood-group', LOINC, '882-1', 'ABO and Rh group [Type] in Blood'],
    ['leukorrhea', LOCAL, 'leukorrhea-routine', 'Vaginal discharge routine examination (leukorrhea routine)'],
    ['chlamydia', LOINC, '21190-4', 'Chlamydia trachomatis DNA [Presence] in Cervix by NAA with probe detection'],
    ['mycoplasma', LOCAL, 'mycoplasma-ureaplasma-culture', 'Genital mycoplasma/ureaplasma culture'],
  ];
  return [
    ...exams.map(([id, system, code, display]) => procedure(id, system, code, display, date)),
    ...labs.map(([id, system, code, display]) => result(id, system, code, display, date)),
  ];
}

export const HYS_CASES: CaseSpec[] = [
  {
    name: 'hys-i2-previous-myomectomy-day-5',
    plan,
    description:
      'Previous myomectomy, day 5 after the menses, negative pregnancy test, no work-up on record: hysteroscopy on day 3-10 with the full pre-operative examination and laboratory work-up.',
    rules: ['HYS-I2', 'HYS-T1', 'HYS-P1', 'HYS-P2', 'HYS-F1'],
    now: NOW,
    resources: record(),
    expect: scheduled(['Procedure/myomectomy']),
    example: true,
  },
  {
    name: 'hys-i1-menorrhagia-regular-window',
    plan,
    description: 'Abnormal uterine bleeding as menorrhagia (regular cycles): indicated, regular window day 3-10.',
    rules: ['HYS-I1', 'HYS-T1'],
    now: NOW,
    resources: record({ indication: [condition('aub', SCT, '386692008', 'Menorrhagia', { onset: '2026-01-10' })] }),
    expect: scheduled(['Condition/aub']),
  },
  {
    name: 'hys-i1-irregular-bleeding-any-time-after',
    plan,
    description:
      'Irregular abnormal uterine bleeding (ICD-10 N93.9) that stopped 25 days ago: any time after the bleeding stopped, so the window has no end; it is offered from tomorrow (the work-up runs today), never from day 1 in the past (SAFE-5).',
    rules: ['HYS-I1', 'HYS-T1', 'SAFE-5'],
    now: NOW,
    resources: record({ day: 25, indication: [condition('aub', ICD10, 'N93.9', 'Abnormal uterine and vaginal bleeding, unspecified', { onset: '2026-02-01' })] }),
    expect: {
      proposed: [
        { code: C.hysteroscopy, occurrencePeriod: irregularWindow(25), reasonReference: ['Condition/aub'] },
        { code: C.cbc, occurrencePeriod: WORKUP_TODAY },
      ],
      tasks: [],
    },
    example: true,
  },
  {
    name: 'hys-irregular-bleeding-now',
    plan,
    description:
      'Irregular bleeding (menstrual regularity irregular, previous myomectomy) that started 2 days ago and has not stopped: nothing is dated during the bleeding; the end of bleeding is asked for (SAFE-10).',
    rules: ['HYS-T1', 'SAFE-10'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [regularity('regularity', '2026-04-01', false), ...period('previous', daysAgo(NOW, 40)), lmpStart('lmp', daysAgo(NOW, 2))] }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'hys-i2-caesarean-history-condition',
    plan,
    description: 'History of caesarean section recorded as a condition: indicated.',
    rules: ['HYS-I2'],
    now: NOW,
    resources: record({ indication: [condition('cs-history', SCT, '161805006', 'H/O: cesarean section', { status: 'inactive', recorded: '2022-03-01' })] }),
    expect: scheduled(['Condition/cs-history']),
  },
  {
    name: 'hys-i3-recurrent-miscarriage',
    plan,
    description: 'Recurrent miscarriage: indicated.',
    rules: ['HYS-I3'],
    now: NOW,
    resources: record({ indication: [condition('rpl', SCT, '102878001', 'Recurrent miscarriage', { onset: '2025-06-01' })] }),
    expect: scheduled(['Condition/rpl']),
  },
  {
    name: 'hys-i4-hsg-filling-defect',
    plan,
    description: 'HSG showed a uterine cavity filling defect: hysteroscopy indicated (the HSG -> hysteroscopy link).',
    rules: ['HYS-I4'],
    now: NOW,
    resources: record({ indication: [hsgCavity('hsg-cavity', '2026-04-12', 'filling-defect')] }),
    expect: scheduled(['Observation/hsg-cavity']),
    example: true,
  },
  {
    name: 'hys-i4-hsg-normal-cavity-not-indicated',
    plan,
    description: 'HSG showed a normal cavity and nothing else indicates: no hysteroscopy.',
    rules: ['HYS-I4'],
    now: NOW,
    resources: record({ indication: [hsgCavity('hsg-cavity', '2026-04-12', 'normal')] }),
    expect: none,
  },
  {
    name: 'hys-i5-laparoscopy-planned',
    plan,
    description: 'A laparoscopy is planned and she never had a hysteroscopy: do the hysteroscopy at the same time.',
    rules: ['HYS-I5'],
    now: NOW,
    resources: record({ indication: [serviceRequest('laparoscopy', SCT, '73632009', 'Laparoscopy', 'active')] }),
    expect: scheduled(['ServiceRequest/laparoscopy']),
  },
  {
    name: 'hys-i5-laparoscopy-planned-previous-hysteroscopy',
    plan,
    description: 'A laparoscopy is planned but she had a hysteroscopy before: indication 5 does not apply, no hysteroscopy.',
    rules: ['HYS-I5'],
    now: NOW,
    resources: record({
      indication: [serviceRequest('laparoscopy', SCT, '73632009', 'Laparoscopy', 'active'), procedure('hysteroscopy-2024', SCT, '233545006', 'Hysteroscopy', '2024-05-02')],
    }),
    expect: none,
  },
  {
    name: 'hys-i6-unexplained-infertility',
    plan,
    description: 'Unexplained (idiopathic) infertility: indicated.',
    rules: ['HYS-I6'],
    now: NOW,
    resources: record({ indication: [condition('unexplained', SCT, '1148927006', 'Idiopathic female infertility', { onset: '2025-03-01' })] }),
    expect: scheduled(['Condition/unexplained']),
  },
  {
    name: 'hys-i7-failed-ivf',
    plan,
    description: 'Failed IVF-ET and no previous hysteroscopy: indicated.',
    rules: ['HYS-I7'],
    now: NOW,
    resources: record({
      indication: [condition('failed-ivf', LOCAL, 'failed-ivf-et', 'Failed IVF-ET (no pregnancy after at least one embryo transfer)', { recorded: '2026-02-01' })],
    }),
    expect: scheduled(['Condition/failed-ivf']),
  },
  {
    name: 'hys-i7-failed-ivf-previous-hysteroscopy',
    plan,
    description: 'Failed IVF-ET but a hysteroscopy was done before: indication 7 does not apply, no hysteroscopy.',
    rules: ['HYS-I7'],
    now: NOW,
    resources: record({
      indication: [
        condition('failed-ivf', LOCAL, 'failed-ivf-et', 'Failed IVF-ET (no pregnancy after at least one embryo transfer)', { recorded: '2026-02-01' }),
        procedure('hysteroscopy-2025', SCT, '88355005', 'Diagnostic hysteroscopy', '2025-07-02'),
      ],
    }),
    expect: none,
  },
  {
    name: 'hys-not-indicated-infertility-only',
    plan,
    description: 'Female infertility of tubal origin and none of the seven indications: no hysteroscopy.',
    rules: ['HYS-I6'],
    now: NOW,
    resources: record({ indication: [condition('tubal-infertility', SCT, '39446004', 'Female infertility of tubal origin', { onset: '2025-03-01' })] }),
    expect: none,
  },
  {
    name: 'hys-ci-acute-endometritis-icd10',
    plan,
    description: 'Acute inflammatory disease of the uterus (ICD-10 N71.0): hysteroscopy contraindicated.',
    rules: ['HYS-C1'],
    now: NOW,
    resources: record({ extra: [condition('endometritis', ICD10, 'N71.0', 'Acute inflammatory disease of uterus', { onset: daysAgo(NOW, 4) })] }),
    expect: { contraindicated: [ci(['Condition/endometritis'])], ...none },
  },
  {
    name: 'hys-ci-heavy-bleeding-now',
    plan,
    description: 'Abnormal bleeding indicates, but the bleeding is heavy now (observed today): hysteroscopy contraindicated.',
    rules: ['HYS-C2', 'HYS-I1'],
    now: NOW,
    resources: record({
      indication: [condition('aub', SCT, '44991000119100', 'Abnormal uterine bleeding', { onset: '2026-03-01' })],
      extra: [heavyBleedingNow('heavy-bleeding', daysAgo(NOW, 0), true)],
    }),
    expect: { contraindicated: [ci(['Observation/heavy-bleeding'])], ...none },
  },
  {
    name: 'hys-ci-severe-abnormal-bleeding',
    plan,
    description: 'Abnormal vaginal bleeding graded severe: massive bleeding, hysteroscopy contraindicated.',
    rules: ['HYS-C2'],
    now: NOW,
    resources: record({ indication: [condition('aub', SCT, '301822002', 'Abnormal vaginal bleeding', { onset: '2026-05-10', severe: true })] }),
    expect: { contraindicated: [ci(['Condition/aub'])], ...none },
  },
  {
    name: 'hys-ci-pregnancy',
    plan,
    description: 'Positive serum pregnancy test yesterday: hysteroscopy contraindicated.',
    rules: ['HYS-C3', 'SAFE-2'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [pregnancyTest('hcg', daysAgo(NOW, 1), 'positive', '2118-8')] }),
    expect: { contraindicated: [ci(['Observation/hcg'])], ...none },
  },
  {
    name: 'hys-ci-chronic-pid',
    plan,
    description: 'Chronic pelvic inflammatory disease: contraindicated as the text lists it.',
    rules: ['HYS-C4'],
    now: NOW,
    resources: record({ extra: [condition('chronic-pid', SCT, '237044002', 'Chronic pelvic inflammatory disease', { onset: '2024-01-01' })] }),
    expect: { contraindicated: [ci(['Condition/chronic-pid'])], ...none },
  },
  {
    name: 'hys-ci-chronic-pid-and-pregnancy',
    plan,
    description: 'Chronic PID and a positive pregnancy test: both contraindications reported.',
    rules: ['HYS-C3', 'HYS-C4'],
    now: NOW,
    resources: record({
      omit: ['pregnancy'],
      extra: [condition('chronic-pid', SCT, '237044002', 'Chronic pelvic inflammatory disease', { onset: '2024-01-01' }), pregnancyTest('hcg', daysAgo(NOW, 0), 'positive')],
    }),
    expect: { contraindicated: [ci(['Condition/chronic-pid']), ci(['Observation/hcg'])], ...none },
  },
  {
    name: 'hys-window-day-2-before',
    plan,
    description: 'Day 2 after the menses (the day before the window): hysteroscopy proposed for day 3-10 ahead.',
    rules: ['HYS-T1'],
    now: NOW,
    resources: record({ day: 2 }),
    expect: scheduled(['Procedure/myomectomy'], 2),
  },
  {
    name: 'hys-window-day-3-first',
    plan,
    description: 'Day 3 after the menses (first day of the window): hysteroscopy proposed.',
    rules: ['HYS-T1'],
    now: NOW,
    resources: record({ day: 3 }),
    expect: scheduled(['Procedure/myomectomy'], 3),
  },
  {
    name: 'hys-window-day-10-last',
    plan,
    description: 'Day 10 after the menses (last day of the window) with the whole work-up done this week: hysteroscopy today, the last day.',
    rules: ['HYS-T1', 'SAFE-5'],
    now: NOW,
    resources: record({ day: 10, extra: allWorkupDone() }),
    expect: { proposed: [{ code: C.hysteroscopy, occurrencePeriod: regularWindow(10, 0), reasonReference: ['Procedure/myomectomy'] }], notProposed: HYS_WORKUP, tasks: [] },
  },
  {
    name: 'hys-day-10-workup-not-dated-in-past',
    plan,
    description:
      'Day 10 after the menses (last day of the window) with no work-up on record: the work-up must be back before the hysteroscopy, which no longer fits this cycle; nothing is dated in the past, the next end of bleeding is collected (SAFE-5).',
    rules: ['HYS-T1', 'SAFE-5'],
    now: NOW,
    resources: record({ day: 10 }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'hys-window-day-11-after',
    plan,
    description: 'Day 11 after the menses (the day after the window): no hysteroscopy this cycle; the end of the next menses is collected.',
    rules: ['HYS-T1'],
    now: NOW,
    resources: record({ day: 11 }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'hys-missing-menstrual-data',
    plan,
    description: 'No menstrual data: collected, no hysteroscopy.',
    rules: ['HYS-T1'],
    now: NOW,
    resources: record({ omit: ['menses'] }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'hys-missing-pregnancy-status',
    plan,
    description: 'No pregnancy test in the last 7 days: the pregnancy status is collected, no hysteroscopy.',
    rules: ['HYS-C3', 'SAFE-2'],
    now: NOW,
    resources: record({ omit: ['pregnancy'] }),
    expect: { ...none, tasks: [C.pregnancyStatus] },
  },
  {
    name: 'hys-pregnancy-status-not-pregnant',
    plan,
    description: 'Pregnancy excluded by a "not pregnant" pregnancy status (LOINC 82810-3) today instead of a test: hysteroscopy proposed.',
    rules: ['HYS-C3'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [pregnancyStatus('pregnancy-status', daysAgo(NOW, 0), false)] }),
    expect: scheduled(['Procedure/myomectomy']),
  },
  {
    name: 'hys-recent-workup-not-reordered',
    plan,
    description: 'CBC 10 days ago and blood group 5 years ago are kept; an HIV test 100 days old (look-back 90 days) is repeated.',
    rules: ['HYS-P2'],
    now: NOW,
    resources: record({
      extra: [
        result('cbc', LOINC, '57021-8', 'CBC W Auto Differential panel - Blood', daysAgo(NOW, 10)),
        result('blood-group', LOINC, '882-1', 'ABO and Rh group [Type] in Blood', '2021-04-02'),
        result('hiv', LOINC, '56888-1', 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay', daysAgo(NOW, 100)),
        procedure('cardio-exam', SCT, '444733009', 'Preoperative cardiovascular examination', daysAgo(NOW, 3)),
      ],
    }),
    expect: {
      proposed: [{ code: C.hysteroscopy }, { code: C.hiv }, { code: C.urinalysis }, { code: C.pulmonaryExam }],
      notProposed: [C.cbc, C.bloodGroup, C.cardioExam],
      tasks: [],
    },
  },

  // ---- safety faults found in review (issue #11): one case each, named after the fault ----
  {
    name: 'hys-acute-vaginitis-holds-hysteroscopy',
    plan,
    description: 'Acute vaginitis (ICD-10 N76.0), which HYS-P1 looks for: the hysteroscopy is held until treated and rechecked (SAFE-3).',
    rules: ['SAFE-3', 'HYS-P1', 'HYS-C1'],
    now: NOW,
    resources: record({ extra: [condition('vaginitis', ICD10, 'N76.0', 'Acute vaginitis', { onset: daysAgo(NOW, 3) })] }),
    expect: { ...none, contraindicated: [ci(['Condition/vaginitis'])] },
  },
  {
    name: 'hys-abnormal-discharge-exam-holds-hysteroscopy',
    plan,
    description: 'The discharge routine of 2 days ago is abnormal: the hysteroscopy is held until treated and rechecked (SAFE-3, HYS-P2).',
    rules: ['SAFE-3', 'HYS-P2'],
    now: NOW,
    resources: record({ extra: [leukorrhea('leukorrhea', daysAgo(NOW, 2), false)] }),
    expect: { ...none, contraindicated: [ci(['Observation/leukorrhea'])] },
  },
  {
    name: 'hys-indeterminate-discharge-exam-repeated',
    plan,
    description: 'The discharge routine of 2 days ago is indeterminate: it is repeated with the work-up, not read as abnormal; hysteroscopy planned (SAFE-3).',
    rules: ['SAFE-3', 'HYS-P2'],
    now: NOW,
    resources: record({ extra: [leukorrhea('leukorrhea', daysAgo(NOW, 2), 'indeterminate')] }),
    expect: scheduled(['Procedure/myomectomy']),
  },
  {
    name: 'hys-not-fit-held',
    plan,
    description: 'The clinician assessed her as not fit 2 days ago: the hysteroscopy is not performed (SAFE-4: fitness is read the same way in all three protocols).',
    rules: ['SAFE-4', 'HYS-P1'],
    now: NOW,
    resources: record({ omit: ['fitness'], extra: [fitness('not-fit', daysAgo(NOW, 2), false)] }),
    expect: { ...none, contraindicated: [ci(['Observation/not-fit'])] },
  },
  {
    name: 'hys-no-fitness-assessment-workup-proposed',
    plan,
    description:
      'No fitness assessment on record: the examination and labs that inform it are proposed (today), the assessment is collected, and the hysteroscopy waits until it says fit (SAFE-4).',
    rules: ['SAFE-4', 'HYS-P1'],
    now: NOW,
    resources: record({ omit: ['fitness'] }),
    expect: { proposed: HYS_WORKUP.map((code) => ({ code, occurrencePeriod: WORKUP_TODAY })), notProposed: [C.hysteroscopy], tasks: [C.fitness] },
  },
  {
    name: 'hys-done-recently-not-repeated',
    plan,
    description: 'A hysteroscopy 60 days ago: its findings are used, it is not proposed again (SAFE-6).',
    rules: ['SAFE-6'],
    now: NOW,
    resources: record({ extra: [procedure('hysteroscopy-recent', SCT, '233545006', 'Hysteroscopy', daysAgo(NOW, 60))] }),
    expect: none,
  },

  {
    name: 'hys-irregular-bleeding-not-dated-in-past',
    plan,
    description:
      'Irregular bleeding (regularity irregular) that stopped 12 days ago, previous myomectomy: "any time after the bleeding stops" is offered from tomorrow (after today\'s work-up), never from the day after the bleeding, which is in the past (SAFE-5).',
    rules: ['SAFE-5', 'HYS-T1'],
    now: NOW,
    resources: record({ day: 12, extra: [regularity('regularity', '2026-04-01', false)] }),
    expect: {
      proposed: [
        { code: C.hysteroscopy, occurrencePeriod: irregularWindow(12), reasonReference: ['Procedure/myomectomy'] },
        ...HYS_WORKUP.map((code) => ({ code, occurrencePeriod: WORKUP_TODAY })),
      ],
      tasks: [],
    },
  },
];
