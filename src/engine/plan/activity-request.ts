/**
 * An action whose definition is an ActivityDefinition: the request it builds (src/engine/activity/),
 * then what the plan adds on top (R5 overlap rules): the action's timing and participants win over
 * the definition's, intent `option` inside the RequestGroup, goals it pertains to, the evidence
 * named by `action.output`, and the action's own dynamic values last.
 */
import type { ActivityDefinition, DataRequirement, Extension, PlanDefinitionAction, Reference, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { R4_MODEL } from '../../fhirpath/fhirpath-engine.ts';
import { buildRequest, isSupportedKind, transformRefusal, withActivityKind } from '../activity/index.ts';
import { applyDynamicValues } from '../dynamic-value/index.ts';
import { whenOf } from '../timing.ts';
import { PERTAINS_TO_GOAL_EXTENSION } from '../types.ts';
import { bindInput } from './action-inputs.ts';
import { fail, type ApplyState, type Scope } from './apply-state.ts';
import { useGoal } from './goal-references.ts';
import { OCCURRENCE_TYPES, setOccurrence } from './request-dates.ts';

/** The request, or (as a string) why the definition cannot be applied. */
export function activityRequest(
  definition: ActivityDefinition,
  action: PlanDefinitionAction,
  rgAction: RequestGroupAction,
  resourceId: string,
  scope: Scope,
  state: ApplyState,
  where: string,
): Resource | string {
  const refused = transformRefusal(definition);
  if (refused) {
    fail(state, 'error', 'not-supported', `${where}: ${refused}; the request is not created`, `${scope.path}.definitionCanonical`);
    return `its ActivityDefinition has a transform, which is not run`;
  }
  const kind = withActivityKind(definition).kind;
  if (!isSupportedKind(kind)) {
    fail(state, 'error', 'not-supported', `${where}: ActivityDefinition/${definition.id} has kind '${kind ?? ''}', which cannot be applied`, `${scope.path}.definitionCanonical`);
    return `its ActivityDefinition has the unsupported kind '${kind ?? ''}'`;
  }
  const request = buildRequest({
    definition: definition,
    context: state.context,
    variables: scope.variables,
    id: resourceId,
    requestStatus: state.options.requestStatus,
    knowledge: state.knowledge,
    evaluators: state.options.evaluators,
    issues: state.issues,
    strict: state.options.strict,
    nowText: state.clock.nowText,
    actionTarget: rgAction as Record<string, unknown>,
  }) as Resource & Record<string, unknown>;
  // Plan overrides (R5 overlap rules): the action's timing and participants win over the AD's.
  const when = whenOf(rgAction, undefined);
  if (when && OCCURRENCE_TYPES.has(request.resourceType)) setOccurrence(request, when);
  if (rgAction.participant?.length && request.resourceType === 'ServiceRequest') request.performer = rgAction.participant;
  if (hasIntent(request.resourceType)) request.intent = 'option';
  if (action.goalId?.length) {
    const goals = action.goalId
      .map((g) => useGoal(scope.plan, g, scope.idPrefix, state))
      .filter((id): id is string => id !== undefined)
      .map((id): Extension => ({ url: PERTAINS_TO_GOAL_EXTENSION, valueReference: { reference: `#${id}` } }));
    if (goals.length > 0) request.extension = [...((request.extension as Extension[] | undefined) ?? []), ...goals];
  }
  attachSupportingInfo(request, action.output ?? [], state, where);
  if (action.dynamicValue?.length) {
    applyDynamicValues({
      target: request,
      baseType: request.resourceType,
      dynamicValues: action.dynamicValue,
      focus: scope.plan,
      variables: scope.variables,
      knowledge: state.knowledge,
      evaluators: state.options.evaluators,
      issues: state.issues,
      strict: state.options.strict,
      where: `${where} dynamicValue`,
      actionTarget: rgAction as Record<string, unknown>,
    });
  }
  return request;
}

/** Whether the R4 type has `intent` (CommunicationRequest, Appointment, SupplyRequest... do not). */
function hasIntent(type: string): boolean {
  return (R4_MODEL.path2Type as Record<string, string>)[`${type}.intent`] !== undefined;
}

const SUPPORTING_INFO: Record<string, string> = {
  ServiceRequest: 'supportingInfo',
  MedicationRequest: 'supportingInformation',
  DeviceRequest: 'supportingInfo',
  CarePlan: 'supportingInfo',
};

/** `action.output` DataRequirements name the evidence that supports the request. */
function attachSupportingInfo(request: Record<string, unknown> & Resource, outputs: DataRequirement[], state: ApplyState, where: string): void {
  const element = SUPPORTING_INFO[request.resourceType];
  if (!element || outputs.length === 0) return;
  const refs = outputs
    .flatMap((o) => bindInput(o, state, where))
    .filter((r) => r.id)
    .map((r) => ({ reference: `${r.resourceType}/${r.id}` }));
  if (refs.length > 0) request[element] = [...((request[element] as Reference[] | undefined) ?? []), ...refs];
}
