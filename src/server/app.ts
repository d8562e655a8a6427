/**
 * The HTTP application: validated config in, Fastify instance out (not listening). Wires the
 * knowledge base, the engine, JWT verification, CORS, body limit, access logs without patient
 * data, error mapping, /healthz, and the two route plugins - the CDS Hooks endpoints and the FHIR
 * endpoints - whose request schemas are zod schemas (fastify-type-provider-zod).
 * Tests drive it with `app.inject()`; `start.ts` makes it listen.
 */
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Patient, PlanDefinition } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { loadKnowledge, projectVersion } from '../knowledge/load-artifacts.ts';
import { FhirServerPolicy } from './allow-list.ts';
import { ClientJwtVerifier } from './auth/client-jwt.ts';
import { RedisReplayStore } from './auth/replay-cache.ts';
import { connectRedis } from '../queue/redis-connection.ts';
import { FeedbackStore } from './cds/feedback.ts';
import { IssuedCards, RedisIssuedCards, inProcessCards, type IssuedCardStore } from './cds/issued-cards.ts';
import { cdsRoutes, type Authenticate } from './cds/routes.ts';
import { buildServiceCatalog } from './cds/service-catalog.ts';
import { formatNow } from './clock.ts';
import { serverConfigSchema, type ServerConfig, type ServerConfigInput } from './config.ts';
import type { ProtocolEngine } from './engine-port.ts';
import { capabilityStatement } from './fhir/capability-statement.ts';
import { InlineApplyRunner } from './fhir/inline-runner.ts';
import { fhirRoutes } from './fhir/routes.ts';
import { webRoutes } from './web/plugin.ts';
import { answerConnectionError, answerFrameworkError, installErrorHandling } from './http-errors.ts';
import { installJsonParsers } from './json-limits.ts';
import { requireJsonRepresentation } from './accept.ts';
import { ServerMetrics } from './metrics.ts';
import { registerOpenApi, registerProbes } from './observability.ts';
import { operationDefinitions } from './fhir/operation-definitions.ts';
import { operationRoutes } from './fhir/operation-routes.ts';
import { badRequest } from '../errors/operation-outcome.ts';
import { projectEngine } from './project-engine.ts';
import { fastPathOption } from '../fhirpath/fast-path/switch.ts';

export const SOFTWARE = {
  name: 'infertility-protocols',
  get version(): string {
    return projectVersion();
  },
};

export interface CdsServer {
  app: FastifyInstance;
  config: ServerConfig;
  feedback: FeedbackStore;
  issued: IssuedCardStore;
}

interface LogFields {
  hook?: string;
  serviceId?: string;
}

export function parseServerConfig(input: ServerConfigInput): ServerConfig {
  const parsed = serverConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw badRequest(`invalid server configuration: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * Applies each plan once to an empty record before the first clinical call. The expressions were
 * compiled with the knowledge; this warms V8's JIT over the engine's own code paths, which would
 * otherwise make the first real call several times slower than the rest.
 */
function warmUp(plans: PlanDefinition[], engine: ProtocolEngine, knowledge: CompiledKnowledge, now: string): void {
  const subject: Patient = { resourceType: 'Patient', id: 'warm-up' };
  for (const plan of new Set(plans)) {
    try {
      engine.apply(plan, { subject, data: engine.buildPatientData([subject]) }, { now }, knowledge);
    } catch {
      // A plan that cannot be applied to an empty record still fails visibly on a real call.
    }
  }
}

export function buildServer(input: ServerConfigInput): CdsServer {
  const config = parseServerConfig(input);
  // Clinical time: an injected clock, else a fixed `now` (serve --now), else the system clock.
  const fixedNow = config.now === undefined ? undefined : new Date(config.now);
  const clock = config.clock ?? (fixedNow ? () => new Date(fixedNow.getTime()) : () => new Date());
  const knowledge = config.knowledge ?? loadKnowledge(config.artifactPaths, fastPathOption(process.env['FHIRPATH_FAST_PATH']));
  const engine: ProtocolEngine = config.engine ?? projectEngine;
  // Several instances share used jtis, issued cards and feedback through Redis (in process otherwise).
  const shared = config.redis ? { redis: connectRedis(config.redis.url, 'requests'), prefix: config.redis.keyPrefix } : undefined;
  const feedback = new FeedbackStore(config.feedbackFile, undefined, shared ? { redis: shared.redis, key: `${shared.prefix}feedback`, maxLength: 100_000 } : undefined);
  const cardRetention = { retentionMs: config.feedbackRetentionSeconds * 1000, now: () => clock().getTime() };
  const issued: IssuedCardStore = shared
    ? new RedisIssuedCards(shared.redis, shared.prefix, cardRetention)
    : inProcessCards(new IssuedCards({ ...cardRetention, maxCards: config.feedbackMaxCards }));

  const app = Fastify({
    bodyLimit: config.bodyLimit,
    // Slow clients: a whole request within requestTimeoutMs, its headers within headersTimeoutMs
    // (checked every connectionsCheckingInterval), an idle socket closed after connectionTimeoutMs.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    // Those cut off (408), and any request Node's parser refuses, get an OperationOutcome too.
    clientErrorHandler: answerConnectionError,
    // ...and so does a path the router refuses (an over-long or badly encoded segment).
    frameworkErrors: answerFrameworkError,
    // Request logging is ours (onResponse below): Fastify's default logs URLs and headers.
    logController: new LogController({ disableRequestLogging: true }),
    logger: {
      level: config.logLevel,
      ...(config.logStream ? { stream: config.logStream } : {}),
      serializers: { req: () => ({}), res: () => ({}) },
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  // JSON only: text/plain (a Fastify default) would reach the handlers as a string.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installJsonParsers(app, config.maxJsonDepth);
  installErrorHandling(app);
  // The JSON APIs answer JSON only: another Accept / _format is 406 (the web pages are HTML).
  app.addHook('onRequest', (request) => (/^\/(fhir|cds-services)(\/|$|\?)/.test(request.url) ? requireJsonRepresentation(request) : Promise.resolve()));
  const metrics = new ServerMetrics();
  registerOpenApi(app, { title: SOFTWARE.name, version: SOFTWARE.version }, config.baseUrl, {
    authRequired: config.auth.required,
    protectDiscovery: config.auth.protectDiscovery,
  });

  const logFields = new WeakMap<FastifyRequest, LogFields>();
  const tagRequest = (request: FastifyRequest, fields: LogFields) => logFields.set(request, { ...logFields.get(request), ...fields });
  app.addHook('onResponse', async (request, reply) => {
    // Route pattern, status, latency, hook and service only: no bodies, ids or query strings.
    request.log.info(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime * 100) / 100,
        ...logFields.get(request),
      },
      'request',
    );
  });

  if (config.corsOrigins.length > 0) {
    void app.register(cors, {
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept'],
      exposedHeaders: ['Server-Timing'],
      maxAge: 600,
    });
  }

  let authenticate: Authenticate;
  if (config.auth.required) {
    const verifier = new ClientJwtVerifier({
      trustedIssuers: config.auth.trustedIssuers,
      clockToleranceSeconds: config.auth.clockToleranceSeconds,
      maxTokenAgeSeconds: config.auth.maxTokenAgeSeconds,
      // Token lifetimes are real time: the injected clock is clinical time (replays, tests).
      clock: () => new Date(),
      ...(shared ? { replayStore: new RedisReplayStore(shared.redis, shared.prefix, () => new Date()) } : {}),
    });
    authenticate = (request, audiences, singleUse) => verifier.verify({ authorization: request.headers.authorization, audiences, singleUse });
  } else {
    app.log.warn('AUTHENTICATION IS DISABLED: any caller can invoke the CDS services and $apply. Never run like this with real patient data.');
    authenticate = () => Promise.resolve(undefined);
  }

  const fhirServers = new FhirServerPolicy({
    authRequired: config.auth.required,
    global: config.allowedFhirServers,
    byIssuer: new Map(config.auth.required ? config.auth.trustedIssuers.map((i) => [i.iss, i.fhirServers]) : []),
  });
  if (fhirServers.prefetchOnly) {
    app.log.warn(
      'no FHIR server is allowed (auth.trustedIssuers[].fhirServers and allowedFhirServers are empty): the service runs prefetch-only; a fhirServer or dataEndpoint is refused',
    );
  }
  const gather = {
    timeoutMs: config.fhirRequestTimeoutMs,
    maxPages: config.fhirMaxPages,
    maxResponseBytes: config.fhirMaxResponseBytes,
    fhirServers,
  };
  const services = buildServiceCatalog(knowledge, engine, config.planIds);
  warmUp(
    services.map((s) => s.plan),
    engine,
    knowledge,
    formatNow(clock(), config.utcOffset),
  );
  void app.register(cdsRoutes, {
    services,
    deps: { engine, knowledge, clock, utcOffset: config.utcOffset, baseUrl: config.baseUrl, gather },
    feedback,
    issued,
    authenticate,
    protectDiscovery: config.auth.protectDiscovery,
    tagRequest,
    observe: {
      apply: (seconds) => {
        metrics.observeApply('cds-hook', seconds);
      },
      cards: (id, cards) => {
        metrics.countCards(id, cards);
      },
    },
  });

  const inlineRunner = new InlineApplyRunner({ artifacts: knowledge.all(), budgetMs: config.inlineTimeBudgetMs });
  app.addHook('onClose', () => inlineRunner.close());
  app.addHook('onClose', () => {
    shared?.redis.disconnect();
  });
  const fhirBase = `${config.baseUrl}/fhir`;
  const operations = operationDefinitions(fhirBase, SOFTWARE.version, formatNow(clock(), config.utcOffset));
  const types = [...new Set(knowledge.all().map((r) => r.resourceType))];
  void app.register(fhirRoutes, {
    knowledge,
    fhirBase,
    types,
    capability: capabilityStatement(types, fhirBase, SOFTWARE, formatNow(clock(), config.utcOffset), operations),
    observeApply: (type, seconds) => {
      metrics.observeApply(`${type}/$apply`, seconds);
    },
    deps: {
      engine,
      knowledge,
      clock,
      utcOffset: config.utcOffset,
      fetch: gather,
      inline: { limits: { maxExpressionNodes: config.inlineMaxExpressionNodes, maxActions: config.inlineMaxActions }, runner: inlineRunner },
    },
    authenticate,
  });

  void app.register(operationRoutes, { knowledge, fhirBase, operations, now: () => formatNow(clock(), config.utcOffset) });

  void app.register(webRoutes, { knowledge });
  registerProbes(app, metrics, { services: services.length, artifacts: knowledge.all().length });
  return { app, config, feedback, issued };
}
