/**
 * The server's configuration: one zod schema is both the type and the runtime check, so a config
 * file, CLI flags and test code all go through the same validation before a socket is opened.
 */
import { z } from 'zod';
import { isRealDateTimeWithOffset } from '../data/calendar.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import type { ProtocolEngine } from './engine-port.ts';
import { allowedEntryProblem } from './allow-list.ts';

/** A FHIR server base this service may call (see allow-list.ts for how it is compared). */
const allowedServer = z.url({ protocol: /^https?$/ }).superRefine((entry, ctx) => {
  const problem = allowedEntryProblem(entry);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A JWK as published in a JWK Set; only public key material is accepted (see refine below). */
const jwkSchema = z
  .object({ kty: z.string(), kid: z.string().optional(), alg: z.string().optional() })
  .catchall(z.unknown())
  .refine((jwk) => !('d' in jwk) && !('k' in jwk), 'trusted keys must be public keys (no "d" or "k" member)');

export const trustedIssuerSchema = z
  .object({
    /** The `iss` claim this client puts in its JWTs. */
    iss: z.string().min(1),
    /** Where the client publishes its JWK Set. A `jku` header must equal it, when present. */
    jwksUrl: z.url().optional(),
    /** Or keys exchanged out of band (the spec's alternative to `jku`). */
    jwks: z.object({ keys: z.array(jwkSchema).min(1) }).optional(),
    /** FHIR servers (`fhirServer`, `dataEndpoint`) this client may have the service call, with its token. */
    fhirServers: z.array(allowedServer).default([]),
  })
  .refine((i) => Boolean(i.jwksUrl) !== Boolean(i.jwks), 'give exactly one of jwksUrl or jwks');

export type TrustedIssuer = z.infer<typeof trustedIssuerSchema>;

const utcOffset = z.string().regex(/^(Z|[+-](0\d|1[0-4]):[0-5]\d)$/, 'an offset such as Z, +08:00 or -05:00');

export const serverConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /**
     * The externally visible base URL (scheme, host, port, optional path prefix) without a
     * trailing slash. JWT `aud` is checked against `<baseUrl>/cds-services/<id>`.
     */
    baseUrl: z.url().transform((u) => u.replace(/\/+$/, '')),
    auth: z
      .object({
        /** Verify the CDS client's JWT on every hook and feedback call. */
        required: z.boolean().default(true),
        trustedIssuers: z.array(trustedIssuerSchema).default([]),
        /** Accepted clock skew on exp / iat, seconds. */
        clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
        /** Oldest `iat` accepted, seconds: bounds how long a jti must be remembered. */
        maxTokenAgeSeconds: z.number().int().min(10).max(3600).default(300),
        /** Also require a token on GET /cds-services (discovery carries no patient data). */
        protectDiscovery: z.boolean().default(false),
      })
      .prefault({}),
    /** Browser origins allowed by CORS (exact origins, or '*'). Empty: no CORS headers at all. */
    corsOrigins: z.array(z.string()).default([]),
    /** Largest accepted request body, bytes (CDS requests carry prefetch, so a few MB). */
    bodyLimit: z
      .number()
      .int()
      .min(1024)
      .default(5 * 1024 * 1024),
    /** Per-request timeout for calls to the CDS client's FHIR server, ms. */
    fhirRequestTimeoutMs: z.number().int().min(1).max(60_000).default(3000),
    /** Most pages followed for one search on the client's FHIR server. */
    fhirMaxPages: z.number().int().min(1).max(100).default(10),
    /** Largest answer read from the client's FHIR server, bytes (more: the data cannot be had, 412). */
    fhirMaxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024),
    /**
     * FHIR servers every caller may have the service call (besides its issuer's `fhirServers`).
     * With auth on and no server configured anywhere, no server is called (prefetch only).
     */
    allowedFhirServers: z.array(allowedServer).default([]),
    /** Most time to receive a whole request (headers and body), ms; 0 disables (not advised). */
    requestTimeoutMs: z.number().int().min(0).max(600_000).default(30_000),
    /** Most time to receive the request headers, ms (a client trickling header bytes is cut off). */
    headersTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** An idle connection is closed after this long, ms. */
    connectionTimeoutMs: z.number().int().min(100).max(600_000).default(60_000),
    /** Keep-alive: how long an idle kept-alive connection waits for the next request, ms. */
    keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
    /** Deepest JSON nesting accepted in a request body (objects and arrays). */
    maxJsonDepth: z.number().int().min(8).max(1_000).default(100),
    /** Inline definitions posted to $apply: most expression nodes (FHIRPath AST nodes, summed). */
    inlineMaxExpressionNodes: z.number().int().min(1).max(1_000_000).default(5_000),
    /** Inline definitions posted to $apply: most actions (nested ones counted). */
    inlineMaxActions: z.number().int().min(1).max(100_000).default(500),
    /** Inline definitions posted to $apply: most time the engine may take, ms. */
    inlineTimeBudgetMs: z.number().int().min(10).max(60_000).default(2_000),
    /** Offset used to write `now` (it decides which calendar day "today" is for the protocols). */
    utcOffset: utcOffset.default('Z'),
    /** Append-only NDJSON file for CDS feedback (in memory only when absent). */
    feedbackFile: z.string().optional(),
    /** How long an issued card can still receive feedback, seconds (server clock). */
    feedbackRetentionSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(86_400),
    /** Most issued cards remembered for feedback (oldest forgotten first): bounds the memory. */
    feedbackMaxCards: z.number().int().min(100).max(1_000_000).default(50_000),
    /**
     * Shared state for several instances behind a load balancer: used JWT ids, issued cards and
     * feedback live in this Redis (in process when absent). `keyPrefix` separates deployments.
     */
    redis: z
      .object({
        url: z.url({ protocol: /^rediss?$/ }),
        keyPrefix: z.string().min(1).default('ip:cds:'),
      })
      .optional(),
    /** Directories or files with the knowledge artifacts (default: profiles/ and plandefinitions/). */
    artifactPaths: z.array(z.string()).optional(),
    /** Only these PlanDefinition ids become CDS services (default: every PlanDefinition). */
    planIds: z.array(z.string()).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Clinical time for the protocols (tests, replays); the system clock when absent. JWTs are always checked against the system clock. */
    clock: z.custom<() => Date>((v) => typeof v === 'function').optional(),
    /** A fixed clinical time (`serve --now`, config `now`) for demos and reproducible runs: ISO date-time with offset; "today" is its day in utcOffset. `clock` wins when both are given. */
    now: z.string().refine(isRealDateTimeWithOffset, 'must be an ISO 8601 date-time with a time zone offset, e.g. 2026-11-23T09:00:00Z').optional(),
    /** A loaded knowledge base (tests, embedding); loaded from artifactPaths when absent. */
    knowledge: z.custom<CompiledKnowledge>((v) => typeof v === 'object' && v !== null && 'resolve' in v).optional(),
    /** The $apply engine; the project's engine when absent. */
    engine: z.custom<ProtocolEngine>((v) => typeof v === 'object' && v !== null && 'apply' in v).optional(),
    /** Where JSON log lines go (tests capture them); stdout when absent. */
    logStream: z.custom<{ write(line: string): unknown }>((v) => typeof v === 'object' && v !== null && 'write' in v).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.requestTimeoutMs > 0 && c.headersTimeoutMs > c.requestTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['headersTimeoutMs'], message: 'headersTimeoutMs must not exceed requestTimeoutMs' });
    }
    if (c.auth.required && c.auth.trustedIssuers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'trustedIssuers'],
        message: 'auth is required but no trusted issuer is configured (add one, or set auth.required=false for development)',
      });
    }
  });

export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export type ServerConfig = z.output<typeof serverConfigSchema>;
