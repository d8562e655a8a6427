/**
 * The two output shapes of $apply:
 * - R4: a CarePlan whose activity points to a contained RequestGroup; requests, Goals, Tasks and
 *   the OperationOutcome are contained too (transient, nothing persisted).
 * - CPG / R5: a Bundle per subject, RequestGroup first, then the requests, Goals, Tasks and the
 *   OperationOutcome, referenced by deterministic urn:uuid full URLs.
 */
import type { Bundle, CarePlan, Coding, Expression, Extension, Goal, OperationOutcome, Patient, PlanDefinition, Reference, RequestGroup, Resource, Task } from '@medplum/fhirtypes';
import { nameBasedUuid } from '../util/name-based-uuid.ts';
import { rewriteReferences } from '../util/rewrite-references.ts';
import type { ResolvedOptions } from './options.ts';
import {
  CQF_MESSAGES_EXTENSION,
  PERTAINS_TO_GOAL_EXTENSION,
  TRACE_EXTENSION,
  type ActionTrace,
  type ApplyContext,
  type ApplyResult,
  type Issues,
  type MissingInput,
} from './types.ts';

export interface AssembleInput {
  plan: PlanDefinition;
  context: ApplyContext;
  options: ResolvedOptions;
  nowText: string;
  subjectRef: Reference<Patient>;
  requestGroup: RequestGroup;
  requests: Resource[];
  goals: Goal[];
  tasks: Task[];
  issues: Issues;
  traces: ActionTrace[];
  missing: MissingInput[];
}

export const OUTCOME_ID = 'outcome';

export function assembleResult(input: AssembleInput): ApplyResult {
  const { plan, options, requestGroup } = input;
  const operationOutcome: OperationOutcome = { resourceType: 'OperationOutcome', id: OUTCOME_ID, issue: input.issues };
  if (input.issues.length === 0) {
    operationOutcome.issue = [{ severity: 'information', code: 'informational', diagnostics: 'applied without issues' }];
  }
  // RequestGroup has no goal element: it names the plan's Goals with pertainsToGoal, so a CPG
  // Bundle (which has no CarePlan.goal) still links every Goal, and both modes carry the same group.
  const goalLinks: Extension[] = input.goals.map((g) => ({ url: PERTAINS_TO_GOAL_EXTENSION, valueReference: { reference: `#${g.id}` } }));
  if (goalLinks.length > 0) requestGroup.extension = [...(requestGroup.extension ?? []), ...goalLinks];
  if (options.traceExtension) requestGroup.extension = [...(requestGroup.extension ?? []), ...traceExtensions(input.traces)];
  const resources: Resource[] = [...input.requests, ...input.goals, ...input.tasks];
  // SAFE-7: a result is never empty and silent. When nothing of the plan applies, the group says
  // why, naming the conditions (their descriptions carry the rule ids) that kept each branch out.
  const whyNothing = requestGroup.action?.length ? undefined : whyNothingApplies(input.traces);
  if (whyNothing) requestGroup.note = [{ text: whyNothing }];
  const messages: Extension[] = input.issues.length > 0 ? [{ url: CQF_MESSAGES_EXTENSION, valueReference: { reference: `#${OUTCOME_ID}` } }] : [];
  const result: ApplyResult = {
    requestGroup,
    resources,
    outcome: operationOutcome,
    trace: input.traces,
    missing: input.missing,
  };

  if (options.mode === 'r4') {
    // Key order is the output order: kept fixed so the same input serialises byte for byte.
    const carePlan = { resourceType: 'CarePlan', id: `careplan-${plan.id ?? 'plan'}`.slice(0, 64) } as CarePlan;
    carePlan.contained = [requestGroup, ...resources, ...(input.issues.length > 0 ? [operationOutcome] : [])];
    if (messages.length > 0) carePlan.extension = messages;
    carePlan.instantiatesCanonical = requestGroup.instantiatesCanonical;
    carePlan.status = options.carePlanStatus;
    carePlan.intent = 'proposal';
    if (plan.title) carePlan.title = plan.title;
    if (plan.description) carePlan.description = plan.description;
    carePlan.subject = input.subjectRef;
    if (requestGroup.encounter) carePlan.encounter = requestGroup.encounter;
    carePlan.created = input.nowText;
    const author = input.context.practitioner?.id
      ? `Practitioner/${input.context.practitioner.id}`
      : input.context.organization?.id
        ? `Organization/${input.context.organization.id}`
        : undefined;
    if (author) carePlan.author = { reference: author };
    if (input.goals.length > 0) carePlan.goal = input.goals.map((g) => ({ reference: `#${g.id}` }));
    carePlan.activity = [{ reference: { reference: `#${requestGroup.id}` } }];
    if (whyNothing) carePlan.note = [{ text: whyNothing }];
    result.carePlan = carePlan;
    return result;
  }

  // CPG: every '#id' reference becomes the urn:uuid of the bundle entry with that id.
  const all: Resource[] = [requestGroup, ...resources, ...(input.issues.length > 0 ? [operationOutcome] : [])];
  if (messages.length > 0) requestGroup.extension = [...(requestGroup.extension ?? []), ...messages];
  const seed = `${requestGroup.instantiatesCanonical?.[0]}|${input.subjectRef.reference}|${input.nowText}`;
  const fullUrls = new Map(all.map((r) => [`#${r.id}`, `urn:uuid:${nameBasedUuid(seed, `${r.resourceType}/${r.id}`)}`]));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: `apply-${plan.id ?? 'plan'}-${input.context.subject.id}`.slice(0, 64),
    type: 'collection',
    timestamp: input.nowText,
    entry: all.map((r) => ({ fullUrl: fullUrls.get(`#${r.id}`)!, resource: rewriteReferences(r, fullUrls) })),
  };
  result.bundle = bundle;
  result.requestGroup = bundle.entry![0]!.resource as RequestGroup;
  result.resources = bundle.entry!.slice(1, 1 + resources.length).map((e) => e.resource!);
  return result;
}

/** A complex sub-extension: no value, its parts are sub-extensions of their own. */
function complexPart(url: string, parts: Extension[]): Extension {
  return { url, extension: parts };
}

/** `system|code` (as MissingInput.codes hold them) as a Coding. */
function codingOf(code: string): Coding {
  const bar = code.lastIndexOf('|');
  return bar < 0 ? { code } : { system: code.slice(0, bar), code: code.slice(bar + 1) };
}

/**
 * One apply-trace extension per action, depth first (profiles/StructureDefinition-apply-trace.json):
 * what a reader needs to see why the action is in or out without re-deriving it from the plan.
 */
function traceExtensions(traces: ActionTrace[]): Extension[] {
  const flat: { trace: ActionTrace; parent?: string }[] = [];
  const walk = (list: ActionTrace[], parent?: string) => {
    for (const t of list) {
      flat.push(parent === undefined ? { trace: t } : { trace: t, parent });
      walk(t.children, t.actionId);
    }
  };
  walk(traces);
  return flat.map(({ trace: t, parent }) => ({
    url: TRACE_EXTENSION,
    extension: [
      { url: 'actionId', valueString: t.actionId },
      ...(t.title ? [{ url: 'title', valueString: t.title }] : []),
      ...(parent !== undefined ? [{ url: 'parent', valueString: parent }] : []),
      { url: 'applicability', valueCode: t.applicability },
      { url: 'reason', valueString: t.reason },
      ...t.conditions.map((c) =>
        complexPart('condition', [
          { url: 'kind', valueCode: c.kind },
          ...(c.language && c.expression
            ? [
                {
                  url: 'expression',
                  valueExpression: { ...(c.description ? { description: c.description } : {}), language: c.language as Expression['language'], expression: c.expression },
                },
              ]
            : []),
          ...(c.result ? [{ url: 'result', valueString: JSON.stringify(c.result) }] : []),
          ...(c.error ? [{ url: 'error', valueString: c.error }] : []),
        ]),
      ),
      ...t.inputs.map((i) =>
        complexPart('input', [
          { url: 'id', valueString: i.id },
          { url: 'count', valueUnsignedInt: i.count },
        ]),
      ),
      ...t.missing.map((m) =>
        complexPart('missing', [
          { url: 'inputId', valueString: m.inputId },
          { url: 'type', valueCode: m.type },
          ...m.codes.map((code) => ({ url: 'code', valueCoding: codingOf(code) })),
          { url: 'task', valueReference: { reference: `#${m.taskId}` } },
        ]),
      ),
      ...(t.resource ? [{ url: 'resource', valueReference: { reference: t.resource } }] : []),
      ...t.notes.map((n) => ({ url: 'note', valueString: n })),
    ],
  }));
}

/**
 * "Nothing in this plan applies: ..." with the deepest reason of each branch that stayed out: a
 * branch that is out because none of its actions applies is explained by those actions.
 */
function whyNothingApplies(traces: ActionTrace[]): string | undefined {
  const reasons: string[] = [];
  const walk = (list: ActionTrace[]): void => {
    for (const t of list) {
      if (t.applicability === 'applicable') continue;
      if (t.children.length > 0 && t.children.every((c) => c.applicability !== 'applicable')) walk(t.children);
      else reasons.push(`${t.title ?? t.actionId} - ${t.reason}`);
    }
  };
  walk(traces);
  return reasons.length > 0 ? `Nothing in this plan applies to the patient: ${reasons.join('; ')}.` : undefined;
}
