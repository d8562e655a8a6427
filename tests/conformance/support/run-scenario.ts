/**
 * Runs one conformance scenario through the real engine and checks its `then` block.
 *
 * A PlanDefinition scenario runs twice, in R4 mode (CarePlan) and in CPG mode (Bundle), and the
 * same expectations are checked on both: the CPG Bundle's urn:uuid references are mapped back to
 * `#id` first, so one expectation file states the semantics once. Every result also goes through
 * the structural invariants, and the two modes must carry the same resources.
 */
import type { ActivityDefinition, Bundle, CarePlan, Goal, OperationOutcome, PlanDefinition, RequestGroup, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import {
  applyActivityDefinition,
  applyPlanDefinition,
  buildPatientData,
  type ApplyContext,
  type ApplyResult,
  compileKnowledge,
  type CompiledKnowledge,
} from '../../../src/engine/index.ts';
import type { ActionTrace } from '../../../src/engine/types.ts';
import type { ActivityScenario, Feature, IssueExpectation, PlanScenario, Shape } from './features.ts';
import { activityResultViolations, bundleViolations, carePlanViolations } from './invariants.ts';

export type Mode = 'r4' | 'cpg';

/** What a scenario's expectations read, the same in both output modes. */
export interface ApplyView {
  mode: Mode;
  result: ApplyResult;
  requestGroup: RequestGroup;
  /** Every generated resource besides the top RequestGroup (and the OperationOutcome), `#id` references. */
  resources: Resource[];
  resolve(reference: string): Resource | undefined;
}

function contextFor(feature: Feature, scenario: PlanScenario | ActivityScenario): ApplyContext {
  const patient = scenario.given.patient ?? feature.patient;
  const ctx = scenario.given.context ?? feature.context;
  const context: ApplyContext = { subject: patient, data: buildPatientData([patient, ...scenario.given.data]) };
  if (ctx.practitioner) context.practitioner = ctx.practitioner as ApplyContext['practitioner'];
  if (ctx.organization) context.organization = ctx.organization as ApplyContext['organization'];
  if (ctx.encounter) context.encounter = ctx.encounter as ApplyContext['encounter'];
  if (ctx.userType) context.userType = ctx.userType;
  if (ctx.setting) context.setting = ctx.setting;
  if (ctx.parameters) context.parameters = ctx.parameters;
  return context;
}

function definition<T extends Resource>(knowledge: CompiledKnowledge, canonical: string, type: string): T {
  const found = knowledge.resolve<T>(canonical);
  if (!found || found.resourceType !== type) throw new Error(`the feature's knowledge has no ${type} ${canonical}`);
  return found;
}

/** Replaces urn:uuid references with `#<id of the entry>`, so CPG output reads like the R4 one. */
function localize<T>(value: T, byUrl: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => localize(v, byUrl)) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' && byUrl.has(v) ? byUrl.get(v) : localize(v, byUrl);
  return out as T;
}

export function viewOf(result: ApplyResult, mode: Mode): ApplyView {
  if (mode === 'r4') {
    const contained = result.carePlan?.contained ?? [];
    const rgRef = result.carePlan?.activity?.[0]?.reference?.reference ?? '';
    const requestGroup = contained.find((r) => `#${r.id}` === rgRef) as RequestGroup;
    return {
      mode,
      result,
      requestGroup,
      resources: contained.filter((r) => r !== requestGroup && r.resourceType !== 'OperationOutcome'),
      resolve: (ref) => contained.find((r) => `#${r.id}` === ref),
    };
  }
  const bundle = result.bundle as Bundle;
  const byUrl = new Map((bundle.entry ?? []).map((e) => [e.fullUrl ?? '', `#${e.resource?.id ?? ''}`] as const));
  const all = (bundle.entry ?? []).map((e) => localize(e.resource!, byUrl));
  const [requestGroup, ...rest] = all;
  return {
    mode,
    result,
    requestGroup: requestGroup as RequestGroup,
    resources: rest.filter((r) => r.resourceType !== 'OperationOutcome'),
    resolve: (ref) => all.find((r) => `#${r.id}` === ref),
  };
}

/** Depth-first action paths (`parent/child`), descending into nested RequestGroups. */
export function actionPaths(actions: RequestGroupAction[] | undefined, view: ApplyView, prefix = ''): string[] {
  return (actions ?? []).flatMap((a) => {
    const path = `${prefix}${a.id ?? a.title ?? '?'}`;
    const nested = a.resource?.reference ? view.resolve(a.resource.reference) : undefined;
    const inner = nested?.resourceType === 'RequestGroup' ? nested.action : undefined;
    return [path, ...actionPaths(a.action, view, `${path}/`), ...actionPaths(inner, view, `${path}/`)];
  });
}

export function findAction(actions: RequestGroupAction[] | undefined, id: string, view: ApplyView): RequestGroupAction | undefined {
  for (const a of actions ?? []) {
    if (a.id === id) return a;
    const nested = a.resource?.reference ? view.resolve(a.resource.reference) : undefined;
    const inner = nested?.resourceType === 'RequestGroup' ? nested.action : undefined;
    const found = findAction(a.action, id, view) ?? findAction(inner, id, view);
    if (found) return found;
  }
  return undefined;
}

function flatTrace(traces: ActionTrace[]): ActionTrace[] {
  return traces.flatMap((t) => [t, ...flatTrace(t.children)]);
}

function expectShape(actual: unknown, expected: Shape, label: string): void {
  expect(actual, `${label}: missing`).toBeDefined();
  if (expected.match) expect(actual, label).toMatchObject(expected.match);
  for (const name of expected.absent ?? []) expect((actual as Record<string, unknown>)[name], `${label}: ${name} must be absent`).toBeUndefined();
}

function expectIssues(outcome: OperationOutcome, issues: IssueExpectation[] | undefined, noErrors: boolean | undefined, label: string): void {
  for (const wanted of issues ?? []) {
    const found = (outcome.issue ?? []).some(
      (i) => i.severity === wanted.severity && (!wanted.code || i.code === wanted.code) && (!wanted.diagnostics || new RegExp(wanted.diagnostics).test(i.diagnostics ?? '')),
    );
    expect(found, `${label}: expected issue ${JSON.stringify(wanted)} in ${JSON.stringify(outcome.issue)}`).toBe(true);
  }
  if (noErrors) {
    const errors = (outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    expect(errors, `${label}: error issues`).toEqual([]);
  }
}

/** The resources one mode carries, comparable across modes (cqf-messages sits on the CarePlan in R4, the RequestGroup in CPG). */
function comparable(view: ApplyView): Resource[] {
  const rg = { ...view.requestGroup } as RequestGroup;
  const ext = (rg.extension ?? []).filter((e) => e.url !== 'http://hl7.org/fhir/StructureDefinition/cqf-messages');
  if (ext.length > 0) rg.extension = ext;
  else delete rg.extension;
  return [rg, ...view.resources];
}

export function applyPlanScenario(feature: Feature, scenario: PlanScenario, mode: Mode): ApplyResult {
  const knowledge = compileKnowledge(feature.knowledge);
  const plan = definition<PlanDefinition>(knowledge, scenario.when.canonical, 'PlanDefinition');
  return applyPlanDefinition(plan, contextFor(feature, scenario), { now: feature.now, mode, ...scenario.when.options }, knowledge);
}

export function runPlanScenario(feature: Feature, scenario: PlanScenario): Record<Mode, ApplyView> {
  const views = {} as Record<Mode, ApplyView>;
  for (const mode of ['r4', 'cpg'] as const) {
    const result = applyPlanScenario(feature, scenario, mode);
    const violations = mode === 'r4' ? carePlanViolations(result.carePlan as CarePlan) : bundleViolations(result.bundle as Bundle);
    expect(violations, `${mode}: structural invariants`).toEqual([]);
    const view = viewOf(result, mode);
    checkPlanThen(view, scenario);
    views[mode] = view;
  }
  expect(comparable(views.cpg), 'CPG and R4 outputs carry the same resources').toEqual(comparable(views.r4));
  return views;
}

export function checkPlanThen(view: ApplyView, scenario: PlanScenario): void {
  const then = scenario.then;
  const label = (what: string) => `${view.mode}: ${what}`;
  if (then.actions) expect(actionPaths(view.requestGroup.action, view), label('RequestGroup actions')).toEqual(then.actions);
  for (const [id, expected] of Object.entries(then.actionElements ?? {})) {
    expectShape(findAction(view.requestGroup.action, id, view), expected, label(`action ${id}`));
  }
  for (const [id, expected] of Object.entries(then.requests ?? {})) {
    const action = findAction(view.requestGroup.action, id, view);
    expect(action?.resource?.reference, label(`action ${id} references a resource`)).toBeDefined();
    const request = view.resolve(action!.resource!.reference!);
    expect(request?.resourceType, label(`the resource of action ${id}`)).toBe(expected.resourceType);
    expectShape(request, expected, label(`the ${expected.resourceType} of action ${id}`));
  }
  if (then.requestGroup) expectShape(view.requestGroup, then.requestGroup, label('RequestGroup'));
  if (then.carePlan && view.mode === 'r4') expectShape(view.result.carePlan, then.carePlan, label('CarePlan'));
  if (then.goals) {
    const goals = view.resources.filter((r): r is Goal => r.resourceType === 'Goal');
    expect(goals.length, label('number of Goals')).toBe(then.goals.length);
    then.goals.forEach((g, i) => {
      expectShape(goals[i], g, label(`Goal ${i}`));
    });
  }
  if (then.trace) {
    const byId = new Map(flatTrace(view.result.trace).map((t) => [t.actionId, t.applicability] as const));
    for (const [id, applicability] of Object.entries(then.trace)) expect(byId.get(id), label(`trace of ${id}`)).toBe(applicability);
  }
  expectIssues(view.result.outcome, then.issues, then.noErrors, view.mode);
  if (then.resourceCount !== undefined) expect(view.resources.length, label('generated resources')).toBe(then.resourceCount);
}

export function runActivityScenario(feature: Feature, scenario: ActivityScenario): Resource {
  const knowledge = compileKnowledge(feature.knowledge);
  const ad = definition<ActivityDefinition>(knowledge, scenario.when.canonical, 'ActivityDefinition');
  const { resource, outcome } = applyActivityDefinition(ad, contextFor(feature, scenario), { now: feature.now }, knowledge);
  expect(activityResultViolations(resource), 'structural invariants').toEqual([]);
  expect(resource.resourceType).toBe(scenario.then.resource.resourceType);
  expectShape(resource, scenario.then.resource, `the ${resource.resourceType}`);
  expectIssues(outcome, scenario.then.issues, scenario.then.noErrors, 'ActivityDefinition/$apply');
  return resource;
}
