/**
 * FHIR REST endpoints under /fhir as a Fastify plugin, with their request schemas at the route
 * (zod type provider): metadata, read and search of the knowledge artifacts, and $apply on
 * PlanDefinition and ActivityDefinition (type and instance level). $apply takes patient data, so
 * it is authenticated like the CDS calls (aud = <base>/fhir or the operation's URL), on request,
 * before its body is read; artifacts are public. Errors are OperationOutcomeErrors; their status
 * comes from the one mapping.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ActivityDefinition, CapabilityStatement, Parameters, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { notFound } from '../../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import type { Authenticate } from '../cds/routes.ts';
import { parametersSchema, parseApplyParameters } from './apply-parameters.ts';
import { formatParameter } from '../accept.ts';
import { searchArtifacts } from './artifact-search.ts';
import { applyActivity, applyPlan, resolveDefinition, type RunApplyDeps } from './run-apply.ts';

export interface FhirRoutesOptions {
  knowledge: CompiledKnowledge;
  fhirBase: string;
  capability: CapabilityStatement;
  types: string[];
  deps: RunApplyDeps;
  authenticate: Authenticate;
  /** Called with the duration of every $apply, seconds (metrics). */
  observeApply?: (type: 'PlanDefinition' | 'ActivityDefinition', seconds: number) => void;
}

const FHIR_JSON = 'application/fhir+json';

function send(reply: FastifyReply, resource: Resource): FastifyReply {
  return reply.type(FHIR_JSON).send(resource);
}

/** A FHIR id (R4 datatypes: id). */
export const fhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/);
const instance = z.object({ id: fhirId });
/** What the operation reads of a GET query, so the schema says what the parser accepts. */
const reference = z.string().regex(/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/);
const applyQueryFields = {
  subject: reference,
  now: z.iso.datetime({ offset: true, local: false }).optional(),
  mode: z.enum(['r4', 'cpg']).optional(),
  encounter: z.string().min(1).optional(),
  practitioner: z.string().min(1).optional(),
  organization: z.string().min(1).optional(),
  _format: formatParameter,
};
/**
 * GET $apply: the operation's primitive parameters (`_format` is checked by the Accept hook).
 * At instance level the definition comes from the URL, so no parameter names one; `trace` is
 * PlanDefinition's only.
 */
function applyQuery(type: 'PlanDefinition' | 'ActivityDefinition', level: 'type' | 'instance') {
  const trace = type === 'PlanDefinition' ? { trace: z.enum(['true', 'false']).optional() } : {};
  if (level === 'instance') return z.strictObject({ ...applyQueryFields, ...trace });
  return z.strictObject({
    ...applyQueryFields,
    ...trace,
    planDefinition: z.string().min(1).optional(),
    activityDefinition: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
  });
}
const formatOnly = z.strictObject({ _format: formatParameter });

/** The query of a GET $apply as the Parameters a POST would carry. */
function queryParameters(query: Record<string, string | undefined>): Parameters {
  const parameter = Object.entries(query).flatMap(([name, value]) => (value === undefined || name === '_format' ? [] : [{ name, valueString: value }]));
  return { resourceType: 'Parameters', parameter };
}

/** Search parameters: repeated ones arrive as arrays (ANDed). */
const searchValue = z.union([z.string(), z.array(z.string())]).optional();
/** The supported ones declared (the OpenAPI document lists them); others reach searchArtifacts, which names them in its refusal. */
const searchQuery = z.looseObject({
  url: searchValue,
  version: searchValue,
  _id: searchValue,
  name: searchValue,
  status: searchValue,
  _format: formatParameter,
  _pretty: z.string().optional(),
});

export const fhirRoutes: FastifyPluginCallbackZod<FhirRoutesOptions> = (app, options, done) => {
  const { knowledge, fhirBase, deps, authenticate } = options;
  const known = new Set(options.types);
  const requireType = (type: string) => {
    if (!known.has(type)) throw notFound(`resource type '${type}' is not served here (see /fhir/metadata)`);
  };
  // The served types are named in the schema (the OpenAPI document lists them); an unknown one is
  // still 404, found before validation.
  const typeParams = z.object({ type: z.enum(options.types) });
  const readParams = z.object({ type: z.enum(options.types), id: fhirId });
  const typeFirst = {
    preValidation: (request: FastifyRequest, _reply: FastifyReply, next: HookHandlerDoneFunction) => {
      try {
        requireType((request.params as { type: string }).type);
        next();
      } catch (err) {
        next(err as Error);
      }
    },
  };
  /** The issuer each $apply call was authenticated as (its dataEndpoint must be allowed for it). */
  const issuers = new WeakMap<FastifyRequest, string>();
  const applyAuth = async (request: FastifyRequest) => {
    const client = await authenticate(request, [fhirBase, `${fhirBase}${request.url.split('?')[0]?.replace(/^\/fhir/, '') ?? ''}`], false);
    if (client) issuers.set(request, client.iss);
  };

  app.get('/fhir/metadata', (_request, reply) => send(reply, options.capability));

  /** One $apply: the Parameters (body, or built from the query for GET), the definition, the engine. */
  const apply = async (type: 'PlanDefinition' | 'ActivityDefinition', body: unknown, request: FastifyRequest, id?: string): Promise<Resource> => {
    const params = parseApplyParameters(body, type);
    const started = performance.now();
    try {
      if (type === 'PlanDefinition') {
        const resolved = resolveDefinition<PlanDefinition>(knowledge, type, params, id, deps.inline.limits);
        return await applyPlan(resolved, params, deps, issuers.get(request));
      }
      const resolved = resolveDefinition<ActivityDefinition>(knowledge, type, params, id, deps.inline.limits);
      return await applyActivity(resolved, params, deps, issuers.get(request));
    } finally {
      options.observeApply?.(type, (performance.now() - started) / 1000);
    }
  };

  for (const type of ['PlanDefinition', 'ActivityDefinition'] as const) {
    app.post(`/fhir/${type}/:id/$apply`, {
      schema: { params: instance, querystring: formatOnly, body: parametersSchema },
      onRequest: applyAuth,
      handler: async (request, reply) => send(reply, await apply(type, request.body, request, request.params.id)),
    });
    app.post(`/fhir/${type}/$apply`, {
      schema: { querystring: formatOnly, body: parametersSchema },
      onRequest: applyAuth,
      handler: async (request, reply) => send(reply, await apply(type, request.body, request)),
    });
    // GET with the primitive parameters in the query (FHIR operations: allowed when none is a resource).
    app.get(`/fhir/${type}/:id/$apply`, {
      schema: { params: instance, querystring: applyQuery(type, 'instance') },
      onRequest: applyAuth,
      handler: async (request, reply) => send(reply, await apply(type, queryParameters(request.query as Record<string, string | undefined>), request, request.params.id)),
    });
    app.get(`/fhir/${type}/$apply`, {
      schema: { querystring: applyQuery(type, 'type') },
      onRequest: applyAuth,
      handler: async (request, reply) => send(reply, await apply(type, queryParameters(request.query as Record<string, string | undefined>), request)),
    });
  }

  app.get('/fhir/:type', { schema: { params: typeParams, querystring: searchQuery }, ...typeFirst }, (request, reply) => {
    requireType(request.params.type);
    return send(reply, searchArtifacts(knowledge, request.params.type, request.query as Record<string, string | string[] | undefined>, fhirBase));
  });

  app.get('/fhir/:type/:id', { schema: { params: readParams }, ...typeFirst }, (request, reply) => {
    const { type, id } = request.params;
    requireType(type);
    const found = knowledge.byId(type as Resource['resourceType'], id);
    if (!found) throw notFound(`${type}/${id} is not known`);
    return send(reply, found);
  });

  done();
};
