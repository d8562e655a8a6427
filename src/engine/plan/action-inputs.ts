/**
 * An action's `input` DataRequirements: each is filtered from the subject's record once per apply
 * and bound as %<id> for the action, its conditions, dynamic values and children. A required input
 * that is absent leaves the action undecided (a collect-information Task asks for it): nothing is
 * guessed.
 */
import type { DataRequirement, PlanDefinitionAction, Resource } from '@medplum/fhirtypes';
import type { Variables } from '../expression.ts';
import { filterByRequirement, isRequiredInput, satisfiesRequirement } from '../inputs.ts';
import type { ActionTrace } from '../types.ts';
import type { ApplyState } from './apply-state.ts';

/** The resources a DataRequirement selects; one filter per requirement and apply. */
export function bindInput(requirement: DataRequirement, state: ApplyState, where: string): Resource[] {
  let found = state.inputCache.get(requirement);
  if (!found) {
    found = filterByRequirement(requirement, {
      data: state.context.data,
      subject: state.context.subject,
      knowledge: state.knowledge,
      nowText: state.clock.nowText,
      issues: state.issues,
      where,
      lookBacks: state.lookBacks,
    });
    state.inputCache.set(requirement, found);
  }
  return found;
}

/** Binds the action's inputs into `variables`; returns the ids of required inputs that are missing. */
export function bindActionInputs(action: PlanDefinitionAction, actionId: string, variables: Variables, state: ApplyState, where: string, trace: ActionTrace): string[] {
  const missing: string[] = [];
  for (const requirement of action.input ?? []) {
    const found = bindInput(requirement, state, where);
    if (requirement.id) {
      variables[requirement.id] = found;
      trace.inputs.push({ id: requirement.id, count: found.length });
    }
    if (isRequiredInput(requirement) && !satisfiesRequirement(found, requirement)) {
      const inputId = requirement.id ?? `${actionId}-input`;
      trace.missing.push(state.missing.record(inputId, requirement, action.title ?? actionId));
      missing.push(inputId);
    }
  }
  return missing;
}
