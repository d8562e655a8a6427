/**
 * The fast path is an optimisation only: every clinical case gives byte-identical output with it
 * on and off (the safety switch), the switch reaches the knowledge, and lint says which artifact
 * expressions run on fhirpath.js and why.
 */
import type { Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { fastPathOption } from '../../src/fhirpath/fast-path/switch.ts';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge, readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { fastPathReport } from '../../src/lint/fast-path-routes.ts';
import { clinicalCases, PLAN_IDS } from './capture-evaluations.ts';

describe('fast path on and off', () => {
  const on = loadKnowledge(undefined, { fastPath: true });
  const off = loadKnowledge(undefined, { fastPath: false });

  it('every expression of the artifacts is on the fast path by default, none when switched off', () => {
    const routes = [...on.expressionRoutes.values()];
    expect(routes.length).toBeGreaterThan(200);
    expect(routes.filter((r) => !r.fastPath)).toEqual([]);
    expect([...off.expressionRoutes.values()].every((r) => !r.fastPath && r.reason === 'fast path switched off')).toBe(true);
    expect(loadKnowledge().fastPath).toBe(true);
  });

  it('every clinical case x plan x output mode is byte-identical with the fast path on and off', () => {
    let compared = 0;
    for (const c of clinicalCases()) {
      const subject = c.resources.find((r): r is Patient => r.resourceType === 'Patient')!;
      for (const id of PLAN_IDS) {
        for (const mode of ['r4', 'cpg'] as const) {
          const run = (knowledge: typeof on) => {
            const plan = knowledge.byId<PlanDefinition>('PlanDefinition', id)!;
            const result = applyPlanDefinition(plan, { subject, data: buildPatientData(c.resources) }, { now: c.now, mode }, knowledge);
            return JSON.stringify({ output: result.carePlan ?? result.bundle, outcome: result.outcome, trace: result.trace, missing: result.missing });
          };
          expect(run(on), `${c.name} ${id} ${mode}`).toBe(run(off));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('FHIRPATH_FAST_PATH: 0, false and off switch it off; unset or anything else leaves it on', () => {
    for (const text of ['0', 'false', 'OFF', ' off ']) expect(fastPathOption(text)).toEqual({ fastPath: false });
    for (const text of [undefined, '', '1', 'on', 'true']) expect(fastPathOption(text)).toEqual({ fastPath: true });
  });
});

describe('lint: expressions on fhirpath.js', () => {
  it('names each artifact expression outside the subset, where it is and why', () => {
    const library: Resource = {
      resourceType: 'Library',
      id: 'slow',
      status: 'active',
      type: { coding: [{ code: 'logic-library' }] },
      extension: [
        { url: 'x', valueExpression: { language: 'text/fhirpath', expression: '%patient.descendants().count()' } },
        { url: 'y', valueExpression: { language: 'text/fhirpath', expression: '%patient.birthDate.exists()' } },
      ],
    } as Resource;
    const context = readArtifacts(DEFAULT_ARTIFACT_DIRS).map((a) => a.resource);
    const knowledge = compileKnowledge([...context, library]);
    expect(fastPathReport(knowledge, [{ resource: library }])).toEqual([
      'fast path: 1 of 2 artifact expressions compiled, 1 on fhirpath.js',
      "  fhirpath.js: Library/slow extension[0].valueExpression: function descendants() is not in the fast path's subset",
    ]);
    expect(fastPathReport(compileKnowledge([library], { fastPath: false }), [{ resource: library }])).toEqual([
      'fast path: switched off (FHIRPATH_FAST_PATH=0): every expression runs on fhirpath.js',
    ]);
  });
});
