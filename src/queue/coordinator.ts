/**
 * The coordinator of a distributed batch run (`batch --queue redis://... --in --out`): partitions the
 * export by patient (partition-jobs.ts), puts each job's input in Redis and the job on the BullMQ
 * queue, waits while workers on any machine apply them (queue-worker.ts), then merges the results
 * exactly as the single-process batch does - so the output files are the same bytes.
 *
 * Crash safety: everything a run needs is in Redis under its id (run-keys.ts). A coordinator that
 * dies is restarted with `--resume <run id>`: it partitions the same input again (same shard count,
 * hence the same job names), enqueues only the jobs without a result, and waits. Results are
 * written once per job (HSETNX), so nothing is applied into the output twice. A job that failed for
 * good (its retries used up, or its worker died twice) is a dead letter: its input lines are kept in
 * failed-shards/ and it is reported in OperationOutcome.ndjson, as the single-process batch reports
 * a shard that failed as a whole.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { badRequest } from '../errors/operation-outcome.ts';
import { lineFailure } from '../batch/failures.ts';
import { LineFileWriter } from '../batch/line-writer.ts';
import { OutputFile, mergeSortedParts } from '../batch/merge.ts';
import { DEFAULT_MAX_LINE_BYTES } from '../batch/run-batch.ts';
import { inputBytes, listInputs, partitionIntoJobs, shardCountFor, type PartitionedJob } from './partition-jobs.ts';
import type { BatchJobData } from './queue-worker.ts';
import { connectRedis } from './redis-connection.ts';
import { BATCH_QUEUE, jobId, runKeys } from './run-keys.ts';
import { JobResult, RunMeta, readJson } from './run-meta.ts';

/** Attempts per job before it is a dead letter, and the first backoff delay (doubling). */
const JOB_ATTEMPTS = 3;
const BACKOFF_MS = 1000;
const DEFAULT_MAX_JOB_BYTES = 1 << 20;
const POLL_MS = 200;
/** With no progress for this long, jobs that are nowhere in the queue (lost by Redis) are added again. */
const LOST_JOB_CHECK_MS = 5000;
/** A finished run's meta stays this long, so a late `--resume` says it finished. */
const FINISHED_META_TTL_S = 24 * 3600;

export interface QueuedBatchOptions {
  url: string;
  inDir: string;
  outDir: string;
  planRefs: RunMeta['planRefs'];
  now: string;
  mode: 'r4' | 'cpg';
  /** Resume this run instead of starting a new one. */
  resume?: string;
  maxJobBytes?: number;
  maxLineBytes?: number;
  /** Called once the run id is known (before any work), so a caller can print it for a resume. */
  onRun?: (runId: string) => void;
  onProgress?: (event: { phase: 'partition' | 'apply' | 'merge'; done: number; total: number; patients: number }) => void;
}

export interface QueuedBatchSummary {
  runId: string;
  resumed: boolean;
  input: string[];
  output: { file: string; lines: number }[];
  patients: number;
  plans: number;
  lines: number;
  skipped: number;
  failures: number;
  jobs: number;
  /** Jobs enqueued by this coordinator (a resume enqueues only those without a result). */
  enqueued: number;
  deadLetters: number;
}

async function startOrResume(redis: Redis, options: QueuedBatchOptions, files: string[]): Promise<{ meta: RunMeta; resumed: boolean }> {
  const fileNames = files.map((f) => basename(f));
  if (options.resume) {
    const text = await redis.get(runKeys(options.resume).meta);
    if (text === null) throw badRequest(`--resume ${options.resume}: no such run in Redis (never started, or finished more than a day ago)`, ['--resume']);
    const meta = readJson(RunMeta, text, `run ${options.resume}`);
    if (meta.finished) throw badRequest(`--resume ${options.resume}: the run finished; its output is in its --out folder`, ['--resume']);
    if (JSON.stringify(meta.files) !== JSON.stringify(fileNames)) {
      throw badRequest(`--resume ${options.resume}: --in holds other files than the run started with (${meta.files.join(', ')})`, ['--in']);
    }
    return { meta, resumed: true };
  }
  const maxJobBytes = options.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES;
  const meta: RunMeta = {
    version: 1,
    runId: randomUUID(),
    planRefs: options.planRefs,
    now: options.now,
    mode: options.mode,
    files: fileNames,
    shardCount: shardCountFor(inputBytes(files), maxJobBytes),
    maxJobBytes,
  };
  await redis.set(runKeys(meta.runId).meta, JSON.stringify(meta), 'NX');
  return { meta, resumed: false };
}

/** Puts the inputs and jobs that have no result yet on the queue; the number enqueued. */
async function enqueue(redis: Redis, queue: Queue<BatchJobData>, runId: string, jobs: readonly PartitionedJob[]): Promise<number> {
  const keys = runKeys(runId);
  const [done, dead] = await Promise.all([redis.hkeys(keys.results), redis.hkeys(keys.dead)]);
  const finished = new Set([...done, ...dead]);
  const todo = jobs.filter((j) => !finished.has(j.name));
  const BATCH = 64;
  for (let i = 0; i < todo.length; i += BATCH) {
    const slice = todo.slice(i, i + BATCH);
    const pipeline = redis.pipeline();
    for (const job of slice) pipeline.set(keys.input(job.name), readFileSync(job.path));
    await pipeline.exec();
    await queue.addBulk(
      slice.map((job) => ({
        name: 'apply',
        data: { runId, job: job.name },
        opts: {
          jobId: jobId(runId, job.name),
          attempts: JOB_ATTEMPTS,
          backoff: { type: 'exponential', delay: BACKOFF_MS },
          removeOnComplete: true,
          removeOnFail: false,
        },
      })),
    );
  }
  return todo.length;
}

/** Moves jobs of this run that failed for good into the dead-letter hash. */
async function collectDeadLetters(redis: Redis, queue: Queue<BatchJobData>, runId: string): Promise<void> {
  const failed = await queue.getFailed();
  for (const job of failed) {
    if (job.data.runId !== runId) continue;
    const reason = `${job.failedReason || 'failed'} (after ${job.attemptsMade} attempt(s))`;
    await redis.hsetnx(runKeys(runId).dead, job.data.job, reason);
  }
}

/** Re-adds jobs that have neither a result, a dead letter, nor a place in the queue. */
async function requeueLost(redis: Redis, queue: Queue<BatchJobData>, runId: string, jobs: readonly PartitionedJob[]): Promise<void> {
  const keys = runKeys(runId);
  const [done, dead] = await Promise.all([redis.hkeys(keys.results), redis.hkeys(keys.dead)]);
  const finished = new Set([...done, ...dead]);
  const lost: PartitionedJob[] = [];
  for (const job of jobs) {
    if (finished.has(job.name)) continue;
    if ((await queue.getJob(jobId(runId, job.name))) === undefined) lost.push(job);
  }
  if (lost.length > 0) await enqueue(redis, queue, runId, lost);
}

async function waitForJobs(redis: Redis, queue: Queue<BatchJobData>, runId: string, jobs: readonly PartitionedJob[], options: QueuedBatchOptions): Promise<void> {
  const keys = runKeys(runId);
  let lastCount = -1;
  let lastProgress = Date.now();
  for (;;) {
    await collectDeadLetters(redis, queue, runId);
    const [done, dead] = await Promise.all([redis.hlen(keys.results), redis.hlen(keys.dead)]);
    options.onProgress?.({ phase: 'apply', done: done + dead, total: jobs.length, patients: 0 });
    if (done + dead >= jobs.length) return;
    if (done + dead !== lastCount) {
      lastCount = done + dead;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > LOST_JOB_CHECK_MS) {
      await requeueLost(redis, queue, runId, jobs);
      lastProgress = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function runQueuedBatch(options: QueuedBatchOptions): Promise<QueuedBatchSummary> {
  const files = listInputs(options.inDir);
  const redis = connectRedis(options.url);
  const queue = new Queue<BatchJobData>(BATCH_QUEUE, { connection: redis });
  queue.on('error', () => undefined);
  try {
    const { meta, resumed } = await startOrResume(redis, options, files);
    const runId = meta.runId;
    options.onRun?.(runId);
    const keys = runKeys(runId);
    mkdirSync(options.outDir, { recursive: true });
    const work = join(options.outDir, `.queue-work-${runId}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    try {
      const total = inputBytes(files);
      let read = 0;
      const partitioned = partitionIntoJobs(files, work, meta.shardCount, meta.maxJobBytes, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, (bytes) => {
        read += bytes;
        options.onProgress?.({ phase: 'partition', done: read, total, patients: 0 });
      });
      const { jobs } = partitioned;
      const enqueued = await enqueue(redis, queue, runId, jobs);
      await redis.set(keys.meta, JSON.stringify({ ...meta, jobs: jobs.map((j) => j.name) }));
      await waitForJobs(redis, queue, runId, jobs, options);

      // ---- merge, as run-batch.ts commits ----
      const outputParts: string[] = [];
      const failureParts: string[] = [];
      const badLineParts: string[] = [];
      const deadLines: string[] = [];
      let patients = 0;
      const dead = await redis.hgetall(keys.dead);
      for (const job of jobs) {
        const reason = dead[job.name];
        const text = await redis.hget(keys.results, job.name);
        if (text === null) {
          const keptDir = join(options.outDir, 'failed-shards');
          mkdirSync(keptDir, { recursive: true });
          const kept = join(keptDir, `${job.name}.tsv`);
          writeFileSync(kept, readFileSync(job.path));
          deadLines.push(lineFailure(kept, 'exception', `dead letter: ${reason ?? 'no result'}; its lines are kept in this file (<file index> <line> <patient> <JSON>)`));
          continue;
        }
        const result = readJson(JobResult, text, `the result of ${job.name}`);
        patients += result.patients;
        const write = (lines: string[], suffix: string, parts: string[]) => {
          if (lines.length === 0) return;
          const path = join(work, `${job.name}.${suffix}`);
          const writer = new LineFileWriter(path);
          for (const line of lines) writer.write(line);
          writer.close();
          parts.push(path);
        };
        write(result.output, 'out', outputParts);
        write(result.failures, 'fail', failureParts);
        write(result.badLines, 'bad', badLineParts);
      }
      const outputName = meta.mode === 'cpg' ? 'Bundle.ndjson' : 'CarePlan.ndjson';
      const output = new OutputFile(join(options.outDir, outputName));
      const failures = new OutputFile(join(options.outDir, 'OperationOutcome.ndjson'));
      try {
        await mergeSortedParts(outputParts, output);
        await mergeSortedParts([...partitioned.failureParts, ...badLineParts], failures);
        for (const line of deadLines) failures.writeLine(line);
        await mergeSortedParts(failureParts, failures);
        output.commit();
        failures.commit();
      } catch (err) {
        output.abort();
        failures.abort();
        throw err;
      }
      options.onProgress?.({ phase: 'merge', done: 1, total: 1, patients });

      // ---- the run is done: its inputs and results go, its meta says so for a day ----
      for (const job of await queue.getFailed()) if (job.data.runId === runId) await job.remove();
      const cleanup = redis.pipeline();
      for (const job of jobs) cleanup.del(keys.input(job.name));
      cleanup.del(keys.results, keys.dead);
      cleanup.set(keys.meta, JSON.stringify({ ...meta, jobs: jobs.map((j) => j.name), finished: true }), 'EX', FINISHED_META_TTL_S);
      await cleanup.exec();
      return {
        runId,
        resumed,
        input: meta.files,
        output: [
          { file: outputName, lines: output.lines },
          { file: 'OperationOutcome.ndjson', lines: failures.lines },
        ],
        patients,
        plans: meta.planRefs.length,
        lines: partitioned.stats.lines,
        skipped: partitioned.stats.skipped,
        failures: failures.lines,
        jobs: jobs.length,
        enqueued,
        deadLetters: deadLines.length,
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
