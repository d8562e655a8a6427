/**
 * `load --server <base> [--dry-run]`: loads profiles, terminology and knowledge artifacts as ONE
 * transaction of conditional updates keyed by url + version, or keyed entries when the server
 * refuses conditional ones (see src/fhir-server/load.ts).
 * The artifacts are linted first; lint errors stop the load (exit 1) unless --skip-lint.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { loadArtifacts } from '../../fhir-server/load.ts';
import { DEFAULT_ARTIFACT_DIRS } from '../../knowledge/load-artifacts.ts';
import { EXIT, exitCodeOf, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { ServerOptions, addServerOptions, clientFrom, parseOptions } from '../options.ts';
import { lintPaths, readArtifactPaths } from './lint.ts';

const LoadArgs = ServerOptions.extend({
  server: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  dryRun: z.boolean().default(false),
  skipLint: z.boolean().default(false),
  from: z.array(z.string().min(1)).optional(),
  transactionStyle: z.enum(['auto', 'conditional', 'keyed']).default('auto'),
});
export type LoadArgs = z.input<typeof LoadArgs>;

export async function runLoad(raw: LoadArgs, io: CliIo): Promise<ExitCode> {
  const args = parseOptions(LoadArgs, raw);
  const paths = args.from ?? DEFAULT_ARTIFACT_DIRS;
  const artifacts = readArtifactPaths(paths);
  if (!args.skipLint) {
    const lint = lintPaths(paths, paths);
    if (exitCodeOf(lint, 'findings') !== EXIT.ok) {
      writeJson(io, lint);
      io.stderr('load: the artifacts have lint errors; nothing was sent (fix them, or --skip-lint)\n');
      return EXIT.findings;
    }
  }
  const client = await clientFrom(args, io);
  io.stderr(`comparing ${artifacts.length} artifact(s) with ${client.baseUrl}\n`);
  const report = await loadArtifacts(client, artifacts, {
    dryRun: args.dryRun,
    style: args.transactionStyle,
    log: (m) => {
      io.stderr(`load: ${m}\n`);
    },
  });
  writeJson(io, report);
  const verb = args.dryRun ? 'would create' : 'created';
  io.stderr(`load: ${verb} ${report.created.length}, ${args.dryRun ? 'would update' : 'updated'} ${report.updated.length}, unchanged ${report.unchanged.length}\n`);
  return EXIT.ok;
}

export function registerLoad(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  const command = program
    .command('load')
    .description('load profiles, terminology and knowledge artifacts into a FHIR server as one idempotent transaction (conditional updates by url+version)')
    .option('--dry-run', 'compare with the server and report what would change; write nothing')
    .option('--skip-lint', 'load even if lint finds errors')
    .option('--from <paths...>', 'artifact folders/files (default: profiles/ and plandefinitions/)')
    .option(
      '--transaction-style <style>',
      'conditional: PUT Type?url=&version= per entry (idempotent); keyed: POST creates, PUT Type/id + If-Match updates (for servers that cap conditional entries per transaction, e.g. Medplum); auto: conditional, and keyed if the server refuses that transaction as a whole (400/422: nothing was written)',
      'auto',
    );
  addServerOptions(command).action((options: LoadArgs) => {
    done(runLoad(options, io));
  });
}
