/** `lint [paths...]`: static checks of the knowledge artifacts (see src/lint/). */
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { z } from 'zod';
import { outcomeError } from '../../errors/operation-outcome.ts';
import { compileKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { DEFAULT_ARTIFACT_DIRS, readArtifacts, type LoadedArtifact } from '../../knowledge/load-artifacts.ts';
import { lintArtifacts } from '../../lint/index.ts';
import { exitCodeOf, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { parseOptions } from '../options.ts';
import { fastPathOption } from '../../fhirpath/fast-path/switch.ts';
import { fastPathReport } from '../../lint/fast-path-routes.ts';

const LintArgs = z.object({
  paths: z.array(z.string().min(1)),
  knowledge: z.array(z.string().min(1)).optional(),
});

/** Reads the artifacts under `paths` (files or folders); a path that holds none is an input error. */
export function readArtifactPaths(paths: string[]): LoadedArtifact[] {
  const found = readArtifacts(paths);
  if (found.length === 0) {
    throw outcomeError('not-found', `no FHIR JSON resources in ${paths.join(', ')}`);
  }
  return found.map((a) => ({ ...a, file: relative(process.cwd(), a.file) || a.file }));
}

export function lintPaths(paths: string[], knowledgePaths?: string[]): OperationOutcome {
  return lintWithRoutes(paths, knowledgePaths).outcome;
}

/** The lint outcome, and which artifact expressions run on fhirpath.js rather than the fast path. */
function lintWithRoutes(paths: string[], knowledgePaths?: string[]): { outcome: OperationOutcome; fastPath: string[] } {
  const artifacts = readArtifactPaths(paths.length ? paths : DEFAULT_ARTIFACT_DIRS);
  // Canonicals may point at artifacts outside the linted files: resolve against the whole knowledge.
  const context = readArtifacts(knowledgePaths ?? DEFAULT_ARTIFACT_DIRS);
  const knowledge = compileKnowledge(
    [...context, ...artifacts].map((a) => a.resource),
    fastPathOption(process.env['FHIRPATH_FAST_PATH']),
  );
  return { outcome: lintArtifacts(artifacts, knowledge), fastPath: fastPathReport(knowledge, artifacts) };
}

function lint(raw: { paths: string[]; knowledge?: string[] }, io: CliIo): ExitCode {
  const args = parseOptions(LintArgs, raw);
  const { outcome: result, fastPath } = lintWithRoutes(args.paths, args.knowledge);
  writeJson(io, result);
  io.stderr(`lint: ${fastPath.join('\nlint: ')}\n`);
  const errors = result.issue.filter((i) => i.severity === 'error').length;
  const warnings = result.issue.filter((i) => i.severity === 'warning').length;
  io.stderr(`lint: ${errors} error(s), ${warnings} warning(s)\n`);
  return exitCodeOf(result, 'findings');
}

/** The command's run (synchronous work; a throw becomes the promise's rejection). */
export function runLint(raw: { paths: string[]; knowledge?: string[] }, io: CliIo): Promise<ExitCode> {
  return new Promise((resolve) => {
    resolve(lint(raw, io));
  });
}

export function registerLint(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  program
    .command('lint')
    .description(
      'check PlanDefinitions, ActivityDefinitions, Libraries, ValueSets: FHIRPath parses and names real R4 elements, canonicals resolve, codes are ours, ids unique, relatedActions sound',
    )
    .argument('[paths...]', 'artifact files or folders (default: profiles/ and plandefinitions/)')
    .option('--knowledge <paths...>', 'artifacts that canonicals may resolve to (default: profiles/ and plandefinitions/)')
    .action((paths: string[], options: { knowledge?: string[] }) => {
      done(runLint({ paths, ...options }, io));
    });
}
