/**
 * Which of a plan's goals become Goal resources: those an applied action refers to (created on
 * first use, so their ids follow the order of use), and those no action refers to, always (they
 * belong to the plan as a whole, whether or not an action applies).
 */
import type { PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import { allocateId, canonicalOf, fail, safeId, type ApplyState } from './apply-state.ts';

/** The contained id of a plan's goal, created on first use; undefined (and a warning) if the plan has no such goal. */
export function useGoal(plan: PlanDefinition, goalId: string, idPrefix: string, state: ApplyState): string | undefined {
  const key = `${canonicalOf(plan)}#${goalId}`;
  const used = state.goalsUsed.get(key);
  if (used) return used.resourceId;
  const index = (plan.goal ?? []).findIndex((g, i) => (g.id ?? String(i + 1)) === goalId);
  if (index < 0) {
    fail(state, 'warning', 'not-found', `PlanDefinition/${plan.id ?? ''}: goalId '${goalId}' names no goal of the plan`, `PlanDefinition.goal`);
    return undefined;
  }
  const resourceId = allocateId(state, safeId(`goal-${idPrefix ? `${idPrefix}.` : ''}${goalId}`));
  state.goalsUsed.set(key, { resourceId, goal: plan.goal![index]!, index });
  return resourceId;
}

/** Goals no action refers to belong to the plan as a whole: always proposed. */
export function usePlanLevelGoals(plan: PlanDefinition, state: ApplyState): void {
  for (const [index, goal] of (plan.goal ?? []).entries()) {
    if (goal.id === undefined || !referencesGoal(plan.action ?? [], goal.id)) useGoal(plan, goal.id ?? String(index + 1), '', state);
  }
}

function referencesGoal(actions: PlanDefinitionAction[], goalId: string): boolean {
  return actions.some((a) => a.goalId?.includes(goalId) || referencesGoal(a.action ?? [], goalId));
}
