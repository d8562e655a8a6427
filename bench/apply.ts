/**
 * Benchmark: PlanDefinition/$apply over a 30-action plan.
 *
 * Prints, for a patient with 250 resources (200 Observations + 50 Conditions) and again with 2,000:
 * applies/s, p50/p99 per apply and heap, for (a) our engine (index once, bind DataRequirement-
 * filtered arrays as %variables, compiled expressions) and (b) the naive baseline measured in the
 * same run: the same conditions as FHIRPath over the whole Bundle (compiled once, as the faster
 * peers do), and the ratio between them; and the engine again with the FHIRPath fast path off
 * (fhirpath.js only, the safety switch), so the fast path's share shows. Figures only: no assertions.
 *
 *   npm run bench            (BENCH_SECONDS=2 by default per scenario)
 */
import { performance } from 'node:perf_hooks';
import type { Bundle, Condition, Observation, Patient, PlanDefinition, PlanDefinitionAction, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, compileKnowledge } from '../src/engine/index.ts';
import { clockVariables, compileFhirPath, makeClock } from '../src/fhirpath/fhirpath-engine.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const NOW = '2026-11-23T09:00:00Z';
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const ACTIONS = 30;

const patient: Patient = { resourceType: 'Patient', id: 'bench', gender: 'female', birthDate: '1990-01-01' };

/** Action i reads either Observations with code obs-i or Conditions with code cond-i. */
function codeOf(i: number): { type: 'Observation' | 'Condition'; system: string; code: string } {
  return i % 3 === 2 ? { type: 'Condition', system: SCT, code: `cond-${i}` } : { type: 'Observation', system: LOINC, code: `obs-${i}` };
}

const conditionOf = (variable: string, type: string) =>
  type === 'Observation'
    ? `${variable}.where(status = 'final' and value.ofType(Quantity).value > 50).exists() and %patient.gender = 'female'`
    : `${variable}.where(clinicalStatus.coding.code = 'active').exists() and %patient.birthDate > today() - 60 years`;

function buildPlan(): PlanDefinition {
  const actions: PlanDefinitionAction[] = [];
  for (let i = 0; i < ACTIONS; i++) {
    const { type, system, code } = codeOf(i);
    actions.push({
      id: `a${i}`,
      title: `Action ${i}`,
      input: [{ id: `in${i}`, type, codeFilter: [{ path: 'code', code: [{ system, code }] }] }],
      condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: conditionOf(`%in${i}`, type) } }],
    });
  }
  return { resourceType: 'PlanDefinition', id: 'bench-plan', url: 'http://example.org/PlanDefinition/bench', version: '1', status: 'active', action: actions };
}

/** The same conditions written over the whole record, as engines without an index must. */
function baselineExpressions(): string[] {
  return Array.from({ length: ACTIONS }, (_, i) => {
    const { type, system, code } = codeOf(i);
    const scan = `%bundle.entry.resource.ofType(${type}).where(code.coding.exists(system = '${system}' and code = '${code}'))`;
    return conditionOf(scan, type);
  });
}

function record(total: number): Resource[] {
  const resources: Resource[] = [patient];
  const observations = Math.round((total * 4) / 5);
  for (let n = 0; n < observations; n++) {
    // Most Observations have codes no action reads, as in a real chart.
    const code = n % 10 === 0 ? `obs-${n % ACTIONS}` : `other-${n}`;
    const obs: Observation = {
      resourceType: 'Observation',
      id: `o${n}`,
      status: 'final',
      code: { coding: [{ system: LOINC, code }] },
      subject: { reference: 'Patient/bench' },
      effectiveDateTime: '2026-10-01',
      valueQuantity: { value: n % 100, unit: 'mg' },
    };
    resources.push(obs);
  }
  for (let n = 0; n < total - observations; n++) {
    const code = n % 5 === 0 ? `cond-${n % ACTIONS}` : `other-cond-${n}`;
    const condition: Condition = {
      resourceType: 'Condition',
      id: `c${n}`,
      subject: { reference: 'Patient/bench' },
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: { coding: [{ system: SCT, code }] },
    };
    resources.push(condition);
  }
  return resources;
}

interface Figures {
  opsPerSecond: number;
  p50: number;
  p99: number;
  heapMb: number;
}

function measure(run: () => void): Figures {
  for (let i = 0; i < 50; i++) run();
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const total = samples.reduce((a, b) => a + b, 0);
  return {
    opsPerSecond: samples.length / (total / 1000),
    p50: samples[Math.floor(samples.length * 0.5)]!,
    p99: samples[Math.floor(samples.length * 0.99)]!,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

const fmt = (f: Figures) =>
  `${f.opsPerSecond.toFixed(0).padStart(8)} ops/s   p50 ${f.p50.toFixed(3).padStart(8)} ms   p99 ${f.p99.toFixed(3).padStart(8)} ms   heap ${f.heapMb.toFixed(1)} MB`;

const plan = buildPlan();
const knowledge = compileKnowledge([plan]);
const slowKnowledge = compileKnowledge([plan], { fastPath: false });
const baseline = baselineExpressions().map(compileFhirPath);

console.log(`PlanDefinition/$apply benchmark - ${ACTIONS} actions, Node ${process.version}, ${SECONDS}s per scenario`);
for (const size of [250, 2000]) {
  const resources = record(size);
  const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
  let applicable = 0;
  const engine = measure(() => {
    const result = applyPlanDefinition(plan, { subject: patient, data: buildPatientData(resources) }, { now: NOW }, knowledge);
    applicable = result.requestGroup.action?.length ?? 0;
  });
  let baselineTrue = 0;
  const vars = { ...clockVariables(makeClock(NOW)), patient, bundle };
  const naive = measure(() => {
    baselineTrue = 0;
    for (const expression of baseline) if (expression(plan, vars)[0] === true) baselineTrue++;
  });
  console.log(
    `\n${size} resources (${resources.filter((r) => r.resourceType === 'Observation').length} Observations, ${resources.filter((r) => r.resourceType === 'Condition').length} Conditions); ${applicable} of ${ACTIONS} actions applicable (baseline agrees: ${baselineTrue === applicable})`,
  );
  const slowEngine = measure(() => {
    applyPlanDefinition(plan, { subject: patient, data: buildPatientData(resources) }, { now: NOW }, slowKnowledge);
  });
  console.log(`  engine (index + %vars, full apply incl. CarePlan): ${fmt(engine)}`);
  console.log(`  engine, fhirpath.js only (FHIRPATH_FAST_PATH=0):   ${fmt(slowEngine)}`);
  console.log(`  fast path: p50 ${(slowEngine.p50 / engine.p50).toFixed(2)}x, p99 ${(slowEngine.p99 / engine.p99).toFixed(2)}x the fhirpath.js-only engine`);
  console.log(`  naive baseline (same conditions over the Bundle):  ${fmt(naive)}`);
  console.log(`  ratio: engine is ${(naive.p50 / engine.p50).toFixed(1)}x faster at p50, ${(naive.p99 / engine.p99).toFixed(1)}x at p99`);
}
