/**
 * Applying the protocols for the safety invariants: one scenario (a subject's record at a `now`,
 * plus the variants the metamorphic invariants need: a second patient's records, entered-in-error
 * copies, a time shift) applied to each PlanDefinition, every apply memoised so that the ten
 * invariants share one apply per (plan, input).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CarePlan, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, type PatientData } from '../../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { loadCases } from '../protocols/cases/load.ts';
import fc from 'fast-check';
import { arbCase, arbOther, buildOther, buildRecord, type GenCase, type GenOther, withConditionVerification } from './population.ts';
import { datesIn, shiftIsCalendarSafe, viewOf, type PlanView } from './plan-output.ts';

export const PLANS = ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy', 'infertility-work-up-pathway'] as const;
export type PlanId = (typeof PLANS)[number];

export const knowledge = loadKnowledge();
const planDefinitions = new Map(PLANS.map((id) => [id, knowledge.byId<PlanDefinition>('PlanDefinition', id)!]));

type Json = Record<string, unknown>;
export type ApplyResult = ReturnType<typeof applyPlanDefinition>;

/** An input variant that must leave the subject's plan unchanged (SAFE-10), or change only its dates. */
export interface EieCopy {
  /** Index into the record's copyable resources (taken modulo their number). */
  index: number;
  /** Which "does not count" form: 0 = entered-in-error, 1 = cancelled / refuted / not-done. */
  kind: 0 | 1;
}

export interface Scenario {
  label: string;
  now: string;
  /** The subject's own record (Patient first). */
  record: Resource[];
  /** Another patient and her own records, in the same input (SAFE-1). */
  other: Resource[];
  eie: EieCopy[];
  /** Whole weeks to shift every date and now by (SAFE-10 / determinism); tried in order, the first calendar-safe one is used. */
  shiftWeeks: number[];
  /** For generated scenarios: what fast-check generated (printed with counterexamples). */
  gen?: GenCase;
}

// ---------------------------------------------------------------------------------------------
// The data boundary (SAFE-1): src/data/patient-compartment.ts when it exists, else the engine's
// index of everything in the input (today's behaviour, so that the test shows the fault).

type CompartmentFn = (resources: Resource[], subject: Patient) => unknown;
let compartmentFn: CompartmentFn | undefined;
let compartmentName = '(none: src/data/patient-compartment.ts does not exist; buildPatientData(all resources))';
const COMPARTMENT_FILE = join(PROJECT_ROOT, 'src', 'data', 'patient-compartment.ts');
if (existsSync(COMPARTMENT_FILE)) {
  const mod = (await import(COMPARTMENT_FILE)) as Record<string, unknown>;
  // selectPatientCompartment(resources, subject) -> { resources, dropped, issues }; else the first *compartment* function taking (resources, subject).
  const candidates = Object.entries(mod).filter(([name, v]) => typeof v === 'function' && /compartment/i.test(name) && (v as CompartmentFn).length >= 2);
  if (candidates.length === 0) throw new Error(`${COMPARTMENT_FILE} exports no function *compartment*(resources, subject): tests/safety/harness.ts cannot find the data boundary`);
  const [name, fn] = candidates.find(([n]) => n === 'selectPatientCompartment') ?? candidates[0]!;
  compartmentFn = fn as CompartmentFn;
  compartmentName = `src/data/patient-compartment.ts ${name}()`;
}
export const DATA_BOUNDARY = compartmentName;

/** The subject's data as the engine should see it: through the compartment function when there is one. */
export function patientDataFor(resources: Resource[], subject: Patient): PatientData {
  if (!compartmentFn) return buildPatientData(resources);
  const out = compartmentFn(resources, subject);
  if (Array.isArray(out)) return buildPatientData(out as Resource[]);
  const o = out as Json;
  if (o && typeof o === 'object') {
    if (typeof o.byType === 'function') return o as unknown as PatientData;
    for (const key of ['resources', 'compartment', 'records', 'kept']) if (Array.isArray(o[key])) return buildPatientData(o[key] as Resource[]);
    for (const key of ['data', 'patientData']) if (o[key] && typeof (o[key] as Json).byType === 'function') return o[key] as PatientData;
  }
  throw new Error(`${compartmentName} returned ${Object.keys(o ?? {}).join(', ')}: tests/safety/harness.ts does not know this shape`);
}

// ---------------------------------------------------------------------------------------------

export interface Applied {
  result: ApplyResult;
  view: PlanView;
  carePlan: CarePlan;
}

const cache = new Map<string, Applied>();
let applies = 0;
export const stats = () => ({ applies, cached: cache.size });

/** Applies a plan to `resources` (subject = the Patient with `subjectId`, default the first Patient) at `now`; memoised. */
export function apply(plan: PlanId, resources: Resource[], now: string, subjectId?: string): Applied {
  const key = `${plan}\u0000${now}\u0000${subjectId ?? ''}\u0000${JSON.stringify(resources)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const result = applyFresh(plan, resources, now, subjectId);
  const applied = { result, view: viewOf(result.carePlan as CarePlan), carePlan: result.carePlan as CarePlan };
  cache.set(key, applied);
  return applied;
}

/** Not memoised (for the determinism check). */
export function applyFresh(plan: PlanId, resources: Resource[], now: string, subjectId?: string): ApplyResult {
  const subject = resources.find((r): r is Patient => r.resourceType === 'Patient' && (subjectId === undefined || r.id === subjectId));
  if (!subject) throw new Error(`no subject Patient${subjectId ? `/${subjectId}` : ''}`);
  applies++;
  return applyPlanDefinition(planDefinitions.get(plan)!, { subject, data: patientDataFor(resources, subject) }, { now }, knowledge);
}

export function subjectOf(s: Scenario): Patient {
  return s.record.find((r): r is Patient => r.resourceType === 'Patient')!;
}

export function base(s: Scenario, plan: PlanId): Applied {
  return apply(plan, s.record, s.now, subjectOf(s).id);
}

// ---------------------------------------------------------------------------------------------
// Variants

const COPYABLE = new Set(['Observation', 'Condition', 'AllergyIntolerance', 'Procedure']);

/** The record's resources that can be given a "does not count" copy. */
export function copyable(record: Resource[]): Resource[] {
  return record.filter((r) => COPYABLE.has(r.resourceType));
}

/** A copy of `r` with a new id in a form that is never evidence (SAFE-10). */
export function notCountingCopy(r: Resource, kind: 0 | 1): Resource {
  const copy = JSON.parse(JSON.stringify(r)) as Json;
  copy.id = `${r.id}-void`;
  switch (r.resourceType) {
    case 'Observation':
      copy.status = kind === 0 ? 'entered-in-error' : 'cancelled';
      return copy as unknown as Resource;
    case 'Condition':
      return withConditionVerification(copy as unknown as Resource, kind === 0 ? 'entered-in-error' : 'refuted');
    case 'AllergyIntolerance':
      copy.verificationStatus = {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: kind === 0 ? 'entered-in-error' : 'refuted' }],
      };
      if (kind === 0) delete copy.clinicalStatus;
      return copy as unknown as Resource;
    case 'Procedure':
      copy.status = kind === 0 ? 'entered-in-error' : 'not-done';
      return copy as unknown as Resource;
    default:
      throw new Error(`no "does not count" form for ${r.resourceType}`);
  }
}

/** The first of the scenario's week shifts that is calendar-safe for all its dates (see shiftIsCalendarSafe), in days. */
export function safeShiftDays(s: Scenario): number | undefined {
  const dates = [...datesIn(s.record), s.now.slice(0, 10)];
  for (const w of s.shiftWeeks) if (w !== 0 && shiftIsCalendarSafe(dates, w * 7)) return w * 7;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

export function caseScenarios(): Scenario[] {
  return loadCases().map((c, i) => {
    const record = c.spec.bundle.entry.map((e) => e.resource as unknown as Resource);
    const others = buildOther(
      {
        form: (['relative', 'absolute', 'versioned'] as const)[i % 3]!,
        records: [
          'pregnant',
          'acute-pid',
          'abnormal-leukorrhea',
          'iodine-allergy',
          'heart-failure',
          'not-fit',
          'menses-end-old',
          'ligation',
          'reversal',
          'both-blocked',
          'cavity-defect',
          'infertility',
        ],
      },
      c.spec.now,
    );
    const n = copyable(record).length;
    return {
      label: `${c.plan}/${c.name}`,
      now: c.spec.now,
      record,
      other: others,
      eie: Array.from({ length: n }, (_, j) => ({ index: j, kind: ((i + j) % 2) as 0 | 1 })),
      shiftWeeks: [3, -2, 5, -4, 1, -1, 8, -8],
    };
  });
}

export interface GenScenario {
  gen: GenCase;
  other: GenOther;
  eie: EieCopy;
  shiftWeeks: number;
}

export function generatedScenario(g: GenScenario): Scenario {
  const record = buildRecord(g.gen);
  return {
    label: 'generated',
    now: g.gen.now,
    record,
    other: buildOther(g.other, g.gen.now),
    eie: [g.eie],
    shiftWeeks: [g.shiftWeeks, -g.shiftWeeks, 1, -1, 2, -2],
    gen: g.gen,
  };
}

/** The generated population: fixed seed, so every run (and every invariant) sees the same patients. */
export const SEED = 20_260_311;
export const NUM_RUNS = 400;

export const arbScenario: fc.Arbitrary<GenScenario> = fc.record({
  gen: arbCase,
  other: arbOther,
  eie: fc.record({ index: fc.nat(40), kind: fc.constantFrom(0 as const, 1 as const) }),
  shiftWeeks: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8),
});

/** What the plans propose across the generated population: evidence that the invariants are not vacuous. */
export function coverage(scenarios: Scenario[]): Record<string, number> {
  const out: Record<string, number> = { scenarios: scenarios.length };
  const inc = (key: string) => (out[key] = (out[key] ?? 0) + 1);
  const kinds: [string, (code: string) => boolean][] = [
    ['reversal', (c) => c.startsWith('http://infertility-protocols.org/fhir/CodeSystem/infertility-workup|tubal-reanastomosis-')],
    ['HSG', (c) => c === 'http://snomed.info/sct|168884001'],
    ['HyCoSy', (c) => c === 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup|hycosy'],
    ['hysteroscopy', (c) => c === 'http://snomed.info/sct|233545006'],
    ['IVF referral', (c) => c === 'http://snomed.info/sct|52637005'],
  ];
  for (const s of scenarios) {
    const active = PLANS.flatMap((plan) => base(s, plan).view.requests.filter((r) => r.active));
    for (const [name, test] of kinds) if (active.some((r) => r.codes.some(test))) inc(`${name} proposed`);
    if (PLANS.some((plan) => base(s, plan).view.requests.some((r) => !r.active))) inc('a doNotPerform');
    if (PLANS.some((plan) => base(s, plan).view.requests.some((r) => r.type === 'Task'))) inc('a Task');
  }
  return out;
}
