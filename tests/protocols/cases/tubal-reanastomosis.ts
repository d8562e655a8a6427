/**
 * Clinical test cases for the tubal ligation reversal protocol (clinical-rules.md TR-*, SAFE-*).
 * Surgery window: day 3..7 after the end of bleeding, but never in the past: admission comes 1-2
 * days before the surgery, so the surgery starts 2 days after today at the earliest, and the
 * pre-operative work-up runs from today to the day before (SAFE-5). Age: under 40 today and on
 * every surgery day (TR-I2).
 */
import type { Resource } from '@medplum/fhirtypes';
import { C, TR_WORKUP } from './codes.ts';
import {
  birthDateFor,
  condition,
  daysAfter,
  laterDate,
  daysAgo,
  fitness,
  ICD10,
  LOCAL,
  leukorrhea,
  lmpStart,
  noKnownAllergy,
  partner,
  patient,
  period,
  pregnancyTest,
  procedure,
  recanalizationPermit,
  regularity,
  result,
  SCT,
  semenAnalysis,
  tubalPatency,
  withStatus,
} from './fixtures.ts';
import type { CaseSpec, Expect } from './schema.ts';

const NOW = '2026-07-14T09:00:00Z';
const TODAY = NOW.slice(0, 10);
const plan = 'tubal-reanastomosis' as const;

export interface Options {
  day?: number;
  birthDate?: string;
  omit?: ('ligation' | 'regularity' | 'fitness' | 'menses' | 'semen' | 'permit' | 'pregnancy')[];
  extra?: Resource[];
}

const ligation = () =>
  procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2016-03-02', [
    { system: LOCAL, code: 'tl-method-pomeroy', display: 'Fold ligation and cut (Pomeroy)' },
  ]);

function withoutBirthDate(r: Resource): Resource {
  const { birthDate: _omitted, ...rest } = r as Resource & { birthDate?: string };
  return rest;
}

/** A woman of 35 sterilised in 2016 (Pomeroy), eligible in every respect, negative pregnancy test yesterday, on day 4 after her menses. */
export function record(o: Options = {}): Resource[] {
  const omit = new Set(o.omit ?? []);
  const r: Resource[] = [patient(o.birthDate ?? birthDateFor(NOW, 35, 120)), partner()];
  if (!omit.has('ligation')) r.push(ligation());
  if (!omit.has('regularity')) r.push(regularity('regularity', daysAgo(NOW, 20), true));
  if (!omit.has('fitness')) r.push(fitness('fitness', daysAgo(NOW, 5), true));
  if (!omit.has('menses')) r.push(...period('menses', daysAgo(NOW, o.day ?? 4)));
  if (!omit.has('semen')) r.push(semenAnalysis('semen', daysAgo(NOW, 20), true));
  if (!omit.has('permit')) r.push(recanalizationPermit('permit', daysAgo(NOW, 60)));
  if (!omit.has('pregnancy')) r.push(pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'));
  return [...r, ...(o.extra ?? [])];
}

/** SAFE-5: day 3..7 after the menses that ended `day` days ago, from 2 days after today at the earliest. */
const window = (day: number) => ({ start: laterDate(daysAfter(daysAgo(NOW, day), 3), daysAfter(TODAY, 2)), end: daysAfter(daysAgo(NOW, day), 7) });
/** SAFE-5: work-up from today to the day before the surgery period. */
const workup = (day: number) => ({ start: TODAY, end: daysAfter(window(day).start, -1) });
const TECHNIQUES = [C.reversalOpen, C.reversalLaparoscopic, C.reversalLapAssisted];
/** The two "do not perform routinely after the reversal" requests that come with every surgery plan. */
const POST_OP_DONT = [
  { code: C.hydrotubation, reasonReference: [] },
  { code: C.hsg, reasonReference: [] },
];

function scheduled(day = 4): Expect {
  const w = window(day);
  return {
    proposed: [
      ...TECHNIQUES.map((code) => ({ code, occurrencePeriod: w, reasonReference: ['Procedure/ligation'] })),
      // Admission 1-2 days before the operation: from 2 days before its first day to the day before its last.
      { code: C.admission, occurrencePeriod: { start: daysAfter(w.start, -2), end: daysAfter(w.end, -1) } },
      { code: C.admissionInstruction },
      // None of the work-up is on record: all of it, ending the day before the surgery period starts.
      ...TR_WORKUP.map((code) => ({ code, occurrencePeriod: workup(day) })),
      { code: C.methyleneBlue },
      { code: C.antiAdhesion },
      { code: C.afterReversal },
    ],
    contraindicated: POST_OP_DONT,
    notProposed: [C.semen, C.ivfReferral],
    tasks: [],
  };
}

const none: Expect = { notProposed: [...TECHNIQUES, C.admission, C.semen, ...TR_WORKUP], tasks: [] };
const ci = (reasonReference: string[]) => ({ code: C.reversalAny, reasonReference });
const reversal = (daysBefore: number) =>
  procedure('reversal', LOCAL, 'tubal-reanastomosis-lap-assisted-minilaparotomy', 'Laparoscopy-assisted mini-laparotomy tubal reanastomosis', daysAgo(NOW, daysBefore));
/** Ineligible: the reversal is not performed and IVF is offered instead (SAFE-7). */
const ineligible = (reasonReference: string[]): Expect => ({
  proposed: [{ code: C.ivfReferral, reasonReference: [...reasonReference, 'Procedure/ligation'] }],
  contraindicated: [ci(reasonReference)],
  notProposed: [...TECHNIQUES, C.admission, C.semen, ...TR_WORKUP],
  tasks: [],
});

/** After a reversal: the HSG follow-up needs the HSG data (menses, pregnancy test, allergy history, fitness). */
export function followUp(o: { sinceDays: number; extra?: Resource[] }): Resource[] {
  return [
    patient(birthDateFor(NOW, 36, 120)),
    ligation(),
    reversal(o.sinceDays),
    ...period('menses', daysAgo(NOW, 6)),
    pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
    noKnownAllergy(),
    fitness('fitness', daysAgo(NOW, 3), true),
    ...(o.extra ?? []),
  ];
}
/** HSG on day 5-7 after the menses of 6 days ago, from tomorrow (the discharge and iodine tests come first: SAFE-5). */
const FOLLOW_UP_HSG = { start: daysAfter(TODAY, 1), end: daysAfter(daysAgo(NOW, 6), 7) };

export const TR_CASES: CaseSpec[] = [
  {
    name: 'tr-eligible-day-4',
    plan,
    description:
      'Sterilised woman of 35, regular cycles, fit, normal partner semen analysis, permit on file, negative pregnancy test, day 4 after the menses: the three techniques (choose one) from day 6 (2 days from today: admission first) to day 7, admission, work-up from today to the day before, intra-operative steps, post-operative advice, and no routine tubal flushing or HSG afterwards.',
    rules: ['TR-I1', 'TR-I2', 'TR-I3', 'TR-I4', 'TR-I5', 'TR-W1', 'TR-T1', 'TR-P1', 'TR-S1', 'TR-S2', 'TR-S3', 'TR-O1', 'TR-A1', 'TR-A2', 'TR-A3', 'SAFE-5'],
    now: NOW,
    resources: record(),
    expect: scheduled(),
    example: true,
  },
  {
    name: 'tr-age-39-turns-40-tomorrow',
    plan,
    description:
      'She turns 40 tomorrow: under 40 today, but the surgery cannot be before the day after tomorrow (admission first), so every surgery day is on or after her 40th birthday: not eligible on the planned date (TR-I2); IVF offered instead.',
    rules: ['TR-I2', 'SAFE-5', 'SAFE-7'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 40, 1) }),
    expect: ineligible(['Patient/patient']),
  },
  {
    name: 'tr-age-40-today',
    plan,
    description: 'Her 40th birthday is today: not under 40, not eligible; the reversal is not performed (TR-I2 named) and IVF is offered instead.',
    rules: ['TR-I2', 'SAFE-7'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 40, 0) }),
    expect: ineligible(['Patient/patient']),
  },
  {
    name: 'tr-not-sterilised',
    plan,
    description: 'No tubal sterilisation on record: the reversal protocol does not apply.',
    rules: ['TR-I1'],
    now: NOW,
    resources: record({ omit: ['ligation'] }),
    expect: none,
  },
  {
    name: 'tr-history-of-tubal-ligation-condition',
    plan,
    description: 'Sterilisation recorded only as the history situation "H/O: tubal ligation": eligible; the method is not recorded, so the operative record is asked for (SAFE-9).',
    rules: ['TR-I1', 'SAFE-9'],
    now: NOW,
    resources: [...record({ omit: ['ligation'] }), condition('tl-history', SCT, '267020005', 'History of tubal ligation', { status: 'inactive', recorded: '2016-03-02' })],
    expect: { ...scheduled(), proposed: TECHNIQUES.map((code) => ({ code, occurrencePeriod: window(4), reasonReference: ['Condition/tl-history'] })), tasks: [C.ligationMethod] },
  },
  {
    name: 'tr-irregular-menstruation',
    plan,
    description: 'Menstrual regularity recorded as irregular: not eligible until assessed; the do-not-perform request names TR-I3 and the observation.',
    rules: ['TR-I3', 'SAFE-7'],
    now: NOW,
    resources: record({ omit: ['regularity'], extra: [regularity('regularity', daysAgo(NOW, 10), false)] }),
    expect: { ...none, contraindicated: [ci(['Observation/regularity'])] },
  },
  {
    name: 'tr-amenorrhea-condition',
    plan,
    description: 'Cycles recorded as regular but an active amenorrhoea on the problem list: not eligible.',
    rules: ['TR-I3'],
    now: NOW,
    resources: record({ extra: [condition('amenorrhea', SCT, '14302001', 'Amenorrhea', { onset: daysAgo(NOW, 90) })] }),
    expect: { ...none, contraindicated: [ci(['Condition/amenorrhea'])] },
  },
  {
    name: 'tr-missing-regularity',
    plan,
    description: 'Menstrual regularity not recorded: it is collected, eligibility is not guessed.',
    rules: ['TR-I3'],
    now: NOW,
    resources: record({ omit: ['regularity'] }),
    expect: { ...none, tasks: [C.regularity] },
  },
  {
    name: 'tr-missing-birth-date',
    plan,
    description: 'No birth date on record: the age rule (under 40) cannot be decided, so the birth date is collected; she is neither accepted nor refused.',
    rules: ['TR-I2'],
    now: NOW,
    resources: record({ birthDate: '' }).map((r) => (r.resourceType === 'Patient' ? withoutBirthDate(r) : r)),
    expect: { ...none, tasks: ['Patient.birthDate'] },
  },
  {
    name: 'tr-missing-fitness-and-menses',
    plan,
    description:
      'No fitness assessment in the last 30 days (one from 40 days ago) and no menstrual data: both are collected at once; the work-up that informs the assessment is proposed from today (SAFE-4), the surgery is not.',
    rules: ['TR-I4', 'TR-T1', 'SAFE-4'],
    now: NOW,
    resources: record({ omit: ['fitness', 'menses'], extra: [fitness('fitness-old', daysAgo(NOW, 40), true)] }),
    expect: { proposed: TR_WORKUP.map((code) => ({ code, occurrencePeriod: { start: TODAY } })), notProposed: [...TECHNIQUES, C.admission], tasks: [C.fitness, C.mensesEnd] },
    example: true,
  },
  {
    name: 'tr-ci-not-fit-for-surgery',
    plan,
    description: 'The clinician assessed her as not fit for surgery: reversal contraindicated.',
    rules: ['TR-I4'],
    now: NOW,
    resources: record({ omit: ['fitness'], extra: [fitness('fitness', daysAgo(NOW, 2), false)] }),
    expect: { ...none, contraindicated: [ci(['Observation/fitness'])] },
  },
  {
    name: 'tr-ci-heart-failure',
    plan,
    description: 'Active heart failure (serious systemic disease): reversal contraindicated even though she was assessed fit earlier.',
    rules: ['TR-I4'],
    now: NOW,
    resources: record({ extra: [condition('heart-failure', SCT, '84114007', 'Heart failure', { onset: '2026-06-01' })] }),
    expect: { ...none, contraindicated: [ci(['Condition/heart-failure'])] },
  },
  {
    name: 'tr-semen-analysis-missing',
    plan,
    description: 'No partner semen analysis in the last 90 days (one from 120 days ago): a new one is proposed, from today to the day before the surgery period; surgery proposed.',
    rules: ['TR-W1', 'SAFE-5'],
    now: NOW,
    resources: record({ omit: ['semen'], extra: [semenAnalysis('semen-old', daysAgo(NOW, 120), true)] }),
    expect: {
      ...scheduled(),
      proposed: [
        { code: C.semen, occurrencePeriod: workup(4) },
        { code: C.reversalLapAssisted, occurrencePeriod: window(4) },
      ],
      notProposed: [],
    },
  },
  {
    name: 'tr-semen-analysis-abnormal',
    plan,
    description: 'The partner semen analysis is abnormal: treat it before surgery; the reversal is held (do not perform) and no surgery is scheduled.',
    rules: ['TR-W1'],
    now: NOW,
    resources: record({ omit: ['semen'], extra: [semenAnalysis('semen', daysAgo(NOW, 15), false)] }),
    expect: { ...none, contraindicated: [ci(['Observation/semen'])] },
  },
  {
    name: 'tr-permit-missing',
    plan,
    description: 'No recanalization permit on file: it is collected (administrative); the clinical plan goes ahead.',
    rules: ['TR-I5'],
    now: NOW,
    resources: record({ omit: ['permit'] }),
    expect: { ...scheduled(), tasks: [C.permit] },
  },
  {
    name: 'tr-window-day-2-before',
    plan,
    description: 'Day 2 after the menses (the day before the window): surgery proposed from day 4 (2 days from today) to day 7.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ day: 2 }),
    expect: scheduled(2),
  },
  {
    name: 'tr-window-day-3-first',
    plan,
    description: 'Day 3 after the menses (first day of the window): surgery proposed from day 5 (admission first) to day 7, never today.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ day: 3 }),
    expect: scheduled(3),
  },
  {
    name: 'tr-window-day-5-last-that-fits',
    plan,
    description: 'Day 5 after the menses: admission tomorrow or today, surgery on day 7, the last day of the window; work-up today and tomorrow.',
    rules: ['TR-T1', 'SAFE-5'],
    now: NOW,
    resources: record({ day: 5 }),
    expect: scheduled(5),
  },
  {
    name: 'tr-window-day-7-last',
    plan,
    description:
      'Day 7 after the menses (last day of the window): admission 1-2 days before the surgery would be in the past, so the surgery no longer fits this cycle: the end of the next menses is collected; nothing dated in the past (SAFE-5).',
    rules: ['TR-T1', 'SAFE-5'],
    now: NOW,
    resources: record({ day: 7 }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'tr-window-day-8-after',
    plan,
    description: 'Day 8 after the menses (the day after the window): no surgery this cycle; the end of the next menses is collected.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ day: 8 }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'tr-menstruating-now',
    plan,
    description: 'Her period started 2 days ago: nothing is dated during the bleeding; the end of bleeding is collected so that the surgery can be dated (SAFE-10).',
    rules: ['TR-T1', 'SAFE-10'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [...period('previous', daysAgo(NOW, 27)), lmpStart('lmp', daysAgo(NOW, 2))] }),
    expect: { ...none, tasks: [C.mensesEnd] },
  },
  {
    name: 'tr-recent-workup-not-reordered',
    plan,
    description: 'ECG and CBC from 10 days ago are kept (look-back 30 days); a cervical smear from 2 years ago is repeated.',
    rules: ['TR-P1'],
    now: NOW,
    resources: record({
      extra: [
        procedure('ecg', SCT, '29303009', 'Electrocardiographic procedure', daysAgo(NOW, 10)),
        result('cbc', 'http://loinc.org', '57021-8', 'CBC W Auto Differential panel - Blood', daysAgo(NOW, 10)),
        result('smear', 'http://loinc.org', '47528-5', 'Cytology report of Cervical or vaginal smear or scraping Cyto stain', '2024-06-01'),
      ],
    }),
    expect: {
      proposed: [{ code: C.reversalOpen }, { code: C.cervicalSmear, occurrencePeriod: workup(4) }, { code: C.chestXray, occurrencePeriod: workup(4) }],
      notProposed: [C.ecg, C.cbc],
      contraindicated: POST_OP_DONT,
      tasks: [],
    },
  },
  {
    name: 'tr-follow-up-13-months-no-pregnancy',
    plan,
    description:
      'Reversal 13 months ago and no pregnancy: assess tubal patency, HSG (through the HSG protocol: window from tomorrow, after the discharge and iodine tests, preparation) or laparoscopic chromopertubation (offered once, in the HSG choice); no new reversal.',
    rules: ['TR-F1', 'HSG-I2', 'SAFE-6'],
    now: NOW,
    resources: followUp({ sinceDays: 395 }),
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: FOLLOW_UP_HSG, reasonReference: ['Procedure/reversal'] },
        { code: C.lapChromopertubation, reasonReference: ['Procedure/reversal'] },
        { code: C.atropine },
      ],
      notProposed: [...TECHNIQUES, C.ivfReferral],
      tasks: [],
    },
    example: true,
  },
  {
    name: 'tr-follow-up-11-months-wait',
    plan,
    description: 'Reversal 11 months ago, not pregnant yet: keep trying, no test before one year.',
    rules: ['TR-F1'],
    now: NOW,
    resources: followUp({ sinceDays: 335 }),
    expect: { notProposed: [C.hsg, C.lapChromopertubation, C.ivfReferral, ...TECHNIQUES], tasks: [] },
  },
  {
    name: 'tr-follow-up-pregnant-since',
    plan,
    description: 'Reversal 13 months ago with a positive pregnancy test 5 months ago: no patency test.',
    rules: ['TR-F1'],
    now: NOW,
    resources: followUp({ sinceDays: 395, extra: [pregnancyTest('hcg-positive', daysAgo(NOW, 150), 'positive')] }),
    expect: { notProposed: [C.hsg, C.lapChromopertubation, C.ivfReferral], tasks: [] },
  },
  {
    name: 'tr-follow-up-bilateral-blockage-ivf',
    plan,
    description: 'Both tubes found blocked (bilateral tubal occlusion) 2 months ago, after the reversal: refer for IVF; no further patency test.',
    rules: ['TR-F2'],
    now: NOW,
    resources: followUp({
      sinceDays: 420,
      extra: [
        condition('bilateral-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', {
          onset: daysAgo(NOW, 60),
          bodySite: { system: SCT, code: '51440002', display: 'Bilateral' },
        }),
      ],
    }),
    expect: { proposed: [{ code: C.ivfReferral, reasonReference: ['Condition/bilateral-blockage'] }], notProposed: [C.hsg, C.lapChromopertubation], tasks: [] },
    example: true,
  },
  {
    name: 'tr-follow-up-patency-panel-both-blocked',
    plan,
    description: 'HSG after the reversal: right tube blocked proximally, left distally: refer for IVF.',
    rules: ['TR-F2'],
    now: NOW,
    resources: followUp({ sinceDays: 420, extra: [tubalPatency('patency', daysAgo(NOW, 30), 'blocked-proximal', 'blocked-distal')] }),
    expect: { proposed: [{ code: C.ivfReferral, reasonReference: ['Observation/patency'] }], notProposed: [C.hsg], tasks: [] },
  },
  {
    name: 'tr-follow-up-one-tube-patent',
    plan,
    description:
      'Tubal patency assessed after the reversal: one tube patent, the other blocked, and no pregnancy more than a year after the reversal. Not bilateral, so no IVF referral; patency is already known, so no new HSG or laparoscopy; the texts name no further step, so the clinician is asked to review and record the next step instead of an empty plan (SAFE-7).',
    rules: ['TR-F2', 'TR-F1', 'SAFE-7'],
    now: NOW,
    resources: followUp({ sinceDays: 420, extra: [tubalPatency('patency', daysAgo(NOW, 30), 'patent', 'blocked-distal')] }),
    expect: { notProposed: [C.ivfReferral, C.hsg, C.lapChromopertubation], tasks: [`${LOCAL}|next-step-after-reversal`] },
  },
  {
    name: 'tr-follow-up-blockage-before-reversal-ignored',
    plan,
    description: 'A bilateral occlusion recorded before the reversal (the ligated tubes) does not count: no IVF referral; one year without pregnancy, so patency is assessed.',
    rules: ['TR-F2', 'TR-F1'],
    now: NOW,
    resources: followUp({
      sinceDays: 400,
      extra: [
        condition('old-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', {
          onset: daysAgo(NOW, 700),
          bodySite: { system: SCT, code: '51440002', display: 'Bilateral' },
        }),
      ],
    }),
    expect: { proposed: [{ code: C.hsg }, { code: C.lapChromopertubation }], notProposed: [C.ivfReferral], tasks: [] },
  },

  // ---- safety faults found in review (issue #11): one case each, named after the fault ----
  {
    name: 'tr-pregnant-sterilised-woman-no-surgery',
    plan,
    description: 'A sterilised woman with a positive pregnancy test 2 days ago (newer than the negative one): the reversal is not performed (pregnancy), no surgery, no work-up.',
    rules: ['SAFE-2', 'TR-I1'],
    now: NOW,
    resources: record({ omit: ['pregnancy'], extra: [pregnancyTest('hcg-negative', daysAgo(NOW, 6), 'negative'), pregnancyTest('hcg-positive', daysAgo(NOW, 2), 'positive')] }),
    expect: { ...none, contraindicated: [ci(['Observation/hcg-positive'])] },
  },
  {
    name: 'tr-pregnancy-status-pregnant-no-surgery',
    plan,
    description: 'Pregnancy status "pregnant" recorded yesterday: the reversal is not performed.',
    rules: ['SAFE-2'],
    now: NOW,
    resources: record({
      omit: ['pregnancy'],
      extra: [
        {
          ...pregnancyTest('status', daysAgo(NOW, 1), 'positive'),
          code: { coding: [{ system: 'http://loinc.org', code: '82810-3', display: 'Pregnancy status' }] },
          valueCodeableConcept: { coding: [{ system: SCT, code: '77386006', display: 'Pregnant' }] },
        } as Resource,
      ],
    }),
    expect: { ...none, contraindicated: [ci(['Observation/status'])] },
  },
  {
    name: 'tr-no-pregnancy-test-collected',
    plan,
    description: 'No pregnancy result in the last 7 days: the current pregnancy status is collected; the surgery is not dated until pregnancy is excluded (the work-up is).',
    rules: ['SAFE-2'],
    now: NOW,
    resources: record({ omit: ['pregnancy'] }),
    expect: { proposed: TR_WORKUP.map((code) => ({ code, occurrencePeriod: workup(4) })), notProposed: [...TECHNIQUES, C.admission], tasks: [C.pregnancyStatus] },
  },
  {
    name: 'tr-acute-pid-holds-reversal',
    plan,
    description: 'Acute pelvic inflammatory disease on the problem list: the reversal is held until treated and rechecked (SAFE-3).',
    rules: ['SAFE-3', 'TR-P1'],
    now: NOW,
    resources: record({ extra: [condition('acute-pid', SCT, '237037006', 'Acute pelvic inflammatory disease', { onset: daysAgo(NOW, 5) })] }),
    expect: { ...none, contraindicated: [ci(['Condition/acute-pid'])] },
  },
  {
    name: 'tr-acute-vaginitis-holds-reversal',
    plan,
    description: 'Acute vaginitis (ICD-10 N76.0) recorded: the reversal is held (SAFE-3).',
    rules: ['SAFE-3'],
    now: NOW,
    resources: record({ extra: [condition('vaginitis', ICD10, 'N76.0', 'Acute vaginitis', { onset: daysAgo(NOW, 3) })] }),
    expect: { ...none, contraindicated: [ci(['Condition/vaginitis'])] },
  },
  {
    name: 'tr-suspected-acute-pid-holds-reversal',
    plan,
    description: 'Acute PID recorded as provisional (suspected): the reversal is held until it is confirmed or excluded (SAFE-10).',
    rules: ['SAFE-10', 'SAFE-3'],
    now: NOW,
    resources: record({ extra: [condition('suspected-pid', SCT, '237037006', 'Acute pelvic inflammatory disease', { onset: daysAgo(NOW, 2), verification: 'provisional' })] }),
    expect: { ...none, contraindicated: [ci(['Condition/suspected-pid'])] },
  },
  {
    name: 'tr-abnormal-discharge-exam-holds-reversal',
    plan,
    description: 'The vaginal discharge routine of 2 days ago is abnormal: the reversal is held until treated and rechecked (TR-P1, SAFE-3).',
    rules: ['SAFE-3', 'TR-P1'],
    now: NOW,
    resources: record({ extra: [leukorrhea('leukorrhea', daysAgo(NOW, 2), false)] }),
    expect: { ...none, contraindicated: [ci(['Observation/leukorrhea'])] },
  },
  {
    name: 'tr-indeterminate-discharge-exam-repeated',
    plan,
    description: 'The vaginal discharge routine of 2 days ago is indeterminate: it is repeated before the surgery, not read as abnormal; the surgery is planned.',
    rules: ['SAFE-3'],
    now: NOW,
    resources: record({ extra: [leukorrhea('leukorrhea', daysAgo(NOW, 2), 'indeterminate')] }),
    expect: scheduled(),
  },
  {
    name: 'tr-40th-birthday-on-first-surgery-day',
    plan,
    description:
      'Under 40 today, but her 40th birthday falls on the first day the surgery could take place (day 6): no surgery date on or after it, so she is not eligible on the planned date (TR-I2); IVF offered instead, no work-up.',
    rules: ['TR-I2', 'SAFE-5', 'SAFE-7'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 40, 2) }),
    expect: ineligible(['Patient/patient']),
  },
  {
    name: 'tr-40th-birthday-on-last-window-day',
    plan,
    description: 'Her 40th birthday is day 7 after the menses: the surgery period ends the day before it (day 6 only).',
    rules: ['TR-I2', 'SAFE-5'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 40, 3) }),
    expect: {
      proposed: TECHNIQUES.map((code) => ({ code, occurrencePeriod: { start: daysAfter(TODAY, 2), end: daysAfter(TODAY, 2) } })),
      contraindicated: POST_OP_DONT,
      notProposed: [C.ivfReferral],
      tasks: [],
    },
  },
  {
    name: 'tr-birth-year-only-may-turn-40-in-window',
    plan,
    description:
      'Only the birth year is recorded and it is the year 40 years ago: she may already be 40 or turn 40 before the surgery dates. Age is not guessed either way (safer reading of TR-I2 on the planned date): the reversal is not proposed and the full date of birth is asked for (SAFE-7: not an empty plan).',
    rules: ['TR-I2', 'SAFE-5', 'SAFE-7'],
    now: NOW,
    resources: record({ birthDate: String(Number(TODAY.slice(0, 4)) - 40) }),
    expect: { ...none, tasks: [C.fullBirthDate] },
  },
  {
    name: 'tr-birth-month-only-under-40',
    plan,
    description:
      'Birth date recorded to the month only, well under 40: the surgery period must end before the 40th birthday, which a month cannot date, so the full date of birth is asked for first (the safer reading) and no surgery is dated.',
    rules: ['TR-I2', 'SAFE-5'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 34).slice(0, 7) }),
    expect: { ...none, tasks: [C.fullBirthDate] },
  },
  {
    name: 'tr-birth-year-only-clearly-over-40',
    plan,
    description:
      'Only the birth year is recorded, 45 years ago: 40 or older whatever the day, so she is not eligible (TR-I2 named) and IVF is offered; the full date is not needed.',
    rules: ['TR-I2', 'SAFE-7'],
    now: NOW,
    resources: record({ birthDate: String(Number(TODAY.slice(0, 4)) - 45) }),
    expect: ineligible(['Patient/patient']),
  },
  {
    name: 'tr-41-year-old-sterilised-told-why',
    plan,
    description: 'A sterilised woman of 41: never an empty plan - the reversal is not performed because of TR-I2 and IVF is offered instead.',
    rules: ['TR-I2', 'SAFE-7'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 41, -30) }),
    expect: ineligible(['Patient/patient']),
  },
  {
    name: 'tr-semen-analysis-dated-before-surgery',
    plan,
    description: 'No partner semen analysis on record: it is dated from today to the day before the surgery period, never on the surgery days.',
    rules: ['TR-W1', 'SAFE-5'],
    now: NOW,
    resources: record({ omit: ['semen'], day: 3 }),
    expect: { ...scheduled(3), proposed: [...scheduled(3).proposed!, { code: C.semen, occurrencePeriod: workup(3) }], notProposed: [C.ivfReferral] },
  },
  {
    name: 'tr-no-fitness-assessment-workup-and-semen-proposed',
    plan,
    description:
      'No fitness assessment on record: the work-up that informs it and the partner semen analysis are proposed (dated before the surgery period), the assessment is collected, and the surgery is not proposed until it says fit (SAFE-4).',
    rules: ['SAFE-4', 'TR-I4', 'TR-W1'],
    now: NOW,
    resources: record({ omit: ['fitness', 'semen'] }),
    expect: {
      proposed: [...TR_WORKUP.map((code) => ({ code, occurrencePeriod: workup(4) })), { code: C.semen, occurrencePeriod: workup(4) }],
      notProposed: [...TECHNIQUES, C.admission],
      tasks: [C.fitness],
    },
  },
  {
    name: 'tr-fit-but-heart-failure-held',
    plan,
    description:
      'Assessed fit 5 days ago but an active heart failure is on the problem list: a clinician\'s "fit" never overrides an active serious systemic disease (SAFE-4, SAFE-10).',
    rules: ['SAFE-4', 'SAFE-10', 'TR-I4'],
    now: NOW,
    resources: record({ extra: [condition('heart-failure', SCT, '84114007', 'Heart failure', { onset: daysAgo(NOW, 200) })] }),
    expect: { ...none, contraindicated: [ci(['Condition/heart-failure'])] },
  },
  {
    name: 'tr-ligation-method-unknown-operative-record',
    plan,
    description: 'The sterilisation Procedure names no method and has no note: the operative record is asked for (TR-O1, SAFE-9); eligibility is unchanged.',
    rules: ['SAFE-9', 'TR-O1'],
    now: NOW,
    resources: record({ omit: ['ligation'], extra: [procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2016-03-02')] }),
    expect: { ...scheduled(), tasks: [C.ligationMethod] },
  },
  {
    name: 'tr-entered-in-error-ligation-not-evidence',
    plan,
    description: 'The only sterilisation record is entered in error: the reversal protocol does not apply (SAFE-10).',
    rules: ['SAFE-10', 'TR-I1'],
    now: NOW,
    resources: record({ omit: ['ligation'], extra: [withStatus(ligation(), 'entered-in-error')] }),
    expect: none,
  },
  {
    name: 'tr-follow-up-chromopertubation-offered-once',
    plan,
    description: "One year after a reversal without pregnancy, the laparoscopic chromopertubation TR-F1 names is offered once (in the HSG protocol's choice), not twice (SAFE-6).",
    rules: ['TR-F1', 'SAFE-6'],
    now: NOW,
    resources: followUp({ sinceDays: 400 }),
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: FOLLOW_UP_HSG },
        { code: C.lapChromopertubation, reasonReference: ['Procedure/reversal'] },
      ],
      notProposed: [...TECHNIQUES, C.ivfReferral],
      tasks: [],
    },
  },
];
