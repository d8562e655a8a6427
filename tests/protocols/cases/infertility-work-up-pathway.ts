/**
 * Cases for the pathway PlanDefinition: the links between the protocols hold in one apply
 * (HSG cavity defect -> hysteroscopy; failed reversal -> HSG; both tubes blocked -> IVF; a recent
 * HSG is used, not repeated: SAFE-6, SAFE-7). Dates: never before today, after the work-up (SAFE-5).
 */
import { C } from './codes.ts';
import {
  birthDateFor,
  condition,
  daysAfter,
  daysAgo,
  fitness,
  hsgCavity,
  LOCAL,
  noKnownAllergy,
  patient,
  period,
  pregnancyTest,
  procedure,
  SCT,
  tubalPatency,
} from './fixtures.ts';
import type { CaseSpec } from './schema.ts';

const NOW = '2026-09-08T09:00:00Z';
const plan = 'infertility-work-up-pathway' as const;
const TODAY = NOW.slice(0, 10);
/** Day 5-7 after the menses of 6 days ago, from tomorrow (the discharge and iodine tests come first). */
const hsgWindow = { start: daysAfter(TODAY, 1), end: daysAfter(daysAgo(NOW, 6), 7) };
/** Day 3-10 after the menses of 6 days ago, from tomorrow (the pre-operative work-up comes first). */
const hysteroscopyWindow = { start: daysAfter(TODAY, 1), end: daysAfter(daysAgo(NOW, 6), 10) };

export const PATHWAY_CASES: CaseSpec[] = [
  {
    name: 'pathway-infertility-hsg-cavity-defect',
    plan,
    description:
      'Infertile woman (no ligation) whose HSG 40 days ago showed a filling defect, its tubal result not recorded: the HSG is not repeated, its tubal result is asked for (SAFE-6), and hysteroscopy is proposed for the cavity (HYS-I4) from tomorrow, after the work-up.',
    rules: ['HSG-I1', 'HYS-I4', 'SAFE-6', 'SAFE-7'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 30, 10)),
      condition('infertility', SCT, '5084002', 'Primary female infertility', { onset: '2025-05-01' }),
      hsgCavity('hsg-cavity', daysAgo(NOW, 40), 'filling-defect'),
      ...period('menses', daysAgo(NOW, 6)),
      pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
      noKnownAllergy(),
      fitness('fitness', daysAgo(NOW, 2), true),
    ],
    expect: {
      proposed: [{ code: C.hysteroscopy, occurrencePeriod: hysteroscopyWindow, reasonReference: ['Observation/hsg-cavity'] }],
      notProposed: [C.hsg, C.reversalLapAssisted, C.ivfReferral],
      tasks: [C.tubalPatencyResult],
    },
  },
  {
    name: 'pathway-hsg-just-done-not-repeated',
    plan,
    description: 'An HSG 20 days ago: one tube patent, cavity normal. The pathway uses the result: no new HSG, no hysteroscopy (no indication), no IVF referral (SAFE-6).',
    rules: ['SAFE-6', 'HSG-I1'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 30, 10)),
      condition('infertility', SCT, '5084002', 'Primary female infertility', { onset: '2025-05-01' }),
      procedure('hsg-done', SCT, '168884001', 'Hysterosalpingography', daysAgo(NOW, 20)),
      tubalPatency('patency', daysAgo(NOW, 20), 'patent', 'blocked-distal'),
      hsgCavity('hsg-cavity', daysAgo(NOW, 20), 'normal'),
      ...period('menses', daysAgo(NOW, 6)),
      pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
      noKnownAllergy(),
      fitness('fitness', daysAgo(NOW, 2), true),
    ],
    expect: { notProposed: [C.hsg, C.hysteroscopy, C.ivfReferral, C.hycosy], tasks: [] },
  },
  {
    name: 'pathway-infertility-both-tubes-blocked-ivf',
    plan,
    description: 'Infertile woman (no ligation) whose HSG 30 days ago showed both tubes blocked: the pathway refers her for IVF (TR-F2) and proposes no new HSG (SAFE-7).',
    rules: ['SAFE-7', 'TR-F2'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 33, 10)),
      condition('infertility', SCT, '5084002', 'Primary female infertility', { onset: '2025-05-01' }),
      procedure('hsg-done', SCT, '168884001', 'Hysterosalpingography', daysAgo(NOW, 30)),
      tubalPatency('patency', daysAgo(NOW, 30), 'blocked-proximal', 'blocked-proximal'),
      ...period('menses', daysAgo(NOW, 6)),
      pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
      noKnownAllergy(),
      fitness('fitness', daysAgo(NOW, 2), true),
    ],
    expect: {
      proposed: [{ code: C.ivfReferral, reasonReference: ['Observation/patency'] }],
      notProposed: [C.hsg, C.hycosy, C.lapChromopertubation, C.reversalLapAssisted],
      tasks: [],
    },
  },
  {
    name: 'pathway-failed-reversal-hsg',
    plan,
    description: 'Sterilised, reversal 14 months ago, no pregnancy: the pathway follows the reversal protocol to the HSG follow-up (not a second reversal, not a second HSG).',
    rules: ['TR-F1', 'HSG-I2'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 37, 10)),
      procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2015-06-01'),
      procedure('reversal', LOCAL, 'tubal-reanastomosis-open-microsurgical', 'Open microsurgical tubal reanastomosis', daysAgo(NOW, 425)),
      ...period('menses', daysAgo(NOW, 6)),
      pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
      noKnownAllergy(),
      fitness('fitness', daysAgo(NOW, 2), true),
    ],
    expect: {
      proposed: [{ code: C.hsg, occurrencePeriod: hsgWindow, reasonReference: ['Procedure/reversal'] }, { code: C.lapChromopertubation }],
      notProposed: [C.reversalOpen, C.reversalLapAssisted, C.hysteroscopy, C.ivfReferral],
      tasks: [],
    },
    example: true,
  },
  {
    name: 'pathway-failed-reversal-both-tubes-blocked-ivf',
    plan,
    description: 'After the reversal both tubes were found blocked: the pathway ends in an IVF referral.',
    rules: ['TR-F2'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 38, 10)),
      procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2014-06-01'),
      procedure('reversal', LOCAL, 'tubal-reanastomosis-laparoscopic', 'Laparoscopic tubal reanastomosis', daysAgo(NOW, 500)),
      condition('bilateral-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', {
        onset: daysAgo(NOW, 30),
        bodySite: { system: SCT, code: '51440002', display: 'Bilateral' },
      }),
    ],
    expect: { proposed: [{ code: C.ivfReferral, reasonReference: ['Condition/bilateral-blockage'] }], notProposed: [C.hsg, C.lapChromopertubation], tasks: [] },
  },

  {
    name: 'pathway-hsg-and-hysteroscopy-share-workup-once',
    plan,
    description:
      'Unexplained infertility: the pathway plans both HSG (tubes) and hysteroscopy (HYS-I6). The discharge exam both need is ordered once, dated before either procedure (SAFE-6, SAFE-5). The pregnancy test of the procedure day is not shared: one is dated with the HSG, one with the hysteroscopy, whose windows differ (SAFE-2 over SAFE-6: a test in the overlap of the windows would speak for neither day).',
    rules: ['SAFE-6', 'SAFE-2', 'HYS-I6', 'HSG-I1'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 32, 10)),
      condition('unexplained', SCT, '1148927006', 'Idiopathic female infertility', { onset: '2025-05-01' }),
      condition('infertility', SCT, '5084002', 'Primary female infertility', { onset: '2025-05-01' }),
      ...period('menses', daysAgo(NOW, 6)),
      pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
      noKnownAllergy(),
      fitness('fitness', daysAgo(NOW, 2), true),
    ],
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: hsgWindow },
        { code: C.hysteroscopy, occurrencePeriod: hysteroscopyWindow },
        { code: C.leukorrhea, occurrencePeriod: { start: TODAY, end: TODAY } },
        { code: C.pregnancyTestProcedureDay, occurrencePeriod: hsgWindow },
        { code: C.pregnancyTestProcedureDay, occurrencePeriod: hysteroscopyWindow },
      ],
      notProposed: [C.ivfReferral],
      tasks: [],
    },
  },
];
