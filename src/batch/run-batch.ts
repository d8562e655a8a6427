/**
 * Population apply over a FHIR Bulk Data export (a folder of NDJSON files).
 *
 * 1. Partition (main thread, streaming): each line is checked and appended to the shard of its
 *    patient; bad lines go straight to the failure output with file:line.
 * 2. Re-split any shard over the memory budget (by re-hashing patient ids).
 * 3. Apply (worker threads, one shard at a time each): a worker reads one shard, groups it by
 *    patient, applies the plans and writes the shard's output parts.
 * 4. Commit: k-way merge the parts (each sorted by patient id) into CarePlan.ndjson (Bundle.ndjson
 *    in cpg mode) and OperationOutcome.ndjson via temp files + rename, then remove the work folder.
 *    Output is in patient-id order, so it is byte-identical whatever the shard or worker count.
 *
 * Peak memory is about (workers x the largest shard) plus fixed buffers, whatever the input size.
 * The output does not depend on the number of workers.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { lineFailure } from './failures.ts';
import { mergeSortedParts } from './merge.ts';
import { partitionInput, splitShard, type PartitionStats } from './partition.ts';
import type { ShardJob, WorkerReply, WorkerSetup } from './shard-worker.ts';

export interface BatchOptions {
  inDir: string;
  outDir: string;
  knowledgePaths: string[];
  planRefs: WorkerSetup['planRefs'];
  now: string;
  mode: 'r4' | 'cpg';
  workers?: number;
  /** Memory budget per shard (bytes of NDJSON). Default 16 MiB. */
  maxShardBytes?: number;
  onProgress?: (event: { phase: 'partition' | 'apply'; done: number; total: number; patients: number }) => void;
}

export interface BatchSummary {
  input: string[];
  output: { file: string; lines: number }[];
  patients: number;
  plans: number;
  lines: number;
  skipped: number;
  failures: number;
  shards: number;
  workers: number;
}

const WORKER_URL = new URL('./shard-worker.ts', import.meta.url);

function listInputs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new OperationOutcomeError(outcome(issue('error', 'not-found', `--in ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`)));
  }
  const files = names.filter((n) => n.endsWith('.ndjson')).sort().map((n) => join(dir, n));
  if (files.length === 0) throw new OperationOutcomeError(outcome(issue('error', 'not-found', `--in ${dir} holds no .ndjson files`)));
  return files;
}

async function applyInWorkers(
  jobs: ShardJob[],
  setup: WorkerSetup,
  workerCount: number,
  onDone: (reply: WorkerReply, job: ShardJob) => void,
): Promise<void> {
  if (jobs.length === 0) return;
  const count = Math.max(1, Math.min(workerCount, jobs.length));
  const started: Worker[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: count }, () =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(WORKER_URL, { workerData: setup });
          started.push(worker);
          let current: ShardJob | undefined;
          const dispatch = () => {
            current = jobs[next++];
            if (current) worker.postMessage(current);
            else void worker.terminate().then(() => resolve());
          };
          worker.on('message', (reply: WorkerReply) => {
            onDone(reply, current!);
            dispatch();
          });
          worker.on('error', (err) => {
            // A worker that dies mid-shard (e.g. out of memory) fails that shard; the run stops cleanly.
            if (current) onDone({ index: current.index, ok: false, error: err.message }, current);
            reject(new OperationOutcomeError(outcome(issue('error', 'exception', `batch worker failed: ${err.message}`))));
          });
          worker.once('online', dispatch);
        }),
      ),
    );
  } finally {
    await Promise.all(started.map((w) => w.terminate()));
  }
}

export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const files = listInputs(options.inDir);
  const workers = Math.max(1, options.workers ?? availableParallelism());
  const maxShardBytes = options.maxShardBytes ?? 16 * 1024 * 1024;
  const totalBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  // Enough shards that each fits the budget and every worker has several to balance the load.
  const shardCount = Math.min(256, Math.max(workers * 4, Math.ceil(totalBytes / maxShardBytes)));
  mkdirSync(options.outDir, { recursive: true });
  const work = mkdtempSync(join(options.outDir, '.batch-work-'));
  try {
    const phase1Failures: string[] = [];
    let partitioned = 0;
    const { shards: initial, stats } = await partitionInput(
      files,
      work,
      shardCount,
      (line) => phase1Failures.push(line),
      (bytes) => {
        partitioned += bytes;
        options.onProgress?.({ phase: 'partition', done: partitioned, total: totalBytes, patients: 0 });
      },
    );
    const shards: { path: string; bytes: number }[] = [];
    for (const shard of initial) {
      shards.push(...(shard.bytes > maxShardBytes ? await splitShard(shard, maxShardBytes, 1) : [shard]));
    }
    const jobs: ShardJob[] = shards.map((s, index) => ({ index, path: s.path, outPath: `${s.path}.out`, failPath: `${s.path}.fail` }));
    const setup: WorkerSetup = { knowledgePaths: options.knowledgePaths, planRefs: options.planRefs, now: options.now, mode: options.mode, files: files.map((f) => basename(f)) };
    const shardFailures = new Map<number, string>();
    let patients = 0;
    let applied = 0;
    const shardTotal = shards.reduce((sum, s) => sum + s.bytes, 0);
    await applyInWorkers(jobs, setup, workers, (reply, job) => {
      applied += shards[job.index]!.bytes;
      if (reply.ok) patients += reply.patients;
      else shardFailures.set(job.index, reply.error);
      options.onProgress?.({ phase: 'apply', done: applied, total: shardTotal, patients });
    });

    // A shard that failed as a whole is kept in the output folder, so none of its lines is lost.
    const keptShards: string[] = [];
    for (const [index, error] of [...shardFailures].sort(([a], [b]) => a - b)) {
      const keptDir = join(options.outDir, 'failed-shards');
      mkdirSync(keptDir, { recursive: true });
      const kept = join(keptDir, basename(jobs[index]!.path));
      renameSync(jobs[index]!.path, kept);
      rmSync(jobs[index]!.outPath, { force: true });
      rmSync(jobs[index]!.failPath, { force: true });
      keptShards.push(lineFailure(kept, 'exception', `the whole shard failed (${error}); its lines are kept in this file (<file index> <line> <patient> <JSON>)`));
    }
    const outputName = options.mode === 'cpg' ? 'Bundle.ndjson' : 'CarePlan.ndjson';
    const okJobs = jobs.filter((j) => !shardFailures.has(j.index));
    const outputLines = await mergeSortedParts(okJobs.map((j) => j.outPath), join(options.outDir, outputName));
    const failureLines = await mergeSortedParts(okJobs.map((j) => j.failPath), join(options.outDir, 'OperationOutcome.ndjson'), [...phase1Failures, ...keptShards]);
    return {
      input: files.map((f) => basename(f)),
      output: [
        { file: outputName, lines: outputLines },
        { file: 'OperationOutcome.ndjson', lines: failureLines },
      ],
      patients,
      plans: options.planRefs.length,
      lines: stats.lines,
      skipped: stats.skipped,
      failures: failureLines,
      shards: shards.length,
      workers,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export type { PartitionStats };
