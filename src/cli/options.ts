/**
 * CLI arguments are a trust boundary: commander splits them, zod decides whether they make sense.
 * Shared option groups (--server and its credentials, --now, --knowledge) live here.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { OperationOutcomeError, issue, outcome, outcomeError } from '../errors/operation-outcome.ts';
import { SMART_ALGORITHMS, SmartBackendAuth, bearerFromEnv, readPrivateKey } from '../fhir-server/auth.ts';
import { FhirClient, type AccessTokenProvider } from '../fhir-server/client.ts';
import { isRealDateTimeWithOffset } from '../data/calendar.ts';
import { DEFAULT_ARTIFACT_DIRS } from '../knowledge/load-artifacts.ts';
import type { CliIo } from './io.ts';

/** Parses `raw` with `schema`; every problem becomes an `invalid` issue naming the option. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new OperationOutcomeError(
    outcome(
      ...parsed.error.issues.map((i) => {
        const name = i.path.length ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ` : '';
        return issue('error', 'invalid', `${name}${i.message}`);
      }),
    ),
  );
}

export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export const nowOption = z
  .string()
  .refine(isRealDateTimeWithOffset, 'must be an ISO 8601 date-time with a time zone offset on a real calendar day and time, e.g. 2026-11-23T09:00:00Z')
  .optional();

const intOption = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ServerOptions = z.object({
  server: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  bearerEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
  smartClientId: z.string().min(1).optional(),
  smartKey: z.string().min(1).optional(),
  smartAlg: z.enum(SMART_ALGORITHMS).default('RS384'),
  smartTokenUrl: z.url().optional(),
  smartScope: z.string().min(1).default('system/*.read system/*.write'),
  timeout: intOption(1, 600_000).default(30_000),
  retries: intOption(0, 20).default(4),
});
export type ServerOptions = z.infer<typeof ServerOptions>;

export function addServerOptions(command: Command): Command {
  return addCredentialOptions(command.option('--server <base>', 'FHIR server base URL, e.g. https://fhir.example.org/R4'));
}

/** The credentials and request policy of a FHIR server given by another option (`batch --in <base>`). */
export function addCredentialOptions(command: Command): Command {
  return command
    .option('--bearer-env <VAR>', 'send the bearer token held in environment variable VAR')
    .option('--smart-client-id <id>', 'SMART Backend Services client id (client_credentials + private_key_jwt)')
    .option('--smart-key <file>', "the client's private key: PKCS#8 PEM or JWK (JSON)")
    .option('--smart-alg <alg>', 'signing algorithm: RS384 or ES384', 'RS384')
    .option('--smart-token-url <url>', 'token endpoint (default: from {server}/.well-known/smart-configuration)')
    .option('--smart-scope <scope>', 'scopes to request', 'system/*.read system/*.write')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '30000')
    .option('--retries <n>', 'retries on 429/5xx/timeouts (with backoff, honouring Retry-After)', '4');
}

/** The client for --server; `auth` when the caller built the credentials already (to share them). */
export async function clientFrom(options: ServerOptions, io: CliIo, credentials?: AccessTokenProvider): Promise<FhirClient> {
  if (!options.server) throw outcomeError('required', '--server is required');
  const auth = credentials ?? (await accessTokenFrom({ ...options, server: options.server }, io));
  return new FhirClient({
    baseUrl: options.server,
    timeoutMs: options.timeout,
    maxRetries: options.retries,
    log: (m) => {
      io.stderr(`${m}\n`);
    },
    ...(auth ? { auth } : {}),
  });
}

/** The credentials the options name (none, a bearer token from the environment, or SMART backend services). */
export async function accessTokenFrom(options: ServerOptions & { server: string }, io: CliIo): Promise<AccessTokenProvider | undefined> {
  if (options.bearerEnv && (options.smartClientId || options.smartKey)) {
    throw outcomeError('invalid', 'use either --bearer-env or --smart-client-id/--smart-key, not both');
  }
  let auth;
  if (options.bearerEnv) auth = bearerFromEnv(options.bearerEnv, io.env);
  else if (options.smartClientId || options.smartKey) {
    if (!options.smartClientId || !options.smartKey) {
      throw outcomeError('required', 'SMART backend services needs both --smart-client-id and --smart-key');
    }
    const { key, alg, kid } = await readPrivateKey(options.smartKey, options.smartAlg);
    auth = new SmartBackendAuth({
      baseUrl: options.server,
      clientId: options.smartClientId,
      privateKey: key,
      alg,
      scope: options.smartScope,
      timeoutMs: options.timeout,
      ...(kid ? { kid } : {}),
      ...(options.smartTokenUrl ? { tokenUrl: options.smartTokenUrl } : {}),
    });
  }
  return auth;
}

export function addKnowledgeOption(command: Command): Command {
  return command.option(
    '--knowledge <paths...>',
    `artifact folders/files to use instead of the module's own (${DEFAULT_ARTIFACT_DIRS.map((d) => d.split('/').slice(-1)[0]).join(', ')})`,
  );
}

/** The clock for this run: --now, else the wall clock - printed so the run can be reproduced. */
export function resolveNow(now: string | undefined, io: CliIo): string {
  if (now) return now;
  const wall = io.clock().toISOString();
  io.stderr(`now = ${wall} (pass --now ${wall} to reproduce this output)\n`);
  return wall;
}
