/**
 * Runs every clinical test case (tests/protocols/<plan id>/*.json): applies the plan to the
 * case's patient at the case's `now` and checks the CarePlan's contained RequestGroup and requests
 * against the expected outcome written from the rules (proposed with window, contraindicated with
 * the patient data that caused it, not proposed, collect-information Tasks).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CarePlan, CodeableConcept, Patient, PlanDefinition, Reference, RequestGroup, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { validateResources } from '../../src/validation/validate.ts';
import { loadCases, type LoadedCase } from './cases/load.ts';
import type { CaseFile } from './cases/schema.ts';

const knowledge = loadKnowledge();

type AnyRequest = Resource & {
  doNotPerform?: boolean;
  code?: CodeableConcept;
  medicationCodeableConcept?: CodeableConcept;
  category?: CodeableConcept[];
  reasonReference?: Reference[];
  supportingInfo?: Reference[];
  reasonCode?: CodeableConcept | CodeableConcept[];
  occurrencePeriod?: { start?: string; end?: string };
};

/** R4 restricts ServiceRequest.reasonReference to these; other evidence is cited in supportingInfo. */
const REASON_REFERENCE_TYPES = ['Condition', 'Observation', 'DiagnosticReport', 'DocumentReference'];

/**
 * The patient data a request cites, wherever R4 lets it stand (a case's `reasonReference` lists the
 * evidence, not the element), after checking that reasonReference holds only the types R4 allows there.
 */
function evidenceOf(r: AnyRequest): string[] {
  const reasons = (r.reasonReference ?? []).map((x) => x.reference ?? '');
  expect(
    reasons.filter((ref) => !REASON_REFERENCE_TYPES.includes(ref.split('/')[0] ?? '')),
    `${r.resourceType}/${r.id ?? ''}: reasonReference of a type R4 does not allow`,
  ).toEqual([]);
  return [...reasons, ...(r.supportingInfo ?? []).map((x) => x.reference ?? '')].sort();
}

const REQUEST_TYPES = new Set(['ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'Task']);

/** The codes a request carries in the element that says what it is. */
function codesOf(r: AnyRequest): string[] {
  const concepts: CodeableConcept[] =
    r.resourceType === 'MedicationRequest' ? [r.medicationCodeableConcept ?? {}] : r.resourceType === 'CommunicationRequest' ? (r.category ?? []) : [r.code ?? {}];
  return concepts.flatMap((c) => (c.coding ?? []).map((k) => `${k.system}|${k.code}`));
}

function isCollectTask(r: AnyRequest): boolean {
  return r.resourceType === 'Task' && codesOf(r).includes('http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type|collect-information');
}

function taskElementCodes(r: AnyRequest): string[] {
  const reason = Array.isArray(r.reasonCode) ? r.reasonCode : r.reasonCode ? [r.reasonCode] : [];
  // An element with no code of its own (Patient.birthDate) is named by its path in reasonCode.text.
  return reason.flatMap((c) => (c.coding?.length ? c.coding.map((k) => `${k.system}|${k.code}`) : c.text ? [c.text] : []));
}

/** Every `#id` a RequestGroup (and its nested RequestGroups) points to. */
function referencedIds(group: RequestGroup, contained: Map<string, Resource>): Set<string> {
  const ids = new Set<string>();
  const walk = (actions: RequestGroupAction[] | undefined) => {
    for (const a of actions ?? []) {
      const ref = a.resource?.reference;
      if (ref?.startsWith('#')) {
        const id = ref.slice(1);
        ids.add(id);
        const nested = contained.get(id);
        if (nested?.resourceType === 'RequestGroup') walk(nested.action);
      }
      walk(a.action);
    }
  };
  walk(group.action);
  return ids;
}

function applyCase(c: LoadedCase) {
  const resources = c.spec.bundle.entry.map((e) => e.resource as unknown as Resource);
  const subject = resources.find((r): r is Patient => r.resourceType === 'Patient');
  if (!subject) throw new Error(`${c.file}: no Patient`);
  const plan = knowledge.byId<PlanDefinition>('PlanDefinition', c.plan);
  if (!plan) throw new Error(`${c.file}: no PlanDefinition ${c.plan}`);
  return { resources, result: applyPlanDefinition(plan, { subject, data: buildPatientData(resources) }, { now: c.spec.now }, knowledge) };
}

const cases = loadCases();
const EXAMPLES_DIR = join(PROJECT_ROOT, 'examples');
const examples = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.json') && cases.some((c) => `${c.name}.json` === f))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), file: join(EXAMPLES_DIR, f) }));

describe('clinical test cases', () => {
  it('exist for every protocol', () => {
    expect(new Set(cases.map((c) => c.plan))).toEqual(new Set(['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy', 'infertility-work-up-pathway']));
  });

  it.each(cases.map((c) => ({ ...c, label: `${c.plan}/${c.name}` })))('$label', (c) => {
    checkCase(c);
  });

  it.each(examples)('example $name applies as its test case', ({ name, file }) => {
    const c = cases.find((x) => x.name === name);
    expect(c, `examples/${name}.json has a test case`).toBeDefined();
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as CaseFile['bundle'];
    expect(bundle.timestamp, 'the demo clock is the case now').toBe(c!.spec.now);
    checkCase({ ...c!, spec: { ...c!.spec, bundle } }, (r) => r.replace('/', `/${name.slice(0, 40)}-`));
  });
});

function checkCase(c: LoadedCase, ref: (r: string) => string = (r) => r): void {
  const { resources, result } = applyCase(c);

  // The patient record itself is valid R4 and conforms to the module profiles (or has exactly the errors the case is about).
  const invalid = validateResources(resources).flatMap(({ resource, outcome }) =>
    (outcome.issue ?? [])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${resource.resourceType}/${resource.id}: ${i.details?.text ?? i.diagnostics}`),
  );
  expect(invalid, 'patient data conforms').toEqual(c.spec.nonConforming ?? []);

  // No expression failed while applying.
  const errors = (result.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => i.diagnostics);
  expect(errors, 'apply errors').toEqual([]);

  const carePlan = result.carePlan as CarePlan;
  const contained = new Map((carePlan.contained ?? []).map((r) => [r.id ?? '', r]));
  const group = (carePlan.contained ?? []).find((r): r is RequestGroup => r.resourceType === 'RequestGroup' && r.id === 'requestgroup');
  expect(group, 'contained RequestGroup').toBeDefined();
  const inGroup = referencedIds(group!, contained);
  const requests = [...contained.values()].filter((r): r is AnyRequest => REQUEST_TYPES.has(r.resourceType));
  for (const r of requests) expect(inGroup.has(r.id ?? ''), `${r.resourceType}/${r.id} is referenced from the RequestGroup`).toBe(true);

  const active = requests.filter((r) => r.resourceType !== 'Task' && r.doNotPerform !== true);
  const forbidden = requests.filter((r) => r.doNotPerform === true);
  const tasks = requests.filter(isCollectTask);
  const expected = c.spec.expect;

  for (const p of expected.proposed) {
    const match = active.filter((r) => codesOf(r).includes(p.code));
    expect(match.length, `proposed ${p.code}`).toBeGreaterThan(0);
    if (p.occurrencePeriod)
      expect(
        match.map((r) => r.occurrencePeriod),
        `window of ${p.code}`,
      ).toContainEqual(p.occurrencePeriod);
    if (p.reasonReference) {
      expect(match.map(evidenceOf), `reasons of ${p.code}`).toContainEqual(p.reasonReference.map(ref).sort());
    }
  }
  for (const code of expected.notProposed) {
    expect(
      active.filter((r) => codesOf(r).includes(code)).map((r) => r.id),
      `not proposed ${code}`,
    ).toEqual([]);
  }

  const actualForbidden = forbidden.map((r) => ({
    codes: codesOf(r),
    reasons: evidenceOf(r),
    hasReasonCode: r.reasonCode !== undefined,
  }));
  expect(actualForbidden.length, `contraindicated: ${JSON.stringify(actualForbidden)}`).toBe(expected.contraindicated.length);
  for (const ci of expected.contraindicated) {
    const hit = actualForbidden.find((f) => f.codes.includes(ci.code) && JSON.stringify(f.reasons) === JSON.stringify(ci.reasonReference.map(ref).sort()));
    expect(hit, `contraindicated ${ci.code} because of ${ci.reasonReference.join(', ')}: got ${JSON.stringify(actualForbidden)}`).toBeDefined();
    expect(hit?.hasReasonCode, `reasonCode on the do-not-perform ${ci.code}`).toBe(true);
  }

  const taskCodes = tasks.map(taskElementCodes);
  expect(tasks.length, `tasks: ${JSON.stringify(taskCodes)}`).toBe(expected.tasks.length);
  const unmatched = [...taskCodes];
  for (const code of expected.tasks) {
    const i = unmatched.findIndex((codes) => codes.includes(code));
    expect(i, `a collect-information Task naming ${code}: got ${JSON.stringify(taskCodes)}`).toBeGreaterThanOrEqual(0);
    unmatched.splice(i, 1);
  }
}
