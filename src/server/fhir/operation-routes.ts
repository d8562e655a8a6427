/**
 * The operations over the knowledge (no patient data, so no token, like the artifacts):
 * `PlanDefinition/$data-requirements` and `PlanDefinition/$package`, instance and type level, by
 * GET (url, version in the query) or POST (a Parameters body); and the OperationDefinitions the
 * CapabilityStatement names, read and search.
 */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bundle, OperationDefinition, Parameters, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { badRequest, notFound } from '../../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { parametersSchema } from './apply-parameters.ts';
import { formatParameter } from '../accept.ts';
import { fhirId } from './routes.ts';
import { dataRequirementsLibrary, packageBundle } from './knowledge-operations.ts';

export interface OperationRoutesOptions {
  knowledge: CompiledKnowledge;
  fhirBase: string;
  operations: OperationDefinition[];
  /** The date written on generated resources (the server's clinical clock, formatted). */
  now: () => string;
}

const FHIR_JSON = 'application/fhir+json';
const send = (reply: FastifyReply, resource: Resource) => reply.type(FHIR_JSON).send(resource);

const instance = z.object({ id: fhirId });
/** Type level: the plan is named by its canonical url (the instance level names it in the path). */
const byUrl = z.strictObject({ url: z.string().min(1), version: z.string().min(1).optional(), _format: formatParameter });
/** Instance level: the plan is the one in the path, so a Parameters body carries no parameter. */
const noParameters = z.looseObject({ resourceType: z.literal('Parameters'), parameter: z.array(z.never()).max(0).optional() });
const noQuery = z.strictObject({ _format: formatParameter });
const searchQuery = z.strictObject({ _id: z.string().optional(), url: z.string().optional(), _format: formatParameter });

/** url / version from a Parameters body (valueUri, valueCanonical, valueString...). */
function fromParameters(body: Parameters): { url?: string; version?: string } {
  const result: { url?: string; version?: string } = {};
  for (const p of body.parameter ?? []) {
    if (p.name !== 'url' && p.name !== 'version') throw badRequest(`unknown parameter '${p.name}' (url and version only)`);
    const value: unknown = Object.entries(p).find(([k]) => k.startsWith('value'))?.[1];
    if (typeof value !== 'string') throw badRequest(`parameter '${p.name}' must be a string, uri or canonical`);
    result[p.name] = value;
  }
  return result;
}

export const operationRoutes: FastifyPluginCallbackZod<OperationRoutesOptions> = (app, options, done) => {
  const { knowledge, fhirBase, operations } = options;

  const planById = (id: string): PlanDefinition => {
    const plan = knowledge.byId<PlanDefinition>('PlanDefinition', id);
    if (!plan) throw notFound(`PlanDefinition/${id} is not known`);
    return plan;
  };
  const planByUrl = ({ url, version }: { url?: string | undefined; version?: string | undefined }): PlanDefinition => {
    if (!url) throw badRequest("give the plan's canonical 'url' (and optionally 'version'), or call the operation on PlanDefinition/<id>");
    const canonical = version ? `${url}|${version}` : url;
    const plan = knowledge.resolve<PlanDefinition>(canonical, 'PlanDefinition');
    if (!plan) throw notFound(`PlanDefinition ${canonical} is not known`);
    return plan;
  };

  const answer: Record<string, (plan: PlanDefinition) => Resource> = {
    'data-requirements': (plan) => dataRequirementsLibrary(plan, knowledge, options.now()),
    package: (plan): Bundle => packageBundle(plan, knowledge, options.now(), fhirBase),
  };
  for (const [code, build] of Object.entries(answer)) {
    app.get(`/fhir/PlanDefinition/:id/$${code}`, { schema: { params: instance, querystring: noQuery } }, (request, reply) => send(reply, build(planById(request.params.id))));
    app.post(`/fhir/PlanDefinition/:id/$${code}`, { schema: { params: instance, querystring: noQuery, body: noParameters } }, (request, reply) =>
      send(reply, build(planById(request.params.id))),
    );
    app.get(`/fhir/PlanDefinition/$${code}`, { schema: { querystring: byUrl } }, (request, reply) => send(reply, build(planByUrl(request.query))));
    app.post(`/fhir/PlanDefinition/$${code}`, { schema: { querystring: noQuery, body: parametersSchema } }, (request, reply) =>
      send(reply, build(planByUrl(fromParameters(request.body as Parameters)))),
    );
  }

  app.get('/fhir/OperationDefinition/:id', { schema: { params: instance, querystring: noQuery } }, (request, reply) => {
    const found = operations.find((o) => o.id === request.params.id);
    if (!found) throw notFound(`OperationDefinition/${request.params.id} is not known`);
    return send(reply, found);
  });
  app.get('/fhir/OperationDefinition', { schema: { querystring: searchQuery } }, (request, reply) => {
    const { _id, url } = request.query;
    const matching = operations.filter((o) => (_id === undefined || _id.split(',').includes(o.id ?? '')) && (url === undefined || url.split(',').includes(o.url ?? '')));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: matching.length,
      entry: matching.map((resource) => ({ fullUrl: `${fhirBase}/OperationDefinition/${resource.id ?? ''}`, resource, search: { mode: 'match' } })),
    };
    return send(reply, bundle);
  });

  done();
};
