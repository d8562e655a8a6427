/**
 * An action whose definition is another PlanDefinition: its actions are applied in place and
 * become a nested RequestGroup (R5 semantics, in R4 mode too), with ids prefixed so contained ids
 * stay unique. A plan that would recurse (or nest deeper than MAX_PLAN_DEPTH) is an error.
 */
import type { PlanDefinition, PlanDefinitionAction, RequestGroup, RequestGroupAction } from '@medplum/fhirtypes';
import { copyJson } from '../../util/copy-json.ts';
import type { ActionTrace } from '../types.ts';
import { canonicalOf, fail, type ApplyState, type Scope } from './apply-state.ts';

const MAX_PLAN_DEPTH = 16;

/** Applies a list of actions in a scope (process-action.ts); passed in so the modules import one way. */
export type ProcessActions = (actions: PlanDefinitionAction[], scope: Scope, state: ApplyState) => { actions: RequestGroupAction[]; traces: ActionTrace[] };

/** The nested RequestGroup, or why it is not there: a string for an error, `notApplicable` when nothing in it applies. */
export function nestedRequestGroup(
  nested: PlanDefinition,
  action: PlanDefinitionAction,
  resourceId: string,
  scope: Scope,
  state: ApplyState,
  trace: ActionTrace,
  where: string,
  processActions: ProcessActions,
): RequestGroup | string | { notApplicable: string } {
  const canonical = canonicalOf(nested);
  if (state.planStack.includes(canonical) || state.planStack.length >= MAX_PLAN_DEPTH) {
    fail(state, 'error', 'processing', `${where}: nested PlanDefinition ${canonical} recurses (${[...state.planStack, canonical].join(' -> ')})`, where);
    return `its nested PlanDefinition ${canonical} would recurse`;
  }
  state.planStack.push(canonical);
  const innerVariables = { ...scope.variables, resource: nested, rootResource: nested };
  const inner = processActions(nested.action ?? [], { plan: nested, idPrefix: resourceId, variables: innerVariables, path: `${scope.path}{${nested.id ?? canonical}}` }, state);
  state.planStack.pop();
  trace.children.push(...inner.traces);
  const group: RequestGroup = {
    resourceType: 'RequestGroup',
    id: resourceId,
    instantiatesCanonical: [canonical],
    status: state.options.carePlanStatus,
    intent: 'option',
    subject: state.subjectRef,
  };
  // What the group is (RequestGroup.code): the action's code, as for a Task made from an action.
  if (action.code?.[0]) group.code = copyJson(action.code[0]);
  if (inner.actions.length === 0) return { notApplicable: `none of the actions of its nested PlanDefinition ${canonical} applies` };
  group.action = inner.actions;
  return group;
}
