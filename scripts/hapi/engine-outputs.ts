/**
 * What the engine produces for the clinical test cases: every case under tests/protocols/<plan>/
 * applied with each protocol in both output modes (R4 CarePlan, CPG Bundle), with the case's own
 * fixed `now`. Written as one JSON file per distinct output, so external tools (the HL7 validator,
 * HAPI's $apply comparison) can read them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import type { CompiledKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';

export const PLAN_IDS = ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy', 'infertility-work-up-pathway'];

export interface ClinicalCase {
  /** e.g. hysterosalpingography/hsg-ci-heart-failure */
  name: string;
  now: string;
  resources: Resource[];
  subject: Patient;
}

export function readClinicalCases(): ClinicalCase[] {
  const casesDir = join(PROJECT_ROOT, 'tests', 'protocols');
  return PLAN_IDS.flatMap((plan) =>
    readdirSync(join(casesDir, plan))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const spec = JSON.parse(readFileSync(join(casesDir, plan, f), 'utf8')) as { now: string; bundle: { entry: { resource: Resource }[] } };
        const resources = spec.bundle.entry.map((e) => e.resource);
        const subject = resources.find((r): r is Patient => r.resourceType === 'Patient');
        if (!subject) throw new Error(`${plan}/${f}: the case has no Patient`);
        return { name: `${plan}/${f.replace(/\.json$/, '')}`, now: spec.now, resources, subject };
      }),
  );
}

/** Writes each distinct output once; returns the files written and how many results they stand for. */
export function writeEngineOutputs(dir: string, knowledge: CompiledKnowledge): { files: string[]; results: number } {
  const seen = new Set<string>();
  const files: string[] = [];
  let results = 0;
  for (const clinicalCase of readClinicalCases()) {
    for (const planId of PLAN_IDS) {
      const plan = knowledge.byId<PlanDefinition>('PlanDefinition', planId);
      if (!plan) throw new Error(`PlanDefinition/${planId} is not in the knowledge`);
      for (const mode of ['r4', 'cpg'] as const) {
        const context = { subject: clinicalCase.subject, data: buildPatientData(clinicalCase.resources) };
        const result = applyPlanDefinition(plan, context, { now: clinicalCase.now, mode }, knowledge);
        const output = mode === 'r4' ? result.carePlan : result.bundle;
        if (!output) throw new Error(`${clinicalCase.name} ${planId} ${mode}: no output`);
        results += 1;
        const text = JSON.stringify(output, null, 1);
        const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
        if (seen.has(hash)) continue;
        seen.add(hash);
        const file = join(dir, `${clinicalCase.name.replace('/', '__')}__${planId}__${mode}.json`);
        writeFileSync(file, text);
        files.push(file);
      }
    }
  }
  return { files, results };
}
