/**
 * Clinical test cases for the audit findings on the protocol artifacts (session 12): records the
 * protocols must not read as usable (a menses-end without a day, a date after today, a result dated
 * by an instant or a period, an event not dated the expected way, the patient herself). Each case
 * states the safe outcome from the rules (clinical-rules.md HSG-*, HYS-*, TR-*, SAFE-*).
 */
import type { Resource } from '@medplum/fhirtypes';
import { C } from './codes.ts';
import { daysAgo, lmpStart, mensesEnd } from './fixtures.ts';
import { record as hsgRecord } from './hysterosalpingography.ts';
import { record as hysRecord } from './infertility-hysteroscopy.ts';
import type { CaseSpec } from './schema.ts';
import { record as trRecord } from './tubal-reanastomosis.ts';

const HSG_NOW = '2026-03-10T09:00:00Z';
const HYS_NOW = '2026-05-20T09:00:00Z';
const TR_NOW = '2026-07-14T09:00:00Z';

/** The same resource with some elements replaced, and those named in `drop` removed. */
function edited(resource: Resource, changes: Record<string, unknown>, drop: string[] = []): Resource {
  const out: Record<string, unknown> = { ...resource, ...changes };
  for (const key of drop) delete out[key];
  return out as unknown as Resource;
}

/** A menses-end record with no value (the date the record was made is not the end of bleeding). */
const mensesEndNoValue = (now: string) => edited(mensesEnd('menses-end', daysAgo(now, 6)), {}, ['valueDateTime']);

/** What the module's menses-end profile says of a record without a value (a server may still hold one). */
const NO_VALUE = ['Observation/menses-end: Missing required property'];

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
];
