/**
 * relatedAction cycles in a plan: each cycle reported once (at the action it returns to), found by
 * a depth-first walk in sorted id order so the report does not depend on the document order.
 */
import type { PlanDefinitionAction } from '@medplum/fhirtypes';
import type { FindingSink } from './findings.ts';

export function checkRelatedActionCycles(sink: FindingSink, file: string, actions: { action: PlanDefinitionAction; path: string }[]): void {
  const edges = new Map<string, string[]>();
  const pathOf = new Map<string, string>();
  for (const { action, path } of actions) {
    if (!action.id) continue;
    pathOf.set(action.id, path);
    edges.set(
      action.id,
      (action.relatedAction ?? []).map((r) => r.actionId).filter((t) => t !== action.id),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const dfs = (id: string, stack: string[]): void => {
    state.set(id, 'visiting');
    for (const next of edges.get(id) ?? []) {
      if (!edges.has(next)) continue;
      if (state.get(next) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const key = [...cycle].slice(0, -1).sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          sink.add('error', 'invariant', file, `${pathOf.get(next)}.relatedAction`, `relatedAction cycle: ${cycle.join(' -> ')}`);
        }
      } else if (!state.has(next)) dfs(next, [...stack, next]);
    }
    state.set(id, 'done');
  };
  for (const id of [...edges.keys()].sort()) if (!state.has(id)) dfs(id, [id]);
}
