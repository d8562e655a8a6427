/**
 * `npm run demo`: applies the three protocols to every bundled example patient (examples/*.json)
 * and prints what each protocol proposes, forbids and needs, in readable form.
 * The clock is each example Bundle's `timestamp` (fixed), so the demo prints the same every day.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData } from '../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';
import { renderResult } from '../src/report/render-result.ts';

const DEFAULT_NOW = '2026-11-23T09:00:00Z';
const PLANS = ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy'];

const knowledge = loadKnowledge();
const plans = PLANS.map((id) => knowledge.byId<PlanDefinition>('PlanDefinition', id)).filter((p): p is PlanDefinition => p !== undefined);
const dir = join(PROJECT_ROOT, 'examples');
const files = readdirSync(dir, { withFileTypes: true })
  .filter((f) => f.isFile() && f.name.endsWith('.json'))
  .map((f) => f.name)
  .sort();
if (plans.length === 0 || files.length === 0) {
  console.error(`nothing to demo: ${plans.length} protocols, ${files.length} example patients`);
  process.exit(1);
}
for (const file of files) {
  const bundle = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Bundle;
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
  if (!patient) continue;
  const now = bundle.timestamp ?? DEFAULT_NOW;
  console.log(`\n=== ${file}: Patient/${patient.id} born ${patient.birthDate ?? '?'}, applied at ${now}`);
  const data = buildPatientData(resources);
  for (const plan of plans) {
    const result = applyPlanDefinition(plan, { subject: patient, data }, { now }, knowledge);
    console.log(renderResult(result, `  [${plan.title ?? plan.id}]`).join('\n'));
  }
}
