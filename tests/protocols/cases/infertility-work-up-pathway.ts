/**
 * Cases for the pathway PlanDefinition: the links between the protocols hold in one apply
 * (HSG cavity defect -> hysteroscopy; failed reversal -> HSG; both tubes blocked -> IVF).
 */
import { C } from './codes.ts';
import {
  birthDateFor,
  condition,
  daysAfter,
  daysAgo,
  hsgCavity,
  LOCAL,
  noKnownAllergy,
  patient,
  period,
  pregnancyTest,
  procedure,
  SCT,
} from './fixtures.ts';
import type { CaseSpec } from './schema.ts';

const NOW = '2026-09-08T09:00:00Z';
const plan = 'infertility-work-up-pathway' as const;
const hsgWindow = { start: daysAfter(daysAgo(NOW, 6), 5), end: daysAfter(daysAgo(NOW, 6), 7) };

export const PATHWAY_CASES: CaseSpec[] = [
  {
    name: 'pathway-infertility-hsg-cavity-defect',
    plan,
    description: 'Infertile woman (no ligation) whose earlier HSG showed a filling defect: the pathway proposes HSG for the tubes and hysteroscopy for the cavity (HYS-I4), both in their windows.',
    rules: ['HSG-I1', 'HYS-I4'],
    now: NOW,
    resources: [
      patient(birthDateFor(NOW, 30, 10)),
      condition('infertility', SCT, '5084002', 'Primary female infertility', { onset: '2025-05-01' }),
      hsgCavity('hsg-cavity', daysAgo(NOW, 40), 'filling-defect'),
      ...period('menses', daysAgo(NOW, 6)),
      pregnancyTest('hcg', daysAgo(NOW, 1), 'negative'),
      noKnownAllergy(),
    ],
    expect: {
      proposed: [
        { code: C.hsg, occurrencePeriod: hsgWindow, reasonReference: ['Condition/infertility'] },
        { code: C.hysteroscopy, occurrencePeriod: { start: daysAfter(daysAgo(NOW, 6), 3), end: daysAfter(daysAgo(NOW, 6), 10) }, reasonReference: ['Observation/hsg-cavity'] },
      ],
      notProposed: [C.reversalLapAssisted, C.ivfReferral],
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
      condition('bilateral-blockage', SCT, '85078005', 'Female infertility due to occlusion of fallopian tube', { onset: daysAgo(NOW, 30), bodySite: { system: SCT, code: '51440002', display: 'Bilateral' } }),
    ],
    expect: { proposed: [{ code: C.ivfReferral, reasonReference: ['Condition/bilateral-blockage'] }], notProposed: [C.hsg, C.lapChromopertubation], tasks: [] },
  },
];
