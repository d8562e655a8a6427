/**
 * Every server config field from the environment (containers, 12-factor deployments): one
 * variable per field, `INFERTILITY_` + the field's path in SCREAMING_SNAKE_CASE (`auth.required`
 * -> `INFERTILITY_AUTH_REQUIRED`). Values are read as text and converted by the field's kind
 * (integer, boolean, list, JSON); the result goes through the same zod schema as a config file, so
 * a bad value is refused naming its variable. Layering in `serve`: config file < environment <
 * flags. The fields that only code can give (clock, knowledge, engine, logStream) have none.
 */
import { badRequest } from '../errors/operation-outcome.ts';
import type { ServerConfigInput } from './config.ts';

type Kind = 'string' | 'integer' | 'boolean' | 'list' | 'json';

/** Config path (dotted) -> how its text is read. */
export const ENVIRONMENT_FIELDS: Readonly<Record<string, Kind>> = {
  host: 'string',
  port: 'integer',
  baseUrl: 'string',
  'auth.required': 'boolean',
  'auth.trustedIssuers': 'json',
  'auth.clockToleranceSeconds': 'integer',
  'auth.maxTokenAgeSeconds': 'integer',
  'auth.protectDiscovery': 'boolean',
  corsOrigins: 'list',
  bodyLimit: 'integer',
  fhirRequestTimeoutMs: 'integer',
  fhirMaxPages: 'integer',
  fhirMaxResponseBytes: 'integer',
  allowedFhirServers: 'list',
  requestTimeoutMs: 'integer',
  headersTimeoutMs: 'integer',
  connectionTimeoutMs: 'integer',
  keepAliveTimeoutMs: 'integer',
  maxJsonDepth: 'integer',
  inlineMaxExpressionNodes: 'integer',
  inlineMaxActions: 'integer',
  inlineTimeBudgetMs: 'integer',
  utcOffset: 'string',
  feedbackFile: 'string',
  feedbackRetentionSeconds: 'integer',
  feedbackMaxCards: 'integer',
  'redis.url': 'string',
  'redis.keyPrefix': 'string',
  artifactPaths: 'list',
  planIds: 'list',
  logLevel: 'string',
  now: 'string',
};

export const ENVIRONMENT_PREFIX = 'INFERTILITY_';

/** `auth.trustedIssuers` -> `INFERTILITY_AUTH_TRUSTED_ISSUERS`. */
export function environmentName(path: string): string {
  return (
    ENVIRONMENT_PREFIX +
    path
      .split('.')
      .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

function convert(name: string, kind: Kind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'integer': {
      if (!/^-?\d+$/.test(text.trim())) throw badRequest(`environment variable ${name}: '${text}' is not an integer`);
      return Number(text.trim());
    }
    case 'boolean': {
      const value = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no'].includes(value)) return false;
      throw badRequest(`environment variable ${name}: '${text}' is not a boolean (true/false)`);
    }
    case 'list':
      // A JSON array, or values separated by commas.
      if (text.trim().startsWith('[')) return convert(name, 'json', text);
      return text
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw badRequest(`environment variable ${name}: not valid JSON`);
      }
  }
}

/** The config fields set in `env` (others absent, so a file or the defaults give them). */
export function configFromEnvironment(env: Record<string, string | undefined>): Partial<ServerConfigInput> {
  const config: Record<string, unknown> = {};
  for (const [path, kind] of Object.entries(ENVIRONMENT_FIELDS)) {
    const name = environmentName(path);
    const text = env[name];
    if (text === undefined || text === '') continue;
    const parts = path.split('.');
    let target = config;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    target[parts.at(-1) as string] = convert(name, kind, text);
  }
  return config;
}

/** `base` with the environment's fields over it (nested objects merged one level deep). */
export function withEnvironment<T extends Partial<ServerConfigInput>>(base: T, env: Record<string, string | undefined>): T {
  const fromEnv = configFromEnvironment(env) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(fromEnv)) {
    const current = merged[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current) ? { ...current, ...value } : value;
  }
  return merged as T;
}
