/**
 * PlanDefinition/$apply (FHIR R4 Clinical Reasoning, with the CPG execution semantics).
 *
 * Pure: definitions + the subject's indexed record + options (incl. the clock) in, resources out.
 * Walks the actions depth-first in document order, so the output order is the authored order.
 * The steps, each in its own module under plan/ (the way the cqf clinical-reasoning engine splits
 * its processors):
 *   1. every action (process-action.ts): inputs, named expressions, applicability, child actions
 *      and their selection behaviours, its definition -> request / nested RequestGroup / Task;
 *   2. relatedAction timing resolved once every date is known (related-actions.ts);
 *   3. one request per activity (merge-activities.ts, SAFE-6); what would not be valid R4 is left
 *      out with an error issue (output-conformance.ts);
 *   4. goals (goal-references.ts, goals.ts), collect-information Tasks (missing-data.ts), and the
 *      RequestGroup, assembled with the CarePlan or Bundle (output.ts).
 */
import type { PlanDefinition, RequestGroup } from '@medplum/fhirtypes';
import { makeClock } from '../fhirpath/fhirpath-engine.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { baseVariables } from './expression.ts';
import { buildGoal } from './goals.ts';
import { MissingDataCollector } from './missing-data.ts';
import { checkApplyContext, parseApplyOptions } from './options.ts';
import { assembleResult, OUTCOME_ID } from './output.ts';
import { allocateId, canonicalOf, REQUEST_GROUP_ID, type ApplyState, type Scope } from './plan/apply-state.ts';
import { usePlanLevelGoals } from './plan/goal-references.ts';
import { mergeRepeatedActivities } from './plan/merge-activities.ts';
import { leaveOutInvalidResources } from './plan/output-conformance.ts';
import { bindVariableExtensions } from './plan/named-expressions.ts';
import { processActions } from './plan/process-action.ts';
import { resolveRelatedActions } from './plan/related-actions.ts';
import type { ActionTrace, ApplyContext, ApplyOptions, ApplyResult } from './types.ts';

export function applyPlanDefinition(plan: PlanDefinition, context: ApplyContext, options: ApplyOptions, knowledge: CompiledKnowledge): ApplyResult {
  const resolved = parseApplyOptions(options);
  const clock = makeClock(resolved.now);
  checkApplyContext(context);
  const state: ApplyState = {
    knowledge,
    context,
    options: resolved,
    clock,
    // A Group subject is referenced the same way; the narrower type keeps request fields assignable.
    subjectRef: { reference: `${context.subject.resourceType}/${context.subject.id}` },
    issues: [],
    missing: new MissingDataCollector(knowledge),
    resources: [],
    byActionId: new Map(),
    goalsUsed: new Map(),
    ids: new Set([REQUEST_GROUP_ID, OUTCOME_ID]),
    inputCache: new Map(),
    lookBacks: new Map(),
    planStack: [canonicalOf(plan)],
  };
  // %resource / %rootResource: the definition whose expressions are evaluated (here the plan).
  const variables = { ...baseVariables(context, clock), resource: plan, rootResource: plan };
  bindVariableExtensions(plan.extension, 'all', plan, variables, state, 'PlanDefinition', `PlanDefinition/${plan.id ?? ''}`);
  const scope: Scope = { plan, idPrefix: '', variables, path: 'PlanDefinition' };
  const processed = processActions(plan.action ?? [], scope, state);
  const traces = processed.traces;
  resolveRelatedActions(state);
  mergeRepeatedActivities(state, processed.actions);
  const actions = leaveOutInvalidResources(state, processed.actions);

  // The plan's own goals (those no action names) belong to the plan as a whole: kept whether or
  // not an action applies, as the Clinical Reasoning $apply carries PlanDefinition.goal over.
  usePlanLevelGoals(plan, state);
  const goals = [...state.goalsUsed.values()].map((g) => buildGoal(g.goal, g.index, g.resourceId, state.subjectRef, clock.nowText));
  const collected = state.missing.build(state.subjectRef, resolved.requestStatus, clock.nowText, (base) => allocateId(state, base));

  const requestGroup: RequestGroup = {
    resourceType: 'RequestGroup',
    id: REQUEST_GROUP_ID,
    instantiatesCanonical: [canonicalOf(plan)],
    status: resolved.carePlanStatus,
    intent: 'proposal',
    subject: state.subjectRef,
  };
  if (context.encounter?.id) requestGroup.encounter = { reference: `Encounter/${context.encounter.id}` };
  requestGroup.authoredOn = clock.nowText;
  // RequestGroup.author allows a Practitioner but not an Organization (CarePlan.author allows both).
  if (context.practitioner?.id) requestGroup.author = { reference: `Practitioner/${context.practitioner.id}` };
  const allActions = [...actions, ...collected.actions];
  if (allActions.length > 0) requestGroup.action = allActions;

  return assembleResult({
    plan,
    context,
    options: resolved,
    nowText: clock.nowText,
    subjectRef: state.subjectRef,
    requestGroup,
    requests: state.resources,
    goals,
    tasks: collected.tasks,
    issues: state.issues,
    traces,
    missing: missingOf(traces),
  });
}

/** Every trace's missing data, depth-first in document order. */
function missingOf(traces: readonly ActionTrace[], into: ActionTrace['missing'] = []): ActionTrace['missing'] {
  for (const t of traces) {
    into.push(...t.missing);
    missingOf(t.children, into);
  }
  return into;
}
