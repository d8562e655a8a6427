/** Lint: element ids unique within a resource (#16: duplicate action.input ids found by HAPI). */
import { describe, expect, it } from 'vitest';
import type { OperationOutcome, PlanDefinition, Resource, ValueSet } from '@medplum/fhirtypes';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { lintArtifacts } from '../../src/lint/index.ts';
import { KNOWLEDGE } from '../support/cli.ts';

const artifacts = readArtifacts([KNOWLEDGE]).map((a) => ({ ...a, file: a.file.split('/').pop()! }));
const demoPlan = () => structuredClone(artifacts.find((a) => a.resource.resourceType === 'PlanDefinition')!.resource) as PlanDefinition;

function lintWith(changed: Resource): OperationOutcome {
  const all = [...artifacts.filter((a) => a.resource.resourceType !== changed.resourceType), { file: 'changed.json', resource: changed }];
  return lintArtifacts(all, compileKnowledge(all.map((a) => a.resource)));
}

const duplicates = (o: OperationOutcome) => o.issue.filter((i) => i.code === 'duplicate').map((i) => i.diagnostics ?? '');

describe('lint: duplicate element ids', () => {
  it('flags the same action.input id in two actions of one PlanDefinition, naming both places', () => {
    const plan = demoPlan();
    const first = plan.action![0]!;
    plan.action!.push({ id: 'second', title: 'again', input: [{ id: first.input![0]!.id!, type: 'Observation' }], definitionCanonical: first.definitionCanonical! });
    expect(duplicates(lintWith(plan))).toEqual([
      "changed.json: PlanDefinition.action[1].input[0].id: element id 'pregnancyTests' is already used at PlanDefinition.action[0].input[0]: element ids must be unique within a resource",
    ]);
  });

  it('flags a copied action (its input id; the action id once) and two contained resources with one id; a contained resource is its own scope for element ids', () => {
    const plan = demoPlan();
    plan.action!.push(structuredClone(plan.action![0]!));
    const vs: ValueSet = { resourceType: 'ValueSet', status: 'draft', compose: { include: [{ system: 'http://x', concept: [{ id: 'pregnancyTests', code: 'a' }] }] } };
    plan.contained = [
      { ...vs, id: 'vs1' },
      { ...vs, id: 'vs1' },
    ];
    expect(duplicates(lintWith(plan))).toEqual([
      // (the action-id rule reports the action itself; the new rule does not repeat it)
      expect.stringMatching(/PlanDefinition\.action\[1\]\.id: action id 'imaging' is also used at PlanDefinition\.action\[0\]/),
      expect.stringMatching(/PlanDefinition\.action\[1\]\.input\[0\]\.id: element id 'pregnancyTests' is already used at PlanDefinition\.action\[0\]\.input\[0\]/),
      expect.stringMatching(/PlanDefinition\.contained\[1\]\.id: contained resource id 'vs1' is already used at PlanDefinition\.contained\[0\]/),
    ]);
  });

  it('accepts the same ElementDefinition ids in a StructureDefinition snapshot and differential, and the shipped artifacts', () => {
    const shipped = readArtifacts();
    expect(shipped.some((a) => a.resource.resourceType === 'StructureDefinition')).toBe(true);
    expect(duplicates(lintArtifacts(shipped, compileKnowledge(shipped.map((a) => a.resource))))).toEqual([]);
  });
});
