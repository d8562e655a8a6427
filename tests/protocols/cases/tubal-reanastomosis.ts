/**
 * Clinical test cases for the tubal ligation reversal protocol (clinical-rules.md TR-*). Surgery
 * window: day 3..7 after the end of bleeding. Age is judged on `now` (strictly under 40).
 */
import type { Resource } from '@medplum/fhirtypes';
import { C, TR_WORKUP } from './codes.ts';
import {
  birthDateFor,
  condition,
  daysAfter,
  daysAgo,
  fitness,
  LOCAL,
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
} from './fixtures.ts';
import type { CaseSpec, Expect } from './schema.ts';

const NOW = '2026-07-14T09:00:00Z';
const plan = 'tubal-reanastomosis' as const;

interface Options {
  day?: number;
  birthDate?: string;
  omit?: ('ligation' | 'regularity' | 'fitness' | 'menses' | 'semen' | 'permit')[];
  extra?: Resource[];
}

const ligation = () => procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2016-03-02', [{ system: LOCAL, code: 'tl-method-pomeroy', display: 'Fold ligation and cut (Pomeroy)' }]);

function withoutBirthDate(r: Resource): Resource {
  const { birthDate: _omitted, ...rest } = r as Resource & { birthDate?: string };
  return rest as Resource;
}

/** A woman of 35 sterilised in 2016, eligible in every respect, on day 4 after her menses. */
function record(o: Options = {}): Resource[] {
  const omit = new Set(o.omit ?? []);
  const r: Resource[] = [patient(o.birthDate ?? birthDateFor(NOW, 35, 120)), partner()];
  if (!omit.has('ligation')) r.push(ligation());
  if (!omit.has('regularity')) r.push(regularity('regularity', daysAgo(NOW, 20), true));
  if (!omit.has('fitness')) r.push(fitness('fitness', daysAgo(NOW, 5), true));
  if (!omit.has('menses')) r.push(...period('menses', daysAgo(NOW, o.day ?? 4)));
  if (!omit.has('semen')) r.push(semenAnalysis('semen', daysAgo(NOW, 20), true));
  if (!omit.has('permit')) r.push(recanalizationPermit('permit', daysAgo(NOW, 60)));
  return [...r, ...(o.extra ?? [])];
}

const window = (day: number) => ({ start: daysAfter(daysAgo(NOW, day), 3), end: daysAfter(daysAgo(NOW, day), 7) });
const TECHNIQUES = [C.reversalOpen, C.reversalLaparoscopic, C.reversalLapAssisted];
/** The two "do not perform routinely after the reversal" requests that come with every surgery plan. */
const POST_OP_DONT = [
  { code: C.hydrotubation, reasonReference: [] },
  { code: C.hsg, reasonReference: [] },
];

function scheduled(day = 4): Expect {
  return {
    proposed: [
      ...TECHNIQUES.map((code) => ({ code, occurrencePeriod: window(day), reasonReference: ['Procedure/ligation'] })),
      // Admission after the menses, 1-2 days before the operation: day 1..6 after the menses.
      { code: C.admission, occurrencePeriod: { start: daysAfter(daysAgo(NOW, day), 1), end: daysAfter(daysAgo(NOW, day), 6) } },
      { code: C.admissionInstruction },
      ...TR_WORKUP.map((code) => ({ code })),
      { code: C.methyleneBlue },
      { code: C.antiAdhesion },
      { code: C.afterReversal },
    ],
    contraindicated: POST_OP_DONT,
    notProposed: [C.semen],
    tasks: [],
  };
}

const none: Expect = { notProposed: [...TECHNIQUES, C.admission, C.semen], tasks: [] };
const ci = (reasonReference: string[]) => ({ code: C.reversalAny, reasonReference });
const reversal = (daysBefore: number) => procedure('reversal', LOCAL, 'tubal-reanastomosis-lap-assisted-minilaparotomy', 'Laparoscopy-assisted mini-laparotomy tubal reanastomosis', daysAgo(NOW, daysBefore));

/** After a reversal: the HSG follow-up needs the HSG data (menses, pregnancy test, allergy history). */
function followUp(o: { sinceDays: number; extra?: Resource[] }): Resource[] {
  return [
    patient(birthDateFor(NOW, 36, 120)),
    ligation(),
    reversal(o.sinceDays),
    ...period('menses', daysAgo(NOW, 6)),
    pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
    noKnownAllergy(),
    ...(o.extra ?? []),
  ];
}

export const TR_CASES: CaseSpec[] = [
  {
    name: 'tr-eligible-day-4',
    plan,
    description: 'Sterilised woman of 35, regular cycles, fit, normal partner semen analysis, permit on file, day 4 after the menses: the three techniques (choose one) on day 3-7, admission, work-up, intra-operative steps, post-operative advice, and no routine tubal flushing or HSG afterwards.',
    rules: ['TR-I1', 'TR-I2', 'TR-I3', 'TR-I4', 'TR-I5', 'TR-W1', 'TR-T1', 'TR-P1', 'TR-S1', 'TR-S2', 'TR-S3', 'TR-O1', 'TR-A1', 'TR-A2', 'TR-A3'],
    now: NOW,
    resources: record(),
    expect: scheduled(),
    example: true,
  },
  {
    name: 'tr-age-39-turns-40-tomorrow',
    plan,
    description: 'She turns 40 tomorrow: still under 40 today, eligible.',
    rules: ['TR-I2'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 40, 1) }),
    expect: scheduled(),
  },
  {
    name: 'tr-age-40-today',
    plan,
    description: 'Her 40th birthday is today: not under 40, not eligible; nothing proposed.',
    rules: ['TR-I2'],
    now: NOW,
    resources: record({ birthDate: birthDateFor(NOW, 40, 0) }),
    expect: none,
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
    description: 'Sterilisation recorded only as the history situation "H/O: tubal ligation": eligible.',
    rules: ['TR-I1'],
    now: NOW,
    resources: [...record({ omit: ['ligation'] }), condition('tl-history', SCT, '267020005', 'History of tubal ligation', { status: 'inactive', recorded: '2016-03-02' })],
    expect: { ...scheduled(), proposed: TECHNIQUES.map((code) => ({ code, occurrencePeriod: window(4), reasonReference: ['Condition/tl-history'] })) },
  },
  {
    name: 'tr-irregular-menstruation',
    plan,
    description: 'Menstrual regularity recorded as irregular: not eligible until assessed.',
    rules: ['TR-I3'],
    now: NOW,
    resources: record({ omit: ['regularity'], extra: [regularity('regularity', daysAgo(NOW, 10), false)] }),
    expect: none,
  },
  {
    name: 'tr-amenorrhea-condition',
    plan,
    description: 'Cycles recorded as regular but an active amenorrhoea on the problem list: not eligible.',
    rules: ['TR-I3'],
    now: NOW,
    resources: record({ extra: [condition('amenorrhea', SCT, '14302001', 'Amenorrhea', { onset: daysAgo(NOW, 90) })] }),
    expect: none,
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
    description: 'No fitness assessment in the last 30 days (one from 40 days ago) and no menstrual data: both are collected at once.',
    rules: ['TR-I4', 'TR-T1'],
    now: NOW,
    resources: record({ omit: ['fitness', 'menses'], extra: [fitness('fitness-old', daysAgo(NOW, 40), true)] }),
    expect: { ...none, tasks: [C.fitness, C.mensesEnd] },
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
    description: 'No partner semen analysis in the last 90 days (one from 120 days ago): a new one is proposed before surgery; surgery proposed.',
    rules: ['TR-W1'],
    now: NOW,
    resources: record({ omit: ['semen'], extra: [semenAnalysis('semen-old', daysAgo(NOW, 120), true)] }),
    expect: { ...scheduled(), proposed: [{ code: C.semen }, { code: C.reversalLapAssisted, occurrencePeriod: window(4) }], notProposed: [] },
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
    description: 'Day 2 after the menses (the day before the window): surgery proposed for day 3-7 ahead.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ day: 2 }),
    expect: scheduled(2),
  },
  {
    name: 'tr-window-day-3-first',
    plan,
    description: 'Day 3 after the menses (first day of the window): surgery proposed.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ day: 3 }),
    expect: scheduled(3),
  },
  {
    name: 'tr-window-day-7-last',
    plan,
    description: 'Day 7 after the menses (last day of the window): surgery proposed.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ day: 7 }),
    expect: scheduled(7),
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
    description: 'Her period started 2 days ago: admission after the menses; nothing ordered yet, nothing collected.',
    rules: ['TR-T1'],
    now: NOW,
    resources: record({ omit: ['menses'], extra: [...period('previous', daysAgo(NOW, 27)), lmpStart('lmp', daysAgo(NOW, 2))] }),
    expect: none,
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
    expect: { proposed: [{ code: C.reversalOpen }, { code: C.cervicalSmear }, { code: C.chestXray }], notProposed: [C.ecg, C.cbc], contraindicated: POST_OP_DONT, tasks: [] },
  },
  {
    name: 'tr-follow-up-13-months-no-pregnancy',
    plan,
    description: 'Reversal 13 months ago and no pregnancy: assess tubal patency, HSG (through the HSG protocol: window, preparation) or laparoscopic chromopertubation; no new reversal.',
    rules: ['TR-F1', 'HSG-I2'],
    now: NOW,
    resources: followUp({ sinceDays: 395 }),
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: { start: daysAfter(daysAgo(NOW, 6), 5), end: daysAfter(daysAgo(NOW, 6), 7) }, reasonReference: ['Procedure/reversal'] },
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
      extra: [condition('bilateral-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', { onset: daysAgo(NOW, 60), bodySite: { system: SCT, code: '51440002', display: 'Bilateral' } })],
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
    description: 'Tubal patency assessed after the reversal: one tube patent, the other blocked. Not bilateral, so no IVF referral; patency is already known, so no new HSG or laparoscopy.',
    rules: ['TR-F2', 'TR-F1'],
    now: NOW,
    resources: followUp({ sinceDays: 420, extra: [tubalPatency('patency', daysAgo(NOW, 30), 'patent', 'blocked-distal')] }),
    expect: { notProposed: [C.ivfReferral, C.hsg, C.lapChromopertubation], tasks: [] },
  },
  {
    name: 'tr-follow-up-blockage-before-reversal-ignored',
    plan,
    description: 'A bilateral occlusion recorded before the reversal (the ligated tubes) does not count: no IVF referral; one year without pregnancy, so patency is assessed.',
    rules: ['TR-F2', 'TR-F1'],
    now: NOW,
    resources: followUp({
      sinceDays: 400,
      extra: [condition('old-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', { onset: daysAgo(NOW, 700), bodySite: { system: SCT, code: '51440002', display: 'Bilateral' } })],
    }),
    expect: { proposed: [{ code: C.hsg }, { code: C.lapChromopertubation }], notProposed: [C.ivfReferral], tasks: [] },
  },
];
