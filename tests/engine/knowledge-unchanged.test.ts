/**
 * Applying never changes the knowledge. Requests are built from the definitions' elements, and
 * dynamic values, reference checks and id rewrites then edit what was built: an element shared by
 * reference with a loaded ActivityDefinition or PlanDefinition would carry one patient's values into
 * every later apply (a HyCoSy text once leaked into the HSG atropine dosage that way). Every
 * clinical case is applied to every plan in both output modes, and the artifacts must serialise to
 * the same bytes afterwards.
 */
import type { Patient, PlanDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { clinicalCases, PLAN_IDS } from '../fhirpath/capture-evaluations.ts';

describe('the knowledge after applying', () => {
  it('every artifact is byte-identical after every clinical case x plan x mode was applied, and the outputs share no object with it', () => {
    const knowledge = loadKnowledge();
    const before = JSON.stringify(knowledge.all());
    const knowledgeObjects = new Set<object>();
    const collect = (value: unknown, into: Set<object>) => {
      if (value === null || typeof value !== 'object' || into.has(value)) return;
      into.add(value);
      for (const child of Object.values(value)) collect(child, into);
    };
    for (const artifact of knowledge.all()) collect(artifact, knowledgeObjects);
    let applied = 0;
    for (const c of clinicalCases()) {
      const subject = c.resources.find((r): r is Patient => r.resourceType === 'Patient')!;
      for (const id of PLAN_IDS) {
        for (const mode of ['r4', 'cpg'] as const) {
          const plan = knowledge.byId<PlanDefinition>('PlanDefinition', id)!;
          const result = applyPlanDefinition(plan, { subject, data: buildPatientData(c.resources) }, { now: c.now, mode }, knowledge);
          const shared = new Set<object>();
          collect(result.carePlan ?? result.bundle, shared);
          const leaked = [...shared].filter((o) => knowledgeObjects.has(o));
          expect(
            leaked.map((o) => JSON.stringify(o).slice(0, 120)),
            `${c.name} ${id} ${mode}: output objects shared with the knowledge`,
          ).toEqual([]);
          applied++;
        }
      }
    }
    expect(applied).toBeGreaterThan(1000);
    expect(JSON.stringify(knowledge.all()) === before, 'the knowledge changed while applying').toBe(true);
  });
});
