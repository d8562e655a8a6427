/**
 * FHIR REST endpoints under /fhir: metadata, read and search of the knowledge artifacts, and
 * $apply on PlanDefinition and ActivityDefinition (type and instance level). $apply takes patient
 * data, so it is authenticated like the CDS calls (aud = <base>/fhir); artifacts are public.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActivityDefinition, CapabilityStatement, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { notFound } from '../../errors/operation-outcome.ts';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.ts';
import type { Authenticate } from '../cds/routes.ts';
import { parseApplyParameters } from './apply-parameters.ts';
import { searchArtifacts } from './artifact-search.ts';
import { applyActivity, applyPlan, resolveDefinition, type RunApplyDeps } from './run-apply.ts';

export interface FhirRoutesOptions {
  knowledge: KnowledgeBase;
  fhirBase: string;
  capability: CapabilityStatement;
  types: string[];
  deps: RunApplyDeps;
  authenticate: Authenticate;
}

const FHIR_JSON = 'application/fhir+json';

function send(reply: FastifyReply, resource: Resource): FastifyReply {
  return reply.type(FHIR_JSON).send(resource);
}

export function registerFhirRoutes(app: FastifyInstance, options: FhirRoutesOptions): void {
  const { knowledge, fhirBase, deps, authenticate } = options;
  const known = new Set(options.types);
  const requireType = (type: string) => {
    if (!known.has(type)) throw notFound(`resource type '${type}' is not served here (see /fhir/metadata)`);
  };
  const applyAuth = (request: FastifyRequest) => authenticate(request, [fhirBase, `${fhirBase}${request.url.split('?')[0]?.replace(/^\/fhir/, '') ?? ''}`], false);

  app.get('/fhir/metadata', async (_request, reply) => send(reply, options.capability));

  app.post<{ Params: { id: string } }>('/fhir/PlanDefinition/:id/$apply', async (request, reply) => {
    await applyAuth(request);
    const params = parseApplyParameters(request.body, 'PlanDefinition');
    const plan = resolveDefinition<PlanDefinition>(knowledge, 'PlanDefinition', params, request.params.id);
    return send(reply, await applyPlan(plan, params, deps));
  });

  app.post('/fhir/PlanDefinition/$apply', async (request, reply) => {
    await applyAuth(request);
    const params = parseApplyParameters(request.body, 'PlanDefinition');
    const plan = resolveDefinition<PlanDefinition>(knowledge, 'PlanDefinition', params);
    return send(reply, await applyPlan(plan, params, deps));
  });

  app.post<{ Params: { id: string } }>('/fhir/ActivityDefinition/:id/$apply', async (request, reply) => {
    await applyAuth(request);
    const params = parseApplyParameters(request.body, 'ActivityDefinition');
    const activity = resolveDefinition<ActivityDefinition>(knowledge, 'ActivityDefinition', params, request.params.id);
    return send(reply, await applyActivity(activity, params, deps));
  });

  app.post('/fhir/ActivityDefinition/$apply', async (request, reply) => {
    await applyAuth(request);
    const params = parseApplyParameters(request.body, 'ActivityDefinition');
    const activity = resolveDefinition<ActivityDefinition>(knowledge, 'ActivityDefinition', params);
    return send(reply, await applyActivity(activity, params, deps));
  });

  app.get<{ Params: { type: string }; Querystring: Record<string, string | string[]> }>('/fhir/:type', async (request, reply) => {
    requireType(request.params.type);
    return send(reply, searchArtifacts(knowledge, request.params.type, request.query, fhirBase));
  });

  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (request, reply) => {
    const { type, id } = request.params;
    requireType(type);
    const found = knowledge.byId(type as Resource['resourceType'], id);
    if (!found) throw notFound(`${type}/${id} is not known`);
    return send(reply, found);
  });
}
