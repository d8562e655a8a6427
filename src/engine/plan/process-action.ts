/**
 * One PlanDefinition action, in the order the reference engine (cqf clinical-reasoning) processes
 * it: inputs bound, applicability decided, child actions with their selection behaviour, then the
 * definition applied (or, for an action without one, its dynamic values or an instruction Task).
 * Each step that keeps the action out says why in its trace and rolls back what its children
 * produced.
 */
import type { PlanDefinitionAction, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { applyDynamicValues } from '../dynamic-value/index.ts';
import type { Variables } from '../expression.ts';
import { VARIABLE_EXTENSION, type ActionTrace } from '../types.ts';
import { copyActionElements } from './action-elements.ts';
import { bindActionInputs } from './action-inputs.ts';
import { instructionTask } from './action-tasks.ts';
import { describeApplicable, evaluateApplicability } from './applicability.ts';
import { applyDefinition, resolveDefinition } from './apply-definition.ts';
import { allocateId, checkpoint, fail, safeId, type ApplyState, type Scope } from './apply-state.ts';
import { judgeChildSelection, nestOwnActivity, takesFirstApplicableOnly } from './child-actions.ts';
import { bindVariableExtensions } from './named-expressions.ts';

interface ProcessedAction {
  rgAction?: RequestGroupAction;
  trace: ActionTrace;
}

/** Applies `actions` in document order; with `stopAtFirst` (applicabilityBehavior any) the first that applies ends the list. */
export function processActions(actions: PlanDefinitionAction[], scope: Scope, state: ApplyState, stopAtFirst = false): { actions: RequestGroupAction[]; traces: ActionTrace[] } {
  const out: RequestGroupAction[] = [];
  const traces: ActionTrace[] = [];
  for (const [i, action] of actions.entries()) {
    const { rgAction, trace } = processAction(action, i, scope, state);
    traces.push(trace);
    if (rgAction) {
      out.push(rgAction);
      if (stopAtFirst) break;
    }
  }
  return { actions: out, traces };
}

/** The trace of an action that is kept out, with its verdict. */
function keptOut(trace: ActionTrace, applicability: ActionTrace['applicability'], reason: string): ProcessedAction {
  trace.applicability = applicability;
  trace.reason = reason;
  return { trace };
}

function processAction(action: PlanDefinitionAction, index: number, parent: Scope, state: ApplyState): ProcessedAction {
  const path = `${parent.path}.action[${index}]`;
  const actionId = action.id ?? `action-${path.replace(/\D+/g, '-').replace(/^-|-$/g, '')}`;
  const baseId = safeId(parent.idPrefix ? `${parent.idPrefix}.${actionId}` : actionId);
  const where = `PlanDefinition/${parent.plan.id ?? ''}#${actionId}`;
  const trace: ActionTrace = { actionId, applicability: 'applicable', reason: '', conditions: [], inputs: [], missing: [], notes: [], children: [] };
  if (action.title) trace.title = action.title;

  // 1. Inputs: bound as %<id> for this action, its conditions, dynamic values and children.
  // Only an action that binds something gets its own scope; the others share their parent's
  // (copying dozens of variables per action was a measurable share of an apply).
  const binds = (action.input?.length ?? 0) > 0 || (action.extension ?? []).some((e) => e.url === VARIABLE_EXTENSION);
  const variables: Variables = binds ? { ...parent.variables } : parent.variables;
  const missing = bindActionInputs(action, actionId, variables, state, where, trace);
  if (missing.length > 0) {
    return keptOut(trace, 'missing-data', `not decided: required data missing (${missing.join(', ')}); a collect-information task was added`);
  }

  // Named expressions (R4 `variable` extension) on the action: computed once, read by its
  // conditions, dynamic values and child actions as %<name>. Those the conditions need come first;
  // the rest only once the action applies (nothing can read them otherwise).
  const { beforeConditions, afterConditions } = state.knowledge.variableSchedule(action);
  bindVariableExtensions(action.extension, beforeConditions, parent.plan, variables, state, path, where);

  // 2. Applicability: every `applicability` condition must be exactly true (AND).
  const { failures, errored } = evaluateApplicability(action, parent.plan, variables, state, path, where, trace);
  if (failures.length > 0 || errored) {
    return keptOut(trace, errored ? 'error' : 'not-applicable', `not applicable: ${failures.join('; ') || 'a condition could not be evaluated'}`);
  }

  bindVariableExtensions(action.extension, afterConditions, parent.plan, variables, state, path, where);
  const rgAction = copyActionElements(action, state, trace);
  if (action.id) rgAction.id = action.id;
  const scope: Scope = { ...parent, variables, path };

  // 3. Child actions (groups), with the selection behaviours the engine can decide. What the
  // children produced is rolled back if the group itself ends up not applied.
  const rollback = checkpoint(state);
  if (action.action?.length) {
    const firstOnly = takesFirstApplicableOnly(action);
    const { actions, traces } = processActions(action.action, scope, state, firstOnly);
    trace.children = traces;
    const notApplicable = judgeChildSelection(action, actions, trace, firstOnly);
    if (notApplicable !== undefined) {
      rollback();
      // A group kept out while some of its actions wait for data is undecided, not "not
      // applicable": with the data collected it may apply (the safer reading; the reader is told
      // what is awaited rather than that the branch was ruled out).
      const waiting = traces.filter((t) => t.applicability === 'missing-data').map((t) => t.actionId);
      if (waiting.length > 0)
        return keptOut(
          trace,
          'missing-data',
          `not decided: ${notApplicable} with the data on record, and ${waiting.join(', ')} wait${waiting.length === 1 ? 's' : ''} for required data`,
        );
      return keptOut(trace, 'not-applicable', `not applicable: ${notApplicable}`);
    }
    rgAction.action = actions;
  }

  // 4. The definition: ActivityDefinition -> request, PlanDefinition -> nested RequestGroup.
  // action.transform (a StructureMap) would reshape what the definition gives; this engine does
  // not run StructureMaps, and the untransformed request would be a different order: refused.
  if (action.transform) {
    rollback();
    fail(state, 'error', 'not-supported', `${where}: transform ${action.transform} (a StructureMap) is not run by this engine; the action is not applied`, `${path}.transform`);
    return keptOut(trace, 'error', `not applied: its transform ${action.transform} (a StructureMap) is not run`);
  }
  let request: Resource | undefined;
  if (action.definitionCanonical) {
    const definition = resolveDefinition(parent.plan, action.definitionCanonical, state);
    if (!definition) {
      rollback();
      fail(state, 'error', 'not-found', `${where}: definition ${action.definitionCanonical} not found`, `${path}.definitionCanonical`);
      return keptOut(trace, 'error', `not applied: its definition ${action.definitionCanonical} cannot be resolved`);
    }
    const applied = applyDefinition(definition, action, rgAction, allocateId(state, baseId), scope, state, trace, processActions);
    if (typeof applied === 'string') {
      rollback();
      return keptOut(trace, 'error', `not applied: ${applied}`);
    }
    if ('notApplicable' in applied) {
      rollback();
      return keptOut(trace, 'not-applicable', `not applicable: ${applied.notApplicable}`);
    }
    request = applied;
    state.resources.push(request);
    rgAction.resource = { reference: `#${request.id}` };
    trace.resource = `#${request.id}`;
  } else if (action.definitionUri) {
    trace.notes.push(`definitionUri ${action.definitionUri} is not a canonical definition; copied as documentation`);
    rgAction.documentation = [...(rgAction.documentation ?? []), { type: 'documentation', url: action.definitionUri }];
  } else if (action.dynamicValue?.length) {
    // With no resource to target, dynamic values describe the RequestGroup action itself.
    applyDynamicValues({
      target: rgAction as Record<string, unknown>,
      baseType: 'RequestGroup.action',
      dynamicValues: action.dynamicValue,
      focus: parent.plan,
      variables,
      knowledge: state.knowledge,
      evaluators: state.options.evaluators,
      issues: state.issues,
      strict: state.options.strict,
      where: `${where} dynamicValue`,
      actionTarget: rgAction as Record<string, unknown>,
    });
  }
  if (!request && !rgAction.action) {
    // R4 rqg-1: a RequestGroup action has a resource or sub-actions. A leaf action with no
    // definition (advice, an instruction) becomes a Task carrying its text, rather than an
    // action that fails validation.
    request = instructionTask(action, rgAction, allocateId(state, baseId), state);
    state.resources.push(request);
    rgAction.resource = { reference: `#${request.id}` };
    trace.resource = `#${request.id}`;
  }
  if (request && rgAction.action) nestOwnActivity(action, rgAction);

  trace.reason = describeApplicable(action, trace);
  if (rgAction.id) state.byActionId.set(rgAction.id, request ? { action: rgAction, request, trace } : { action: rgAction, trace });
  return { rgAction, trace };
}
