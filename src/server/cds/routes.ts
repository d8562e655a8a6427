/**
 * CDS Hooks 2.0 endpoints: discovery, service calls and feedback. Every service and feedback call
 * is authenticated (JWT, aud = the endpoint URL) before its body is looked at.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { issue, outcome } from '../../errors/operation-outcome.ts';
import type { VerifiedClient } from '../auth/client-jwt.ts';
import { HttpOutcomeError } from '../http-errors.ts';
import { canonicalOf } from './card-parts.ts';
import { feedbackRequestSchema, matchFeedback, type FeedbackStore } from './feedback.ts';
import type { IssuedCards } from './issued-cards.ts';
import { handleHook, type HookDeps } from './handle-hook.ts';
import { discoveryEntry, type CdsService } from './service-catalog.ts';

export type Authenticate = (request: FastifyRequest, audiences: string[], singleUse: boolean) => Promise<VerifiedClient | undefined>;

export interface CdsRoutesOptions {
  services: CdsService[];
  deps: HookDeps;
  feedback: FeedbackStore;
  /** Cards issued, so feedback is matched to what was actually shown. */
  issued: IssuedCards;
  authenticate: Authenticate;
  protectDiscovery: boolean;
  /** Lets the access log name the hook and service (never the body). */
  tagRequest: (request: FastifyRequest, fields: { hook?: string; serviceId?: string }) => void;
}

function unknownService(id: string): HttpOutcomeError {
  return new HttpOutcomeError(404, outcome(issue('error', 'not-found', `there is no CDS service '${id}' (see GET /cds-services)`)));
}

const ms = (n: number) => n.toFixed(2);

export function registerCdsRoutes(app: FastifyInstance, options: CdsRoutesOptions): void {
  const { services, deps, feedback, issued, authenticate, tagRequest } = options;
  const byId = new Map(services.map((s) => [s.id, s]));
  const base = `${deps.baseUrl}/cds-services`;
  const discovery = { services: services.map(discoveryEntry) };

  app.get('/cds-services', async (request) => {
    if (options.protectDiscovery) await authenticate(request, [base], true);
    return discovery;
  });

  app.post<{ Params: { id: string } }>('/cds-services/:id', async (request, reply) => {
    const { id } = request.params;
    tagRequest(request, { serviceId: id });
    const client = await authenticate(request, [`${base}/${id}`], true);
    const service = byId.get(id);
    if (!service) throw unknownService(id);
    tagRequest(request, { serviceId: id, hook: service.hook });
    const started = performance.now();
    const { response, timings } = await handleHook(service, request.body, deps);
    issued.record(service.id, service.hook, canonicalOf(service.plan), response.cards, client?.iss);
    reply.header(
      'server-timing',
      `data;dur=${ms(timings.dataMs)}, apply;dur=${ms(timings.applyMs)}, cards;dur=${ms(timings.cardsMs)}, total;dur=${ms(performance.now() - started)}`,
    );
    return response;
  });

  app.post<{ Params: { id: string } }>('/cds-services/:id/feedback', async (request) => {
    const { id } = request.params;
    tagRequest(request, { serviceId: id });
    // Clients differ on the audience of feedback calls: the feedback URL itself or its service.
    const client = await authenticate(request, [`${base}/${id}/feedback`, `${base}/${id}`], true);
    if (!byId.has(id)) throw unknownService(id);
    const parsed = feedbackRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      throw new HttpOutcomeError(400, outcome(...parsed.error.issues.map((i) => issue('error', 'invalid', `${['feedback', ...i.path.map(String)].join('.')}: ${i.message}`))));
    }
    const matched = matchFeedback(parsed.data.feedback, {
      serviceId: id,
      receivedAt: deps.clock().toISOString(),
      issued,
      ...(client ? { client: client.iss } : {}),
    });
    if (!matched.ok) {
      // 400, not 404: the endpoint exists; what the body names does not (CDS Hooks defines no
      // feedback status codes, and a 404 could read as "no feedback endpoint here").
      throw new HttpOutcomeError(400, outcome(...matched.problems.map((p) => issue('error', 'not-found', p.message, [p.path]))));
    }
    const records = matched.records;
    await feedback.add(records);
    return outcome(issue('information', 'informational', `recorded ${records.length} feedback item${records.length > 1 ? 's' : ''}`));
  });
}
