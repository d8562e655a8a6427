/**
 * `batch --in <dir> --out <dir> [--plan ...] [--workers n] [--now] [--mode]`: population apply over
 * a FHIR Bulk Data export (see src/batch/run-batch.ts). stdout: a JSON summary; stderr: a progress
 * bar on a terminal. Exit 1 when any line or patient failed (see OperationOutcome.ndjson).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { z } from 'zod';
import { badRequest } from '../../errors/operation-outcome.ts';
import { runBatch } from '../../batch/run-batch.ts';
import { DEFAULT_WINDOW, runQueuedBatch } from '../../queue/coordinator.ts';
import { parseRedisUrl } from '../../queue/redis-connection.ts';
import { readServerIntoFolder } from '../../queue/fhir-input.ts';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge } from '../../knowledge/load-artifacts.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { EXIT, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { ServerOptions, accessTokenFrom, addCredentialOptions, clientFrom, nowOption, parseOptions, resolveNow } from '../options.ts';
import { findPlan } from './apply.ts';

// The credentials of --in when it is a FHIR server (apply --server's own options, without --server).
const BatchArgs = ServerOptions.omit({ server: true }).extend({
  in: z.string().min(1),
  out: z.string().min(1),
  plan: z.array(z.string().min(1)).optional(),
  workers: z.coerce.number().int().min(1).max(1024).optional(),
  now: nowOption,
  mode: z.enum(['r4', 'cpg']).default('r4'),
  knowledge: z.array(z.string().min(1)).optional(),
  maxShardMb: z.coerce.number().positive().optional(),
  maxLineMb: z.coerce.number().positive().optional(),
  queue: z.string().min(1).optional(),
  resume: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be the run id a coordinator printed')
    .optional(),
  exportTimeout: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
  window: z.coerce.number().int().min(1).max(100_000).optional(),
  runLockMs: z.coerce.number().int().min(300).max(600_000).optional(),
});
export type BatchArgs = z.input<typeof BatchArgs>;

/** Plans named by --plan, else every plan no other plan includes as a definition. */
export function selectPlans(from: string[] | CompiledKnowledge, refs: string[] | undefined): PlanDefinition[] {
  const knowledge = Array.isArray(from) ? loadKnowledge(from) : from;
  if (refs?.length) return refs.map((r) => findPlan(knowledge, r));
  const plans = knowledge.all().filter((r): r is PlanDefinition => r.resourceType === 'PlanDefinition');
  const nested = new Set<string>();
  const walk = (actions: PlanDefinition['action']) => {
    for (const a of actions ?? []) {
      if (a.definitionCanonical) nested.add(a.definitionCanonical.split('|')[0]!);
      walk(a.action);
    }
  };
  for (const p of plans) walk(p.action);
  return plans.filter((p) => !p.url || !nested.has(p.url)).sort((a, b) => (a.url ?? a.id ?? '').localeCompare(b.url ?? b.id ?? ''));
}

/**
 * The server's $export error files (OperationOutcome lines) go after the batch's own failures in
 * OperationOutcome.ndjson, so one file reports everything that was not applied; the number added.
 */
function appendExportErrors(outDir: string, errors: readonly string[]): number {
  if (errors.length > 0) appendFileSync(join(outDir, 'OperationOutcome.ndjson'), errors.map((line) => `${line}\n`).join(''));
  return errors.length;
}

export async function runBatchCommand(raw: BatchArgs, io: CliIo): Promise<ExitCode> {
  const args = parseOptions(BatchArgs, raw);
  const knowledgePaths = args.knowledge ?? DEFAULT_ARTIFACT_DIRS;
  const knowledge = loadKnowledge(knowledgePaths);
  const plans = selectPlans(knowledge, args.plan);
  const now = resolveNow(args.now, io);
  const workers = args.workers ?? availableParallelism();
  // --in a FHIR server base: its population first becomes an export folder (src/queue/fhir-input.ts).
  let inDir = args.in;
  let downloaded: string | undefined;
  let exportErrors: string[] = [];
  if (/^https?:\/\//i.test(args.in)) {
    const serverOptions = parseOptions(ServerOptions, { ...raw, server: args.in });
    const auth = await accessTokenFrom({ ...serverOptions, server: args.in }, io);
    const client = await clientFrom(serverOptions, io, auth);
    downloaded = inDir = mkdtempSync(join(tmpdir(), 'ip-batch-in-'));
    try {
      const read = await readServerIntoFolder(
        client,
        inDir,
        plans.flatMap((p) => knowledge.dataRequirements(p)),
        {
          ...(auth ? { auth } : {}),
          exportTimeoutMs: args.exportTimeout * 1000,
          log: (m) => {
            io.stderr(`batch: ${m}\n`);
          },
        },
      );
      exportErrors = read.errors;
      const what = read.method === 'search' ? `${read.patients} patient(s), ${read.resources} resource(s)` : `${read.files} file(s), ${read.bytes} byte(s)`;
      io.stderr(`batch: ${what} read from ${read.server} by ${read.method}${exportErrors.length ? `; ${exportErrors.length} error(s) in its error files` : ''}\n`);
    } catch (err) {
      rmSync(inDir, { recursive: true, force: true });
      throw err;
    }
  }
  io.stderr(`batch: ${plans.length} plan(s), ${workers} worker(s)\n`);
  const bar = io.isTTY
    ? new cliProgress.SingleBar({ format: '{phase} [{bar}] {percentage}% | {patients} patients', stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let phase = '';
  const started = Date.now();
  const onProgress = (e: { phase: string; done: number; total: number; patients: number }) => {
    if (!bar) return;
    if (e.phase !== phase) {
      if (phase) bar.stop();
      phase = e.phase;
      bar.start(Math.max(1, e.total), 0, { phase: e.phase.padEnd(9), patients: 0 });
    }
    bar.update(e.done, { phase: e.phase.padEnd(9), patients: e.patients });
  };
  if (args.resume && !args.queue) throw badRequest('--resume needs --queue (the Redis of the run)', ['--resume']);
  try {
    if (args.queue) {
      // Distributed: this process is the coordinator; `worker --queue` processes apply (src/queue).
      const summary = await runQueuedBatch({
        url: parseRedisUrl(args.queue),
        inDir,
        outDir: args.out,
        planRefs: plans.map((p) => (p.url ? { url: p.url, ...(p.version ? { version: p.version } : {}) } : { id: p.id ?? '' })),
        // Workers apply the run only with exactly this knowledge (src/queue/queue-worker.ts).
        knowledgeDigest: knowledge.digest,
        now,
        mode: args.mode,
        ...(args.resume ? { resume: args.resume } : {}),
        ...(args.runLockMs ? { lockTtlMs: args.runLockMs } : {}),
        ...(args.window ? { window: args.window } : {}),
        // The shard budget is the job size here: one job is one shard's patients.
        ...(args.maxShardMb ? { maxJobBytes: Math.round(args.maxShardMb * 1024 * 1024) } : {}),
        ...(args.maxLineMb ? { maxLineBytes: Math.round(args.maxLineMb * 1024 * 1024) } : {}),
        onRun: (runId) => {
          io.stderr(`batch: run ${runId} (after a crash: the same command with --resume ${runId})\n`);
        },
        onNotice: (message) => {
          io.stderr(`batch: ${message}\n`);
        },
        onProgress,
      });
      bar?.stop();
      summary.failures += appendExportErrors(args.out, exportErrors);
      writeJson(io, summary);
      io.stderr(
        `batch: ${summary.patients} patient(s) in ${((Date.now() - started) / 1000).toFixed(1)} s; ${summary.failures} failure(s) in ${args.out}/OperationOutcome.ndjson\n`,
      );
      return summary.failures > 0 ? EXIT.findings : EXIT.ok;
    }
    const summary = await runBatch({
      inDir,
      outDir: args.out,
      knowledgePaths,
      planRefs: plans.map((p) => (p.url ? { url: p.url, ...(p.version ? { version: p.version } : {}) } : { id: p.id ?? '' })),
      now,
      mode: args.mode,
      workers,
      ...(args.maxShardMb ? { maxShardBytes: Math.round(args.maxShardMb * 1024 * 1024) } : {}),
      ...(args.maxLineMb ? { maxLineBytes: Math.round(args.maxLineMb * 1024 * 1024) } : {}),
      onProgress,
      onSwept: (paths) => {
        io.stderr(`batch: removed ${paths.length} folder(s) left by an interrupted run: ${paths.join(', ')}\n`);
      },
    });
    bar?.stop();
    summary.failures += appendExportErrors(args.out, exportErrors);
    writeJson(io, summary);
    const seconds = (Date.now() - started) / 1000;
    io.stderr(`batch: ${summary.patients} patient(s) in ${seconds.toFixed(1)} s; ${summary.failures} failure(s) in ${args.out}/OperationOutcome.ndjson\n`);
    return summary.failures > 0 ? EXIT.findings : EXIT.ok;
  } finally {
    bar?.stop();
    if (downloaded) rmSync(downloaded, { recursive: true, force: true });
  }
}

export function registerBatch(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  const command = program
    .command('batch')
    .description('apply plans to every patient of a FHIR Bulk Data export (folder of NDJSON): streaming, all cores; writes CarePlan.ndjson + OperationOutcome.ndjson')
    .requiredOption(
      '--in <dir|url>',
      "folder with the export's .ndjson files (Patient.ndjson, Observation.ndjson, ...), or a FHIR server base URL (read by its Bulk Data $export, else by paged search)",
    )
    .requiredOption('--out <dir>', 'folder for CarePlan.ndjson (Bundle.ndjson in cpg mode) and OperationOutcome.ndjson')
    .option('--plan <id|canonical...>', 'plans to apply (default: every top-level plan)')
    .option('--workers <n>', `worker threads (default: ${availableParallelism()}, the cores available)`)
    .option('--now <datetime>', 'the evaluation time, ISO 8601 with offset (default: the current time, printed)')
    .option('--mode <mode>', 'r4 (CarePlan) or cpg (Bundle)', 'r4')
    .option('--max-shard-mb <mb>', 'memory budget per shard in MiB (default 8)')
    .option('--max-line-mb <mb>', 'a longer NDJSON line is reported (file:line, too-long) and skipped unread (default 64)')
    .option('--knowledge <paths...>', 'artifact folders/files instead of profiles/ and plandefinitions/')
    .option('--queue <redis-url>', 'distribute over a Redis queue: this process coordinates, `worker --queue <redis-url>` processes apply')
    .option('--resume <run id>', 'with --queue: finish the run a coordinator that died had started (same --in and --out)')
    .option('--run-lock-ms <ms>', "with --queue: the run lock's lifetime unrenewed (default 15000): a --resume waits this long for a killed coordinator's lock")
    .option('--window <jobs>', `with --queue: most jobs whose input or result is in Redis at once (default ${DEFAULT_WINDOW}); bounds Redis memory`)
    .option('--export-timeout <s>', 'with --in a FHIR server offering Bulk Data $export: the most seconds the export may take (default 3600)');
  // With --in a FHIR server: its credentials and request policy, as apply --server takes them.
  addCredentialOptions(command).action((options: BatchArgs) => {
    done(runBatchCommand(options, io));
  });
}
