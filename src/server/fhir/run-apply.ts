/**
 * Executes $apply for the HTTP operation: builds the ApplyContext from the Parameters (data Bundle
 * and/or a data endpoint read with the plan's own data requirements), runs the engine, and gives
 * the CarePlan (r4) or Bundle (cpg), or the ActivityDefinition's resource.
 */
import type { ActivityDefinition, OperationOutcome, OperationOutcomeIssue, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { withDataIssues, withDataIssuesOnResource } from '../../data/data-issues.ts';
import { selectPatientCompartment } from '../../data/patient-compartment.ts';
import type { ApplyContext, ApplyOptions, ApplyResult } from '../../engine/types.ts';
import { OperationOutcomeError, issue, notFound, outcome, outcomeError, badRequest } from '../../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { runQuery, type FhirFetchOptions } from '../cds/fhir-fetch.ts';
import { PATIENT_READ, requirementQueries, type RequirementQuery } from '../requirement-queries.ts';
import { formatNow } from '../clock.ts';
import type { ProtocolEngine } from '../engine-port.ts';
import type { ApplyParameters } from './apply-parameters.ts';
import type { FhirServerPolicy } from '../allow-list.ts';
import { checkInlineBudget, type InlineLimits } from './inline-budget.ts';
import type { InlineApplyRunner } from './inline-runner.ts';

export interface RunApplyDeps {
  engine: ProtocolEngine;
  knowledge: CompiledKnowledge;
  clock: () => Date;
  utcOffset: string;
  fetch: { timeoutMs: number; maxPages: number; maxResponseBytes?: number; fhirServers: FhirServerPolicy };
  /** Inline definitions: their size budget (checked here) and the runner that bounds their time. */
  inline: { limits: InlineLimits; runner: InlineApplyRunner };
}

/**
 * The definition to apply and the knowledge to apply it with. An inline definition is applied
 * with the server's knowledge plus itself, compiled in the inline runner's worker (never here).
 */
export interface ResolvedDefinition<T> {
  definition: T;
  knowledge: CompiledKnowledge;
  inline?: boolean;
}

export function resolveDefinition<T extends PlanDefinition | ActivityDefinition>(
  knowledge: CompiledKnowledge,
  type: T['resourceType'],
  params: ApplyParameters,
  instanceId?: string,
  inlineLimits?: InlineLimits,
): ResolvedDefinition<T> {
  if (instanceId) {
    if (params.definition || params.inlineDefinition) throw badRequest(`at instance level the ${type} comes from the URL, not from a parameter`);
    const found = knowledge.byId<T>(type, instanceId);
    if (!found) throw notFound(`${type}/${instanceId} is not known`);
    return { definition: found, knowledge };
  }
  if (params.inlineDefinition) {
    const inline = params.inlineDefinition as T;
    // Counted before anything of it is compiled (too-costly when over the budget).
    if (inlineLimits) checkInlineBudget(inline, inlineLimits);
    return { definition: inline, knowledge, inline: true };
  }
  if (!params.definition) throw badRequest(`give the ${type} (url[|version], '${type}/<id>', or inline)`);
  const byId = /^([A-Za-z]+)\/([^/|]+)$/.exec(params.definition);
  const found = byId && byId[1] === type ? knowledge.byId<T>(type, byId[2] as string) : knowledge.resolve<T>(params.definition, type);
  if (!found) throw notFound(`${type} ${params.definition} is not known`);
  return { definition: found, knowledge };
}

async function readFromEndpoint(
  params: ApplyParameters,
  queries: RequirementQuery[],
  patientId: string,
  deps: RunApplyDeps,
  now: string,
  issuer: string | undefined,
): Promise<Resource[]> {
  const endpoint = params.dataEndpoint;
  if (!endpoint) return [];
  deps.fetch.fhirServers.assertAllowed(endpoint.address, issuer, 'dataEndpoint');
  const options: FhirFetchOptions = { baseUrl: endpoint.address, timeoutMs: deps.fetch.timeoutMs, maxPages: deps.fetch.maxPages, now };
  if (deps.fetch.maxResponseBytes) options.maxResponseBytes = deps.fetch.maxResponseBytes;
  if (endpoint.authorization) options.accessToken = endpoint.authorization.replace(/^bearer\s+/i, '');
  try {
    const results = await Promise.all(queries.map((q) => runQuery(q, patientId, options)));
    return results.flatMap((r) => r ?? []);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      // Still another server's failure: the mapping answers it as a gateway (502, 504 on a timeout).
      throw new OperationOutcomeError(outcome(issue('error', err.code, `dataEndpoint: ${err.message}`)), { upstream: err.upstream ?? {} });
    }
    throw err;
  }
}

function referenced(ref: string | undefined, data: Resource[], type: string): Resource | undefined {
  if (!ref) return undefined;
  const [t, id] = ref.split('/');
  if (t !== type || !id) throw badRequest(`'${ref}' must be a ${type} reference`);
  return data.find((r) => r.resourceType === type && r.id === id) ?? ({ resourceType: type, id } as Resource);
}

/** The apply's context, and the issues of the data it left out (SAFE-1). */
async function buildContext(
  params: ApplyParameters,
  queries: RequirementQuery[],
  deps: RunApplyDeps,
  now: string,
  issuer: string | undefined,
): Promise<{ context: Omit<ApplyContext, 'data'>; record: Resource[]; issues: OperationOutcomeIssue[] }> {
  const [subjectType, subjectId] = params.subject.split('/') as [string, string];
  const fromEndpoint = await readFromEndpoint(params, queries, subjectId, deps, now, issuer);
  const all = [...params.data, ...fromEndpoint];
  const seen = new Set<string>();
  const resources = all.filter((r) => {
    if (!r.id) return true;
    const key = `${r.resourceType}/${r.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const subject = resources.find((r) => r.resourceType === subjectType && r.id === subjectId);
  if (!subject) throw badRequest(`the subject ${params.subject} is neither in 'data' nor readable from 'dataEndpoint'`);
  // SAFE-1: a Patient subject's apply reads her compartment only (the data Bundle may hold others).
  let issues: OperationOutcomeIssue[] = [];
  let record = resources;
  if (subject.resourceType === 'Patient') {
    const options = { bases: params.dataEndpoint ? [params.dataEndpoint.address] : [], ...(params.dataEntries ? { entries: params.dataEntries } : {}) };
    ({ resources: record, issues } = selectPatientCompartment(resources, subject, options));
  }
  const context: Omit<ApplyContext, 'data'> = { subject, parameters: params.parameters };
  const encounter = referenced(params.encounter, record, 'Encounter');
  const practitioner = referenced(params.practitioner, record, 'Practitioner');
  const organization = referenced(params.organization, record, 'Organization');
  if (encounter) context.encounter = encounter as ApplyContext['encounter'];
  if (practitioner) context.practitioner = practitioner as ApplyContext['practitioner'];
  if (organization) context.organization = organization as ApplyContext['organization'];
  Object.assign(context, params.concepts);
  return { context, record, issues };
}

function optionsOf(params: ApplyParameters, deps: RunApplyDeps): ApplyOptions {
  const options: ApplyOptions = { now: params.now ?? formatNow(deps.clock(), deps.utcOffset), mode: params.mode };
  if (params.trace) options.traceExtension = true;
  return options;
}

/** `issuer`: the authenticated caller's (undefined when auth is off); the dataEndpoint must be allowed for it. */
export async function applyPlan(
  { definition: plan, knowledge, inline }: ResolvedDefinition<PlanDefinition>,
  params: ApplyParameters,
  deps: RunApplyDeps,
  issuer?: string,
): Promise<Resource> {
  const queries = params.dataEndpoint ? requirementQueries(knowledge.dataRequirements(plan), knowledge) : [];
  const options = optionsOf(params, deps);
  const { context, record, issues } = await buildContext(params, queries, deps, options.now, issuer);
  let applied: ApplyResult;
  if (inline) {
    const reply = await deps.inline.runner.run({ definition: plan, record, context, options });
    if (!reply.ok) throw new OperationOutcomeError(reply.outcome);
    if (!('plan' in reply)) throw outcomeError('exception', 'the inline runner answered an ActivityDefinition result for a PlanDefinition');
    applied = reply.plan;
  } else {
    applied = deps.engine.apply(plan, { ...context, data: deps.engine.buildPatientData(record) }, options, knowledge);
  }
  const result = withDataIssues(applied, issues);
  const output = params.mode === 'cpg' ? result.bundle : result.carePlan;
  if (!output) throw outcomeError('exception', `the engine gave no ${params.mode} output`);
  return output;
}

export async function applyActivity(
  { definition: activity, knowledge, inline }: ResolvedDefinition<ActivityDefinition>,
  params: ApplyParameters,
  deps: RunApplyDeps,
  issuer?: string,
): Promise<Resource> {
  const options = optionsOf(params, deps);
  const { context, record, issues } = await buildContext(params, params.dataEndpoint ? [PATIENT_READ] : [], deps, options.now, issuer);
  let applied: { resource: Resource; outcome: OperationOutcome };
  if (inline) {
    const reply = await deps.inline.runner.run({ definition: activity, record, context, options });
    if (!reply.ok) throw new OperationOutcomeError(reply.outcome);
    if (!('activity' in reply)) throw outcomeError('exception', 'the inline runner answered a PlanDefinition result for an ActivityDefinition');
    applied = reply.activity;
  } else {
    applied = deps.engine.applyActivity(activity, { ...context, data: deps.engine.buildPatientData(record) }, options, knowledge);
  }
  const { resource, outcome: result } = applied;
  // A request built with failed dynamic values would be a half-written result: refuse it.
  // The status comes from the one mapping: `processing` (422) first, the engine's own issues after.
  if (result.issue.some((i) => i.severity === 'error' || i.severity === 'fatal')) {
    throw new OperationOutcomeError(outcome(issue('error', 'processing', `${activity.resourceType} could not be applied without errors; no request is returned`), ...result.issue));
  }
  return withDataIssuesOnResource(resource, issues);
}
