/**
 * PlanDefinition/$apply (FHIR R4 Clinical Reasoning, with the CPG execution semantics).
 *
 * Pure: definitions + the subject's indexed record + options (incl. the clock) in, resources out.
 * Walks the actions depth-first in document order, so the output order is the authored order.
 */
import type {
  ActivityDefinition,
  DataRequirement,
  Patient,
  Extension,
  PlanDefinition,
  PlanDefinitionAction,
  PlanDefinitionGoal,
  Period,
  Questionnaire,
  Reference,
  RequestGroup,
  RequestGroupAction,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { issue, OperationOutcomeError, outcome } from '../errors/operation-outcome.ts';
import { makeClock, R4_MODEL, type Clock } from '../fhirpath/fhirpath-engine.ts';
import type { KnowledgeBase } from '../knowledge/knowledge-base.ts';
import { buildRequest, isSupportedKind } from './activity/index.ts';
import { applyDynamicValues } from './dynamic-value/index.ts';
import { FHIRPATH, baseVariables, evaluateExpression, expressionText, type Variables } from './expression.ts';
import { buildGoal } from './goals.ts';
import { filterByRequirement, isRequiredInput, satisfiesRequirement } from './inputs.ts';
import { MissingDataCollector } from './missing-data.ts';
import { assembleResult, OUTCOME_ID } from './output.ts';
import { checkApplyContext, parseApplyOptions, type ResolvedOptions } from './options.ts';
import { instantOf } from './dates.ts';
import { concreteTiming, isSubDay, offsetText, relatedWhen, timingOf, whenOf, type When } from './timing.ts';
import {
  APPLICABILITY_BEHAVIOR_EXTENSION,
  CPG_ACTIVITY_TYPE_SYSTEM,
  PERTAINS_TO_GOAL_EXTENSION,
  VARIABLE_EXTENSION,
  type ActionTrace,
  type ApplyContext,
  type ApplyOptions,
  type ApplyResult,
  type ConditionTrace,
  type Issues,
} from './types.ts';

const MAX_PLAN_DEPTH = 16;
const REQUEST_GROUP_ID = 'requestgroup';

interface UsedGoal {
  resourceId: string;
  goal: PlanDefinitionGoal;
  index: number;
}

interface ApplyState {
  readonly knowledge: KnowledgeBase;
  readonly context: ApplyContext;
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly subjectRef: Reference<Patient>;
  readonly issues: Issues;
  readonly missing: MissingDataCollector;
  /** Requests and nested RequestGroups, in creation order. */
  readonly resources: Resource[];
  /** Every emitted RequestGroup action by id, with its request, for relatedAction resolution. */
  readonly byActionId: Map<string, { action: RequestGroupAction; request?: Resource; trace: ActionTrace }>;
  /** Goals referenced by applied actions, keyed by plan canonical + goal id, in first-use order. */
  readonly goalsUsed: Map<string, UsedGoal>;
  /** Ids of contained resources / bundle entries; generated ids never collide. */
  readonly ids: Set<string>;
  readonly inputCache: Map<DataRequirement, Resource[]>;
  readonly planStack: string[];
}

interface Scope {
  plan: PlanDefinition;
  /** Prefix for generated resource ids (nested plans), so contained ids stay unique. */
  idPrefix: string;
  variables: Variables;
  /** The `PlanDefinition.action[i]...` path, for issues. */
  path: string;
}

export function applyPlanDefinition(plan: PlanDefinition, context: ApplyContext, options: ApplyOptions, knowledge: KnowledgeBase): ApplyResult {
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
    planStack: [canonicalOf(plan)],
  };
  // %resource / %rootResource: the definition whose expressions are evaluated (here the plan).
  const variables = { ...baseVariables(context, clock), resource: plan, rootResource: plan };
  bindVariableExtensions(plan.extension, 'all', plan, variables, state, 'PlanDefinition', `PlanDefinition/${plan.id ?? ''}`);
  const scope: Scope = { plan, idPrefix: '', variables, path: 'PlanDefinition' };
  const { actions, traces } = processActions(plan.action ?? [], scope, state);
  resolveRelatedActions(state);
  mergeRepeatedActivities(state, actions);

  // Goals no action refers to belong to the plan as a whole: proposed when anything applies.
  if (actions.length > 0) {
    for (const [index, goal] of (plan.goal ?? []).entries()) {
      if (goal.id === undefined || !referencesGoal(plan.action ?? [], goal.id)) useGoal(plan, goal.id ?? String(index + 1), '', state);
    }
  }
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
    missing: traces.flatMap(function flat(t): ActionTrace['missing'] {
      return [...t.missing, ...t.children.flatMap(flat)];
    }),
  });
}

function canonicalOf(plan: { url?: string; version?: string; id?: string; resourceType: string }): string {
  if (!plan.url) return `${plan.resourceType}/${plan.id ?? ''}`;
  return plan.version ? `${plan.url}|${plan.version}` : plan.url;
}

function referencesGoal(actions: PlanDefinitionAction[], goalId: string): boolean {
  return actions.some((a) => a.goalId?.includes(goalId) || referencesGoal(a.action ?? [], goalId));
}

function processActions(actions: PlanDefinitionAction[], scope: Scope, state: ApplyState, stopAtFirst = false) {
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

function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 64);
}

function fail(state: ApplyState, severity: 'error' | 'warning', code: 'processing' | 'not-found' | 'not-supported' | 'invalid', message: string, where: string): void {
  const found = issue(severity, code, message, [where]);
  if (severity === 'error' && state.options.strict) throw new OperationOutcomeError(outcome(found));
  state.issues.push(found);
}

function processAction(action: PlanDefinitionAction, index: number, parent: Scope, state: ApplyState): { rgAction?: RequestGroupAction; trace: ActionTrace } {
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
  if (missing.length > 0) {
    trace.applicability = 'missing-data';
    trace.reason = `not decided: required data missing (${missing.join(', ')}); a collect-information task was added`;
    return { trace };
  }

  // Named expressions (R4 `variable` extension) on the action: computed once, read by its
  // conditions, dynamic values and child actions as %<name>. Those the conditions need come first;
  // the rest only once the action applies (nothing can read them otherwise).
  const { beforeConditions, afterConditions } = variableSchedule(action);
  bindVariableExtensions(action.extension, beforeConditions, parent.plan, variables, state, path, where);

  // 2. Applicability: every `applicability` condition must be exactly true (AND).
  const failures: string[] = [];
  let errored = false;
  for (const [ci, condition] of (action.condition ?? []).entries()) {
    if (condition.kind !== 'applicability') continue;
    const text = condition.expression ? expressionText(condition.expression) : '';
    const ct: ConditionTrace = { kind: condition.kind, language: condition.expression?.language ?? '', expression: text };
    const named = condition.expression?.description ?? condition.expression?.name;
    if (named) ct.description = named;
    trace.conditions.push(ct);
    if (!condition.expression) {
      ct.error = 'condition has no expression';
      fail(state, 'error', 'invalid', `${where}: applicability condition ${ci} has no expression`, `${path}.condition[${ci}]`);
      errored = true;
      continue;
    }
    const evaluated = evaluateExpression(condition.expression, parent.plan, variables, state.options.evaluators);
    if (evaluated.error !== undefined) {
      ct.error = evaluated.error;
      errored = true;
      fail(state, 'error', 'processing', `${where}: condition "${text}" failed: ${evaluated.error}`, `${path}.condition[${ci}].expression`);
      failures.push(`condition "${label(condition.expression, text)}" failed (${evaluated.error})`);
      continue;
    }
    const result = evaluated.result ?? [];
    ct.result = result;
    if (result.length === 1 && result[0] === true) continue;
    if (result.length === 0) failures.push(`condition "${label(condition.expression, text)}" is empty (no data to decide)`);
    else if (result.length === 1 && result[0] === false) failures.push(`condition "${label(condition.expression, text)}" is false`);
    else {
      failures.push(`condition "${label(condition.expression, text)}" returned ${JSON.stringify(result)}, not a single Boolean`);
      fail(state, 'warning', 'processing', `${where}: condition "${text}" returned a non-Boolean result`, `${path}.condition[${ci}].expression`);
    }
  }
  if (failures.length > 0 || errored) {
    trace.applicability = errored ? 'error' : 'not-applicable';
    trace.reason = `not applicable: ${failures.join('; ') || 'a condition could not be evaluated'}`;
    return { trace };
  }

  bindVariableExtensions(action.extension, afterConditions, parent.plan, variables, state, path, where);
  const rgAction = copyActionElements(action, state, trace);
  if (action.id) rgAction.id = action.id;

  // 3. Child actions (groups), with the selection behaviours the engine can decide. What the
  // children produced is rolled back if the group itself ends up not applied.
  const rollback = checkpoint(state);
  if (action.action?.length) {
    const childScope: Scope = { ...parent, variables, path };
    const firstOnly = (action.extension ?? []).some((e: Extension) => e.url === APPLICABILITY_BEHAVIOR_EXTENSION && e.valueCode === 'any');
    const { actions, traces } = processActions(action.action, childScope, state, firstOnly);
    trace.children = traces;
    const selection = action.selectionBehavior;
    const total = action.action.length;
    if (actions.length === 0 && !action.definitionCanonical) {
      rollback();
      trace.applicability = 'not-applicable';
      trace.reason = `not applicable: none of its ${total} actions applies`;
      return { trace };
    }
    if (selection === 'all-or-none' && actions.length < total) {
      rollback();
      trace.applicability = 'not-applicable';
      trace.reason = `not applicable: all-or-none group with ${total - actions.length} of ${total} actions not applicable`;
      return { trace };
    }
    if (selection === 'exactly-one' || selection === 'at-most-one' || selection === 'one-or-more') {
      if (actions.length === 1) trace.notes.push(`${selection}: the only applicable option (${traces.find((t) => t.applicability === 'applicable')?.actionId}) is the selection`);
      else trace.notes.push(`${selection}: ${actions.length} applicable options; the clinician chooses`);
    }
    if (firstOnly) trace.notes.push('applicabilityBehavior any: the first applicable action was taken');
    rgAction.action = actions;
  }

  // 4. The definition: ActivityDefinition -> request, PlanDefinition -> nested RequestGroup.
  let request: Resource | undefined;
  if (action.definitionCanonical) {
    const definition = resolveDefinition(parent.plan, action.definitionCanonical, state);
    if (!definition) {
      rollback();
      fail(state, 'error', 'not-found', `${where}: definition ${action.definitionCanonical} not found`, `${path}.definitionCanonical`);
      trace.applicability = 'error';
      trace.reason = `not applied: its definition ${action.definitionCanonical} cannot be resolved`;
      return { trace };
    }
    const applied = applyDefinition(definition, action, rgAction, allocateId(state, baseId), { ...parent, variables, path }, state, trace);
    if (typeof applied === 'string') {
      rollback();
      trace.applicability = 'error';
      trace.reason = `not applied: ${applied}`;
      return { trace };
    }
    if ('notApplicable' in applied) {
      rollback();
      trace.applicability = 'not-applicable';
      trace.reason = `not applicable: ${applied.notApplicable}`;
      return { trace };
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

  if (request && rgAction.action) {
    // rqg-1 forbids resource and sub-actions on one action: the action's own activity becomes its
    // first sub-action, and a selection behaviour keeps applying to the child actions only.
    const own: RequestGroupAction = { ...(action.title ? { title: action.title } : {}), resource: rgAction.resource! };
    delete rgAction.resource;
    const selection = rgAction.selectionBehavior;
    if (selection && selection !== 'all') {
      rgAction.action = [own, { selectionBehavior: selection, action: rgAction.action }];
      rgAction.selectionBehavior = 'all';
    } else {
      rgAction.action = [own, ...rgAction.action];
    }
  }

  trace.reason = describeApplicable(action, trace);
  if (rgAction.id) state.byActionId.set(rgAction.id, { action: rgAction, ...(request ? { request } : {}), trace });
  return { rgAction, trace };
}

/**
 * The core `variable` extension (an Expression with a `name`) declares a value that descendants of
 * the element read as %<name>. Evaluated in document order, so a later variable may use an earlier
 * one. A failing variable is bound to empty (and reported), so dependent conditions are not true.
 */
function bindVariableExtensions(
  extensions: Extension[] | undefined,
  which: ReadonlySet<number> | 'all',
  focus: PlanDefinition,
  variables: Variables,
  state: ApplyState,
  path: string,
  where: string,
): void {
  for (const [i, ext] of (extensions ?? []).entries()) {
    if (ext.url !== VARIABLE_EXTENSION || (which !== 'all' && !which.has(i))) continue;
    const expression = ext.valueExpression;
    if (!expression?.name) {
      fail(state, 'error', 'invalid', `${where}: variable extension without a name`, `${path}.extension[${i}]`);
      continue;
    }
    const evaluated = evaluateExpression(expression, focus, variables, state.options.evaluators);
    if (evaluated.error !== undefined) {
      fail(state, 'error', 'processing', `${where}: variable %${expression.name} failed: ${evaluated.error}`, `${path}.extension[${i}].valueExpression`);
    }
    variables[expression.name] = evaluated.result ?? [];
  }
}

interface VariableSchedule {
  /** Indexes in `action.extension` of the variables the applicability conditions read, directly or through other variables. */
  beforeConditions: ReadonlySet<number>;
  afterConditions: ReadonlySet<number>;
}

const NO_VARIABLES: VariableSchedule = { beforeConditions: new Set(), afterConditions: new Set() };
const schedules = new WeakMap<PlanDefinitionAction, VariableSchedule>();
/** `%name` or `%\`name\`` in an expression text: the variables it can read. */
const VARIABLE_REFERENCE = /%(?:([A-Za-z_][A-Za-z0-9_]*)|`([^`]*)`)/g;

function referencedVariables(text: string | undefined): string[] {
  return [...(text ?? '').matchAll(VARIABLE_REFERENCE)].map((m) => (m[1] ?? m[2])!);
}

/**
 * Which of an action's named expressions are needed to decide its applicability (computed once
 * per action). A variable the conditions do not read, even through another variable, cannot change
 * the decision, so it waits until the action applies: for the many patients a protocol does not
 * apply to, its contraindication logic is then never computed. Document order is kept within each
 * part, and a variable only reads earlier ones, so every variable still sees what it saw before.
 */
function variableSchedule(action: PlanDefinitionAction): VariableSchedule {
  let schedule = schedules.get(action);
  if (schedule) return schedule;
  const all = (action.extension ?? []).map((ext, index) => ({ ext, index })).filter(({ ext }) => ext.url === VARIABLE_EXTENSION);
  if (all.length === 0) {
    schedule = NO_VARIABLES;
  } else {
    const needed = new Set<number>();
    // A variable without a name is reported where it stands.
    for (const { ext, index } of all) if (!ext.valueExpression?.name) needed.add(index);
    const byName = new Map(all.filter(({ ext }) => ext.valueExpression?.name).map((d) => [d.ext.valueExpression!.name!, d]));
    const visit = (name: string) => {
      const found = byName.get(name);
      if (!found || needed.has(found.index)) return;
      needed.add(found.index);
      for (const next of referencedVariables(found.ext.valueExpression?.expression)) visit(next);
    };
    const conditions = (action.condition ?? []).filter((c) => c.kind === 'applicability');
    // An expression in another language may read any variable in a way this scan cannot see.
    const opaque = [...conditions.map((c) => c.expression), ...all.map((d) => d.ext.valueExpression)].some((e) => e && e.language !== FHIRPATH);
    if (opaque) for (const { index } of all) needed.add(index);
    for (const condition of conditions) for (const name of referencedVariables(condition.expression?.expression)) visit(name);
    schedule = { beforeConditions: needed, afterConditions: new Set(all.map((d) => d.index).filter((i) => !needed.has(i))) };
  }
  schedules.set(action, schedule);
  return schedule;
}

function label(expression: { description?: string; name?: string }, text: string): string {
  return expression.description ?? expression.name ?? text;
}

function describeApplicable(action: PlanDefinitionAction, trace: ActionTrace): string {
  const held = trace.conditions.filter((c) => c.result?.[0] === true).map((c) => `"${c.description ?? c.expression}"`);
  if (held.length > 0) return `applicable: ${held.join(' and ')} ${held.length > 1 ? 'are' : 'is'} true`;
  if (action.action?.length) return 'applicable: a group with applicable actions';
  return 'applicable: no conditions';
}

function bindInput(requirement: DataRequirement, state: ApplyState, where: string): Resource[] {
  let found = state.inputCache.get(requirement);
  if (!found) {
    found = filterByRequirement(requirement, {
      data: state.context.data,
      subject: state.context.subject,
      knowledge: state.knowledge,
      nowText: state.clock.nowText,
      issues: state.issues,
      where,
    });
    state.inputCache.set(requirement, found);
  }
  return found;
}

/** Elements copied as authored, in the order they appear in a RequestGroup action. */
const COPIED_FIRST = ['prefix', 'title', 'description', 'textEquivalent', 'priority', 'code', 'documentation'] as const;
const COPIED_LAST = ['type', 'groupingBehavior', 'selectionBehavior', 'requiredBehavior', 'precheckBehavior', 'cardinalityBehavior'] as const;

function copyActionElements(action: PlanDefinitionAction, state: ApplyState, trace: ActionTrace): RequestGroupAction {
  const rg: Record<string, unknown> = {};
  const copy = (keys: readonly (keyof PlanDefinitionAction & keyof RequestGroupAction)[]) => {
    for (const key of keys) if (action[key] !== undefined) rg[key] = action[key];
  };
  copy(COPIED_FIRST);
  // start/stop conditions are for the runtime system; applicability was decided here.
  const carried = (action.condition ?? []).filter((c) => c.kind === 'start' || c.kind === 'stop');
  if (carried.length > 0) rg.condition = carried.map((c) => ({ kind: c.kind, ...(c.expression ? { expression: c.expression } : {}) }));
  if (action.relatedAction) rg.relatedAction = action.relatedAction;
  const birthDate = (state.context.subject as { birthDate?: string }).birthDate;
  const timing = concreteTiming(action, birthDate, state.clock.nowText);
  Object.assign(rg, timing.timing);
  if (timing.note) trace.notes.push(`timing: ${timing.note}`);
  const participants = resolveParticipants(action, state, trace);
  if (participants.length > 0) rg.participant = participants;
  copy(COPIED_LAST);
  return rg;
}

function resolveParticipants(action: PlanDefinitionAction, state: ApplyState, trace: ActionTrace): NonNullable<RequestGroupAction['participant']> {
  const refs: NonNullable<RequestGroupAction['participant']> = [];
  for (const p of action.participant ?? []) {
    if (p.type === 'patient') refs.push(state.subjectRef);
    else if (p.type === 'practitioner' && state.context.practitioner?.id) refs.push({ reference: `Practitioner/${state.context.practitioner.id}` });
    else if (p.type === 'related-person') {
      const people = state.context.data.byType('RelatedPerson');
      if (people.length === 1 && people[0]?.id) refs.push({ reference: `RelatedPerson/${people[0].id}` });
      else trace.notes.push(`participant related-person not resolved: ${people.length} RelatedPerson resources in the record`);
    } else trace.notes.push(`participant ${p.type} not resolved: no ${p.type} in the apply context`);
  }
  return refs;
}

function resolveDefinition(plan: PlanDefinition, canonical: string, state: ApplyState): Resource | undefined {
  if (canonical.startsWith('#')) return plan.contained?.find((r) => r.id === canonical.slice(1));
  return state.knowledge.resolve(canonical);
}

const OCCURRENCE_TYPES = new Set(['ServiceRequest', 'CommunicationRequest', 'DeviceRequest', 'SupplyRequest']);

function applyDefinition(
  definition: Resource,
  action: PlanDefinitionAction,
  rgAction: RequestGroupAction,
  resourceId: string,
  scope: Scope,
  state: ApplyState,
  trace: ActionTrace,
): Resource | string | { notApplicable: string } {
  const where = `PlanDefinition/${scope.plan.id ?? ''}#${trace.actionId}`;
  switch (definition.resourceType) {
    case 'ActivityDefinition': {
      const kind = definition.kind;
      if (!isSupportedKind(kind)) {
        fail(
          state,
          'error',
          'not-supported',
          `${where}: ActivityDefinition/${definition.id} has kind '${kind ?? ''}', which cannot be applied`,
          `${scope.path}.definitionCanonical`,
        );
        return `its ActivityDefinition has the unsupported kind '${kind ?? ''}'`;
      }
      const request = buildRequest({
        definition: definition,
        context: state.context,
        variables: scope.variables,
        id: resourceId,
        requestStatus: state.options.requestStatus,
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
          evaluators: state.options.evaluators,
          issues: state.issues,
          strict: state.options.strict,
          where: `${where} dynamicValue`,
          actionTarget: rgAction as Record<string, unknown>,
        });
      }
      return request;
    }
    case 'PlanDefinition': {
      const nested = definition;
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
      if (action.code?.[0]) group.code = action.code[0];
      if (inner.actions.length === 0) return { notApplicable: `none of the actions of its nested PlanDefinition ${canonical} applies` };
      group.action = inner.actions;
      return group;
    }
    case 'Questionnaire': {
      const q = definition;
      const task: Task = {
        resourceType: 'Task',
        id: resourceId,
        status: state.options.requestStatus === 'active' ? 'requested' : 'draft',
        intent: 'option',
        code: { coding: [{ system: CPG_ACTIVITY_TYPE_SYSTEM, code: 'collect-information' }] },
        for: state.subjectRef,
        authoredOn: state.clock.nowText,
        input: [{ type: { text: 'questionnaire' }, valueCanonical: canonicalOf(q) }],
      };
      if (q.title) task.description = q.title;
      return task;
    }
    default:
      fail(state, 'error', 'not-supported', `${where}: a ${definition.resourceType} cannot be applied as an action definition`, where);
      return `a ${definition.resourceType} cannot be applied as an action definition`;
  }
}

function instructionTask(action: PlanDefinitionAction, rgAction: RequestGroupAction, id: string, state: ApplyState): Task {
  const task: Task = {
    resourceType: 'Task',
    id,
    status: state.options.requestStatus === 'active' ? 'requested' : 'draft',
    intent: 'option',
  };
  if (action.priority) task.priority = action.priority;
  if (action.code?.[0]) task.code = action.code[0];
  const text = action.textEquivalent ?? action.description ?? action.title;
  if (text) task.description = text;
  task.for = state.subjectRef;
  task.authoredOn = state.clock.nowText;
  const when = whenOf(rgAction, undefined);
  if (when) setWhen(task as unknown as Record<string, unknown>, 'Task', when);
  return task;
}

/** The contained id of a plan's goal, created on first use; undefined (and a warning) if the plan has no such goal. */
function useGoal(plan: PlanDefinition, goalId: string, idPrefix: string, state: ApplyState): string | undefined {
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

/** A contained-resource id: `base` if free, else base-2, base-3, ... (deterministic: allocation order). */
function allocateId(state: ApplyState, base: string): string {
  let id = base;
  for (let n = 2; state.ids.has(id); n++) id = `${base.slice(0, 60)}-${n}`;
  state.ids.add(id);
  return id;
}

/**
 * Marks what exists now; the returned function removes what was added since. Only sizes are kept:
 * entries are only ever added (or rolled back newest first), and a Map iterates in insertion order,
 * so what was added since is what lies beyond the recorded size. (Copying the key sets at every
 * applicable action made this quadratic in the number of actions.)
 */
function checkpoint(state: ApplyState): () => void {
  const resources = state.resources.length;
  const actionIds = state.byActionId.size;
  const goals = state.goalsUsed.size;
  return () => {
    state.resources.length = resources;
    keepFirst(state.byActionId, actionIds);
    keepFirst(state.goalsUsed, goals);
  };
}

function keepFirst(map: Map<string, unknown>, count: number): void {
  if (map.size <= count) return;
  let seen = 0;
  for (const key of [...map.keys()]) if (seen++ >= count) map.delete(key);
}

/** Whether the R4 type has `intent` (CommunicationRequest, Appointment, SupplyRequest... do not). */
function hasIntent(type: string): boolean {
  return (R4_MODEL.path2Type as Record<string, string>)[`${type}.intent`] !== undefined;
}

/** Puts a computed date on a request: occurrence[x] where the type has it, Task.restriction.period. */
function setWhen(request: Record<string, unknown>, type: string, when: When): void {
  if (OCCURRENCE_TYPES.has(type)) setOccurrence(request, when);
  else if (type === 'Task') request.restriction = { ...(request.restriction as object | undefined), period: { start: when.start, end: when.end } };
}

function hasWhen(request: Record<string, unknown>): boolean {
  return Boolean(request.occurrenceDateTime || request.occurrencePeriod || request.occurrenceTiming || (request.restriction as { period?: unknown } | undefined)?.period);
}

function setOccurrence(request: Record<string, unknown>, when: When): void {
  delete request.occurrenceDateTime;
  delete request.occurrencePeriod;
  delete request.occurrenceTiming;
  Object.assign(request, when.start === when.end ? { occurrenceDateTime: when.start } : { occurrencePeriod: { start: when.start, end: when.end } });
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

/** Second pass: relatedAction offsets -> concrete dates once every target's date is known. */
function resolveRelatedActions(state: ApplyState): void {
  const resolving = new Set<string>();
  const requests = new Map(state.resources.map((r) => [`#${r.id}`, r]));
  /** A group with no date of its own spans the dates of its actions. */
  const spanOf = (actions: RequestGroupAction[] | undefined): When | undefined => {
    let span: When | undefined;
    for (const child of actions ?? []) {
      const w =
        child.id && state.byActionId.has(child.id)
          ? resolve(child.id)
          : (whenOf(child, child.resource?.reference ? requests.get(child.resource.reference) : undefined) ?? spanOf(child.action));
      if (!w) continue;
      if (!span) span = { ...w };
      else {
        if (instantOf(w.start)! < instantOf(span.start)!) span.start = w.start;
        if (instantOf(w.end)! > instantOf(span.end)!) span.end = w.end;
      }
    }
    return span;
  };
  // A group's span is asked for by every ancestor: remember what was settled without meeting a
  // cycle (a cycle's warnings depend on where the walk entered it, so those are recomputed as before).
  const settled = new Map<string, When | undefined>();
  let cyclesMet = 0;
  const resolve = (id: string): When | undefined => {
    if (settled.has(id)) return settled.get(id);
    const entry = state.byActionId.get(id);
    if (!entry) return undefined;
    const own = whenOf(entry.action, entry.request);
    if (own) return own;
    if (resolving.has(id)) {
      cyclesMet++;
      fail(state, 'warning', 'processing', `relatedAction cycle through action ${id}; its timing is left relative`, `RequestGroup.action#${id}`);
      return undefined;
    }
    const cyclesBefore = cyclesMet;
    const when = resolveOnce(id, entry);
    if (cyclesMet === cyclesBefore) settled.set(id, when);
    return when;
  };
  const resolveOnce = (id: string, entry: NonNullable<ReturnType<typeof state.byActionId.get>>): When | undefined => {
    resolving.add(id);
    try {
      for (const related of entry.action.relatedAction ?? []) {
        const target = resolve(related.actionId);
        if (!target) continue;
        const when = relatedWhen(related, target);
        if (!when) continue;
        Object.assign(entry.action, timingOf(when));
        if (entry.request) {
          const r = entry.request as unknown as Record<string, unknown>;
          if (!hasWhen(r)) setWhen(r, entry.request.resourceType, when);
        }
        const precision = isSubDay(related) && target.start.length <= 10 ? ' (date precision: same day)' : '';
        entry.trace.notes.push(
          `timing: ${offsetText(related)}${related.relationship} ${related.actionId} -> ${when.start === when.end ? when.start : `${when.start}..${when.end}`}${precision}`,
        );
        return when;
      }
      return spanOf(entry.action.action);
    } finally {
      resolving.delete(id);
    }
  };
  for (const id of state.byActionId.keys()) resolve(id);
}

type Dated = { start?: number; end?: number; startText?: string; endText?: string };

/** The dates of a request as a range (undefined bound = open); undefined when it has no date. */
function datesOf(request: Record<string, unknown>): Dated | undefined {
  const period = request.occurrencePeriod as Period | undefined;
  const at = request.occurrenceDateTime as string | undefined;
  if (at) return { start: instantOf(at), end: instantOf(at), startText: at, endText: at };
  if (period && (period.start || period.end)) return { start: instantOf(period.start), end: instantOf(period.end), startText: period.start, endText: period.end };
  if (request.occurrenceTiming || (request.restriction as { period?: unknown } | undefined)?.period) return { startText: '\u0000timing' };
  return undefined;
}

/** The dates both uses allow: the later start and the earlier end; undefined when they do not overlap. */
function commonDates(a: Dated | undefined, b: Dated | undefined): Dated | undefined | 'none' {
  if (!a && !b) return 'none';
  if (!a) return b;
  if (!b) return a;
  // A Timing or a Task restriction is not a range we can intersect: only identical uses merge.
  if (a.startText === '\u0000timing' || b.startText === '\u0000timing') return undefined;
  const startFromA = a.start === undefined ? false : b.start === undefined ? true : a.start >= b.start;
  const endFromA = a.end === undefined ? false : b.end === undefined ? true : a.end <= b.end;
  const out: Dated = {
    start: startFromA ? a.start : b.start,
    startText: startFromA ? a.startText : b.startText,
    end: endFromA ? a.end : b.end,
    endText: endFromA ? a.endText : b.endText,
  };
  if (out.start !== undefined && out.end !== undefined && out.start > out.end) return undefined;
  return out;
}

/**
 * One request per activity (SAFE-6: "each activity appears once in a plan"). A plan that reaches
 * the same ActivityDefinition from two places - a pathway whose nested protocols share work-up,
 * such as the vaginal discharge exam before HSG and before hysteroscopy - would otherwise order it
 * twice. Two active requests of the same type instantiating the same definition become one when a
 * single date range serves both uses (the later start, the earlier end); the later action then
 * points to the first request, whose reasons gather both. Uses whose dates do not overlap stay
 * separate (the same activity at two different times), and do-not-perform requests are never merged.
 */
function mergeRepeatedActivities(state: ApplyState, topActions: RequestGroupAction[]): void {
  const firstByActivity = new Map<string, Record<string, unknown> & Resource>();
  const replacedBy = new Map<string, string>();
  for (const resource of state.resources) {
    if (resource.resourceType === 'RequestGroup') continue;
    const request = resource as Record<string, unknown> & Resource;
    const canonicals = request.instantiatesCanonical;
    const canonical = Array.isArray(canonicals) ? (canonicals[0] as string | undefined) : (canonicals as string | undefined);
    if (!canonical || request.doNotPerform === true) continue;
    const key = `${resource.resourceType}|${canonical}`;
    const first = firstByActivity.get(key);
    if (!first) {
      firstByActivity.set(key, request);
      continue;
    }
    const common = commonDates(datesOf(first), datesOf(request));
    if (common === undefined) continue;
    if (common !== 'none' && common.startText !== '\u0000timing' && !(first.occurrenceDateTime && first.occurrenceDateTime === request.occurrenceDateTime)) {
      // Kept as a Period (as the uses wrote it), so a merge never changes the shape of the request.
      delete first.occurrenceDateTime;
      const period: Period = {};
      if (common.startText) period.start = common.startText;
      if (common.endText) period.end = common.endText;
      first.occurrencePeriod = period;
    }
    const reasons = [...((first.reasonReference as Reference[] | undefined) ?? [])];
    for (const r of (request.reasonReference as Reference[] | undefined) ?? []) if (!reasons.some((x) => x.reference === r.reference)) reasons.push(r);
    if (reasons.length > 0) first.reasonReference = reasons;
    replacedBy.set(`#${resource.id}`, `#${first.id}`);
  }
  if (replacedBy.size === 0) return;
  const repoint = (actions: RequestGroupAction[] | undefined): void => {
    for (const a of actions ?? []) {
      const target = a.resource?.reference ? replacedBy.get(a.resource.reference) : undefined;
      if (target) a.resource = { reference: target };
      repoint(a.action);
    }
  };
  repoint(topActions);
  for (const r of state.resources) if (r.resourceType === 'RequestGroup') repoint(r.action);
  for (const entry of state.byActionId.values()) {
    const target = entry.trace.resource ? replacedBy.get(entry.trace.resource) : undefined;
    if (target) {
      entry.trace.notes.push(`the same activity is already ${target}: one request serves both uses (SAFE-6)`);
      entry.trace.resource = target;
    }
  }
  const kept = state.resources.filter((r) => !replacedBy.has(`#${r.id}`));
  state.resources.splice(0, state.resources.length, ...kept);
}
