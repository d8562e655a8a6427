/**
 * `infertility-protocols serve`: the CDS Hooks service and FHIR $apply endpoint as a process.
 * Settings come from a JSON config file (see docs/cds-hooks.md), flags override it, and the
 * result is validated by the server's own config schema before anything listens.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { outcomeError, toOperationOutcome } from '../../errors/operation-outcome.ts';
import type { ServerConfigInput } from '../../server/config.ts';
import { withEnvironment } from '../../server/config-env.ts';
import { closeOnSignals, startServer } from '../../server/start.ts';
import { EXIT, exitCodeOf, writeJson, type CliIo, type ExitCode } from '../io.ts';

interface ServeFlags {
  config?: string;
  port?: string;
  host?: string;
  baseUrl?: string;
  auth: boolean;
  corsOrigin?: string[];
  feedbackFile?: string;
  logLevel?: string;
  now?: string;
  redis?: string;
}

function readConfigFile(path: string): ServerConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw outcomeError('not-found', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as ServerConfigInput;
  } catch (err) {
    throw outcomeError('structure', `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Config file < environment (INFERTILITY_*, src/server/config-env.ts) < flags. */
export function serveConfigFrom(flags: ServeFlags, env: Record<string, string | undefined> = process.env): ServerConfigInput {
  const config: ServerConfigInput = withEnvironment(flags.config ? readConfigFile(flags.config) : ({} as ServerConfigInput), env);
  if (flags.port !== undefined) {
    const port = Number(flags.port);
    config.port = Number.isInteger(port) ? port : (flags.port as unknown as number);
  }
  if (flags.host) config.host = flags.host;
  if (flags.baseUrl) config.baseUrl = flags.baseUrl;
  if (!config.baseUrl) config.baseUrl = `http://${config.host ?? '127.0.0.1'}:${config.port ?? 8080}`;
  if (!flags.auth) config.auth = { ...(config.auth ?? {}), required: false };
  if (flags.corsOrigin?.length) config.corsOrigins = flags.corsOrigin;
  if (flags.feedbackFile) config.feedbackFile = flags.feedbackFile;
  if (flags.logLevel) config.logLevel = flags.logLevel as ServerConfigInput['logLevel'];
  // Checked with the rest of the config by the server's schema (an ISO date-time with offset).
  if (flags.now) config.now = flags.now;
  // Checked by the server's schema (a redis:// or rediss:// URL); the config's keyPrefix is kept.
  if (flags.redis) config.redis = { ...(config.redis ?? {}), url: flags.redis };
  return config;
}

export function registerServe(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  program
    .command('serve')
    .description('Start the CDS Hooks 2.0 service and the FHIR PlanDefinition/$apply endpoint')
    .option('-c, --config <file>', 'JSON config file (port, baseUrl, auth.trustedIssuers, corsOrigins, ...)')
    .option('-p, --port <port>', 'port to listen on (default 8080; 0 = any free port)')
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('--base-url <url>', 'externally visible base URL; JWT aud is checked against it')
    .option('--cors-origin <origin...>', 'browser origins allowed to call the service')
    .option('--feedback-file <file>', 'append CDS feedback to this NDJSON file')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--now <datetime>', 'fixed clinical time for the protocols, ISO 8601 with offset (demos, reproducible runs; default: the system clock)')
    .option('--redis <url>', 'share used JWT ids, issued cards and feedback with other instances in this Redis (redis://host:port)')
    .option('--no-auth', 'DEVELOPMENT ONLY: accept calls without a signed JWT')
    .action((flags: ServeFlags) => {
      done(serve(flags, io));
    });
}

/** Starts the server; resolves once it listens (the process then lives until SIGTERM/SIGINT). */
async function serve(flags: ServeFlags, io: CliIo): Promise<ExitCode> {
  if (!flags.auth) {
    io.stderr('\n*** WARNING: --no-auth: CDS Hooks calls are NOT authenticated. Development only; never with real patient data. ***\n\n');
  }
  try {
    const server = await startServer(serveConfigFrom(flags));
    io.stderr(`CDS Hooks discovery: ${server.config.baseUrl}/cds-services\nFHIR endpoint: ${server.config.baseUrl}/fhir\n`);
    if (server.config.now) io.stderr(`Clinical time fixed at ${server.config.now} (--now / config now)\n`);
    closeOnSignals(server);
    return EXIT.ok;
  } catch (err) {
    const result = toOperationOutcome(err);
    writeJson(io, result);
    return exitCodeOf(result, 'failure');
  }
}
