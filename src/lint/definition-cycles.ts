/**
 * PlanDefinitions that include themselves: an action whose definitionCanonical is its own plan, or
 * a chain of nested plans that returns to one it started from (A -> B -> A). The engine stops such a
 * recursion at apply time (a processing error for the patient); lint finds it before a patient
 * does. Each cycle is reported once, at the action that closes it, found by a depth-first walk in
 * sorted canonical order so the report does not depend on file order.
 */
import type { PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import type { FindingSink } from './findings.ts';

interface Inclusion {
  target: string;
  path: string;
}

interface PlanNode {
  file: string;
  includes: Inclusion[];
}

function keyOf(plan: PlanDefinition): string {
  return `${plan.url ?? `PlanDefinition/${plan.id ?? ''}`}${plan.version ? `|${plan.version}` : ''}`;
}

function inclusions(plan: PlanDefinition, knowledge: CompiledKnowledge): Inclusion[] {
  const found: Inclusion[] = [];
  const walk = (actions: PlanDefinitionAction[] | undefined, path: string) => {
    (actions ?? []).forEach((action, i) => {
      const at = `${path}.action[${i}]`;
      if (typeof action.definitionCanonical === 'string') {
        const target = knowledge.resolve<PlanDefinition>(action.definitionCanonical);
        if (target?.resourceType === 'PlanDefinition') found.push({ target: keyOf(target), path: `${at}.definitionCanonical` });
      }
      walk(action.action, at);
    });
  };
  walk(plan.action, 'PlanDefinition');
  return found;
}

export function checkDefinitionCycles(sink: FindingSink, plans: readonly { file: string; plan: PlanDefinition }[], knowledge: CompiledKnowledge): void {
  const nodes = new Map<string, PlanNode>();
  for (const { file, plan } of plans) nodes.set(keyOf(plan), { file, includes: inclusions(plan, knowledge) });
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const dfs = (key: string, stack: string[]): void => {
    state.set(key, 'visiting');
    const node = nodes.get(key)!;
    for (const { target, path } of node.includes) {
      if (!nodes.has(target)) continue;
      if (state.get(target) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(target)), target];
        const id = [...cycle.slice(0, -1)].sort().join(',');
        if (reported.has(id)) continue;
        reported.add(id);
        const message =
          cycle.length === 2
            ? `the plan includes itself (${target}): applying it would never end`
            : `nested plans form a cycle: ${cycle.join(' -> ')}: applying them would never end`;
        sink.add('error', 'invariant', node.file, path, message);
      } else if (!state.has(target)) dfs(target, [...stack, target]);
    }
    state.set(key, 'done');
  };
  for (const key of [...nodes.keys()].sort()) if (!state.has(key)) dfs(key, [key]);
}
