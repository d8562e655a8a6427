/**
 * CDS Hooks 2.0 endpoints as a Fastify plugin: discovery, service calls and feedback, with their
 * request schemas at the route (zod type provider). Order of the checks on every call:
 * 1. onRequest: the JWT (aud = the endpoint URL) - before the body is even read;
 * 2. preValidation: the service exists (404 otherwise);
 * 3. validation: the body against the route's schema (400, naming the field);
 * 4. the handler.
 * Errors are thrown as OperationOutcomeErrors; their status comes from the one mapping.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OperationOutcomeError, issue, notFound, outcome } from '../../errors/operation-outcome.ts';
import type { VerifiedClient } from '../auth/client-jwt.ts';
import { canonicalOf } from './card-parts.ts';
import { feedbackRequestSchema, matchFeedback, type FeedbackStore } from './feedback.ts';
import type { IssuedCardStore } from './issued-cards.ts';
import { handleHook, type HookDeps } from './handle-hook.ts';
import { hookRequestSchema } from './hook-request.ts';
import { discoveryEntry, type CdsService } from './service-catalog.ts';

export type Authenticate = (request: FastifyRequest, audiences: string[], singleUse: boolean) => Promise<VerifiedClient | undefined>;

export interface CdsRoutesOptions {
  services: CdsService[];
  deps: HookDeps;
  feedback: FeedbackStore;
  /** Cards issued, so feedback is matched to what was actually shown. */
  issued: IssuedCardStore;
  authenticate: Authenticate;
  protectDiscovery: boolean;
  /** Metrics: the apply inside each hook call (seconds), and the cards returned. */
  observe?: { apply(seconds: number): void; cards(serviceId: string, cards: readonly { indicator: string }[]): void };
  /** Lets the access log name the hook and service (never the body). */
  tagRequest: (request: FastifyRequest, fields: { hook?: string; serviceId?: string }) => void;
}

const serviceParams = z.object({ id: z.string().min(1) });

const ms = (n: number) => n.toFixed(2);

export const cdsRoutes: FastifyPluginCallbackZod<CdsRoutesOptions> = (app, options, done) => {
  const { services, deps, feedback, issued, authenticate, tagRequest } = options;
  const byId = new Map(services.map((s) => [s.id, s]));
  const base = `${deps.baseUrl}/cds-services`;
  const discovery = { services: services.map(discoveryEntry) };
  /** The client each call was authenticated as (undefined when auth is off). */
  const clients = new WeakMap<FastifyRequest, VerifiedClient | undefined>();

  const idOf = (request: FastifyRequest) => (request.params as { id?: string }).id ?? '';
  const serviceOf = (request: FastifyRequest): CdsService => {
    const service = byId.get(idOf(request));
    if (!service) throw notFound(`there is no CDS service '${idOf(request)}' (see GET /cds-services)`);
    return service;
  };
  /** JWT first, with the audiences of this endpoint; then whether the service exists. */
  const guard = (audiencesOf: (id: string) => string[]) => ({
    onRequest: async (request: FastifyRequest) => {
      const id = idOf(request);
      tagRequest(request, { serviceId: id });
      clients.set(request, await authenticate(request, audiencesOf(id), true));
    },
    preValidation: (request: FastifyRequest, _reply: FastifyReply, next: HookHandlerDoneFunction) => {
      try {
        const service = serviceOf(request);
        tagRequest(request, { serviceId: service.id, hook: service.hook });
        next();
      } catch (err) {
        next(err as Error);
      }
    },
  });

  app.get('/cds-services', {
    onRequest: async (request) => {
      if (options.protectDiscovery) await authenticate(request, [base], true);
    },
    handler: () => discovery,
  });

  app.post('/cds-services/:id', {
    schema: { params: serviceParams, body: hookRequestSchema },
    ...guard((id) => [`${base}/${id}`]),
    handler: async (request, reply) => {
      const service = serviceOf(request);
      const started = performance.now();
      const { response, timings } = await handleHook(service, request.body, deps, clients.get(request)?.iss);
      options.observe?.apply(timings.applyMs / 1000);
      options.observe?.cards(service.id, response.cards);
      await issued.record(service.id, service.hook, canonicalOf(service.plan), response.cards, clients.get(request)?.iss);
      reply.header(
        'server-timing',
        `data;dur=${ms(timings.dataMs)}, apply;dur=${ms(timings.applyMs)}, cards;dur=${ms(timings.cardsMs)}, total;dur=${ms(performance.now() - started)}`,
      );
      return response;
    },
  });

  app.post('/cds-services/:id/feedback', {
    schema: { params: serviceParams, body: feedbackRequestSchema },
    // Clients differ on the audience of feedback calls: the feedback URL itself or its service.
    ...guard((id) => [`${base}/${id}/feedback`, `${base}/${id}`]),
    handler: async (request) => {
      const { id } = request.params;
      const client = clients.get(request);
      const matched = await matchFeedback(request.body.feedback, {
        serviceId: id,
        receivedAt: deps.clock().toISOString(),
        issued,
        ...(client ? { client: client.iss } : {}),
      });
      if (!matched.ok) {
        // Each issue points into the body (expression), so the mapping answers 400, not 404: the
        // endpoint exists, the body names a card or suggestion it does not know (CDS Hooks defines
        // no feedback status codes, and a 404 could read as "no feedback endpoint here").
        throw new OperationOutcomeError(outcome(...matched.problems.map((p) => issue('error', 'not-found', p.message, [p.path]))));
      }
      await feedback.add(matched.records);
      const n = matched.records.length;
      return outcome(issue('information', 'informational', `recorded ${n} feedback item${n > 1 ? 's' : ''}`));
    },
  });

  done();
};
