/**
 * An action's `definitionCanonical`: resolved (contained `#id` or a canonical in the knowledge) and
 * applied by its type - an ActivityDefinition gives a request, a PlanDefinition a nested
 * RequestGroup, a Questionnaire a collect-information Task. Any other type is not supported.
 */
import type { PlanDefinition, PlanDefinitionAction, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import type { ActionTrace } from '../types.ts';
import { activityRequest } from './activity-request.ts';
import { questionnaireTask } from './action-tasks.ts';
import { fail, type ApplyState, type Scope } from './apply-state.ts';
import { nestedRequestGroup, type ProcessActions } from './nested-plan.ts';

export function resolveDefinition(plan: PlanDefinition, canonical: string, state: ApplyState): Resource | undefined {
  if (canonical.startsWith('#')) return plan.contained?.find((r) => r.id === canonical.slice(1));
  return state.knowledge.resolve(canonical);
}

/** The resource the definition gives, or why not: a string for an error, `notApplicable` when a nested plan has nothing that applies. */
export function applyDefinition(
  definition: Resource,
  action: PlanDefinitionAction,
  rgAction: RequestGroupAction,
  resourceId: string,
  scope: Scope,
  state: ApplyState,
  trace: ActionTrace,
  processActions: ProcessActions,
): Resource | string | { notApplicable: string } {
  const where = `PlanDefinition/${scope.plan.id ?? ''}#${trace.actionId}`;
  switch (definition.resourceType) {
    case 'ActivityDefinition':
      return activityRequest(definition, action, rgAction, resourceId, scope, state, where);
    case 'PlanDefinition':
      return nestedRequestGroup(definition, action, resourceId, scope, state, trace, where, processActions);
    case 'Questionnaire':
      return questionnaireTask(definition, resourceId, state);
    default:
      fail(state, 'error', 'not-supported', `${where}: a ${definition.resourceType} cannot be applied as an action definition`, where);
      return `a ${definition.resourceType} cannot be applied as an action definition`;
  }
}
