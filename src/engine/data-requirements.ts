/**
 * The data a PlanDefinition reads: every `action.input` DataRequirement (nested actions and nested
 * PlanDefinitions included), deduplicated. CDS Hooks prefetch templates and server fetches are
 * built from this, so they ask for exactly what the logic uses.
 */
import type { DataRequirement, PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';

export function dataRequirementsOf(plan: PlanDefinition, knowledge: CompiledKnowledge): DataRequirement[] {
  const seen = new Map<string, DataRequirement>();
  const visited = new Set<PlanDefinition>();
  const visitPlan = (p: PlanDefinition) => {
    if (visited.has(p)) return;
    visited.add(p);
    visitActions(p, p.action ?? []);
  };
  const visitActions = (p: PlanDefinition, actions: PlanDefinitionAction[]) => {
    for (const action of actions) {
      for (const requirement of [...(action.input ?? []), ...(action.output ?? [])]) {
        const { id: _id, extension: _ext, ...shape } = requirement;
        const key = JSON.stringify(shape);
        if (!seen.has(key)) seen.set(key, requirement);
      }
      visitActions(p, action.action ?? []);
      const canonical = action.definitionCanonical;
      if (canonical) {
        const nested = canonical.startsWith('#') ? p.contained?.find((r) => r.id === canonical.slice(1)) : knowledge.resolve(canonical, 'PlanDefinition');
        if (nested?.resourceType === 'PlanDefinition') visitPlan(nested);
      }
    }
  };
  visitPlan(plan);
  return [...seen.values()];
}
