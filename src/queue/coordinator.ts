/**
 * The coordinator of a distributed batch run (`batch --queue redis://... --in --out`): partitions the
 * export by patient (partition-jobs.ts) onto its own disk, then feeds the jobs to the BullMQ queue
 * in a window - at most `window` jobs have their input or result in Redis at once - while workers
 * on any machine apply them (queue-worker.ts). Each result is taken out of Redis as soon as it is
 * there and kept on the coordinator's disk (collected-results.ts); at the end the results are
 * merged exactly as the single-process batch merges its parts - so the output files are the same
 * bytes, and Redis memory and the coordinator's memory stay bounded whatever the population size.
 *
 * Crash safety: what a run needs is in Redis under its id (run-keys.ts), plus the collected
 * results in the run's work folder under --out. A coordinator that dies is restarted with
 * `--resume <run id>` (same --in and --out): it partitions the same input again (same shard count,
 * hence the same job names), skips the jobs collected on disk, collects results that arrived
 * meanwhile and enqueues the rest. Results are written once per job (HSETNX) and collected once
 * (the `collected` set, which also tells a worker given a collected job again that it is done). A
 * job that failed for good (its retries used up, or its worker died twice) is a dead letter: its
 * input lines are kept in failed-shards/ and it is reported in OperationOutcome.ndjson, as the
 * single-process batch reports a shard that failed as a whole.
 *
 * One coordinator per run: it holds the run's lock (run-lock.ts) from creation or resume to the
 * end. Workers apply only with the run's knowledge (its digest is in the run meta); when the only
 * workers there give the jobs back (another knowledge) and no result comes for `knowledgeWaitMs`,
 * the jobs left become dead letters saying so, rather than the run waiting forever.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { badRequest } from '../errors/operation-outcome.ts';
import { acquireRunLock, type RunLock } from './run-lock.ts';
import { KnowledgeRefusals } from './knowledge-refusals.ts';
import { lineFailure } from '../batch/failures.ts';
import { OutputFile, mergeSortedParts } from '../batch/merge.ts';
import { DEFAULT_MAX_LINE_BYTES, inputBytes, listInputs } from '../batch/run-batch.ts';
import { CollectedResults } from './collected-results.ts';
import { partitionIntoJobs, shardCountFor, type PartitionedJob } from './partition-jobs.ts';
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
/**
 * With workers of other knowledge giving jobs back and no result for this long, no worker with the
 * run's knowledge is taken to be there: the jobs left become dead letters (the run does not wait
 * forever). A job takes well under a second, so a minute without a result is not a slow worker.
 */
const DEFAULT_KNOWLEDGE_WAIT_MS = 60_000;
/** A finished run's meta stays this long, so a late `--resume` says it finished. */
const FINISHED_META_TTL_S = 24 * 3600;
/**
 * Jobs in flight (input or result in Redis) at once. At the default job size (~1 MiB of input,
 * ~3 MiB of result) that is ~250 MiB of Redis memory per running coordinator, and enough work
 * queued to keep ~60 worker cores busy between two polls.
 */
export const DEFAULT_WINDOW = 64;

export interface QueuedBatchOptions {
  url: string;
  inDir: string;
  outDir: string;
  planRefs: RunMeta['planRefs'];
  /** CompiledKnowledge.digest of the knowledge the plans come from: workers must have the same. */
  knowledgeDigest: string;
  now: string;
  mode: 'r4' | 'cpg';
  /** Resume this run instead of starting a new one. */
  resume?: string;
  maxJobBytes?: number;
  maxLineBytes?: number;
  /** Most jobs in flight at once (default DEFAULT_WINDOW). */
  window?: number;
  /** The run lock's TTL (run-lock.ts; default 15 s): how long a resume waits for a killed coordinator's lock. */
  lockTtlMs?: number;
  /** See DEFAULT_KNOWLEDGE_WAIT_MS. */
  knowledgeWaitMs?: number;
  /** Lines for the operator: waiting for the run's lock, workers giving jobs back (other knowledge). */
  onNotice?: (message: string) => void;
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
  /** The window, and the most jobs that were in flight at once (never more than the window). */
  window: number;
  maxInFlight: number;
  /** The run's knowledge digest, and how often workers with another knowledge gave one of its jobs back. */
  knowledgeDigest: string;
  knowledgeRefusals: number;
}

/** The run's meta, checked against this coordinator's input and knowledge (a resume), and the run's lock. */
async function startOrResume(redis: Redis, options: QueuedBatchOptions, files: string[]): Promise<{ meta: RunMeta; resumed: boolean; lock: RunLock }> {
  const fileNames = files.map((f) => basename(f));
  const lockOptions = { ...(options.lockTtlMs ? { ttlMs: options.lockTtlMs } : {}) };
  if (options.resume) {
    const runId = options.resume;
    const current = async () => {
      const text = await redis.get(runKeys(runId).meta);
      if (text === null) throw badRequest(`--resume ${runId}: no such run in Redis (never started, or finished more than a day ago)`, ['--resume']);
      const meta = readJson(RunMeta, text, `run ${runId}`);
      if (meta.finished) throw badRequest(`--resume ${runId}: the run finished; its output is in its --out folder`, ['--resume']);
      return meta;
    };
    const meta = await current();
    if (JSON.stringify(meta.files) !== JSON.stringify(fileNames)) {
      throw badRequest(`--resume ${runId}: --in holds other files than the run started with (${meta.files.join(', ')})`, ['--in']);
    }
    if (meta.knowledgeDigest !== options.knowledgeDigest) {
      throw badRequest(
        `--resume ${runId}: the run was started with other knowledge (digest ${meta.knowledgeDigest}; this coordinator's is ${options.knowledgeDigest}): resume it with the same --knowledge (and version of the protocols)`,
        ['--knowledge'],
      );
    }
    const lock = await acquireRunLock(redis, runId, {
      ...lockOptions,
      wait: true,
      onWait: (ms) => options.onNotice?.(`run ${runId} is locked by another coordinator: waiting up to ${(ms / 1000).toFixed(1)} s for its lock to expire (a killed one's does)`),
    });
    try {
      // It may have finished while this one waited for the lock.
      return { meta: await current(), resumed: true, lock };
    } catch (err) {
      await lock.release();
      throw err;
    }
  }
  const maxJobBytes = options.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES;
  const meta: RunMeta = {
    version: 2,
    runId: randomUUID(),
    planRefs: options.planRefs,
    knowledgeDigest: options.knowledgeDigest,
    now: options.now,
    mode: options.mode,
    files: fileNames,
    shardCount: shardCountFor(inputBytes(files), maxJobBytes),
    maxJobBytes,
  };
  // A new run's lock is free: taken at creation, so a resume started at once already finds it held.
  const lock = await acquireRunLock(redis, meta.runId, { ...lockOptions, wait: false });
  await redis.set(runKeys(meta.runId).meta, JSON.stringify(meta), 'NX');
  return { meta, resumed: false, lock };
}

/** Puts the jobs' inputs in Redis and the jobs on the queue (a job already queued stays as it is). */
async function enqueue(redis: Redis, queue: Queue<BatchJobData>, runId: string, jobs: readonly PartitionedJob[]): Promise<void> {
  const keys = runKeys(runId);
  const BATCH = 64;
  for (let i = 0; i < jobs.length; i += BATCH) {
    const slice = jobs.slice(i, i + BATCH);
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
}

/** Moves jobs of this run that failed for good (and were not collected) into the dead-letter hash. */
async function collectDeadLetters(redis: Redis, queue: Queue<BatchJobData>, runId: string, isDone: (job: string) => boolean): Promise<void> {
  const failed = await queue.getFailed();
  for (const job of failed) {
    if (job.data.runId !== runId || isDone(job.data.job)) continue;
    const reason = `${job.failedReason || 'failed'} (after ${job.attemptsMade} attempt(s))`;
    await redis.hsetnx(runKeys(runId).dead, job.data.job, reason);
  }
}

type JobState = 'todo' | 'flight' | 'done' | 'dead';

/**
 * Feeds the jobs through a window of `window` and collects each result onto the disk as it
 * arrives, until every job is collected or a dead letter.
 */
async function applyInWindow(
  redis: Redis,
  queue: Queue<BatchJobData>,
  runId: string,
  jobs: readonly PartitionedJob[],
  collected: CollectedResults,
  window: number,
  lock: RunLock,
  options: QueuedBatchOptions,
): Promise<{ enqueued: number; maxInFlight: number; dead: Record<string, string>; refusals: number }> {
  const keys = runKeys(runId);
  const state = new Map<string, JobState>(jobs.map((j) => [j.name, 'todo']));
  // What a coordinator before this one finished: collected on disk (a job Redis calls collected
  // whose marker is not on this disk is done again), dead, or a result waiting to be collected.
  const [wasCollected, dead, waiting] = await Promise.all([redis.smembers(keys.collected), redis.hkeys(keys.dead), redis.hkeys(keys.results)]);
  for (const name of wasCollected) if (state.has(name)) state.set(name, collected.has(name) ? 'done' : 'todo');
  const lostFromDisk = wasCollected.filter((name) => state.get(name) === 'todo');
  if (lostFromDisk.length > 0) await redis.srem(keys.collected, ...lostFromDisk);
  for (const name of dead) if (state.get(name) === 'todo') state.set(name, 'dead');
  for (const name of waiting) if (state.get(name) === 'todo') state.set(name, 'flight');
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const todo = jobs.filter((j) => state.get(j.name) === 'todo');
  const count = (wanted: JobState) => [...state.values()].filter((v) => v === wanted).length;
  let next = 0;
  let enqueued = 0;
  let maxInFlight = 0;
  let finished = count('done') + count('dead');
  let lastProgress = Date.now();
  let metaWritten = false;
  // Jobs given back by workers with other knowledge (queue-worker.ts): reported, and bounded in time.
  const refusals = new KnowledgeRefusals(redis, keys.refusals, options.knowledgeDigest, options.knowledgeWaitMs ?? DEFAULT_KNOWLEDGE_WAIT_MS, options.onNotice);
  for (;;) {
    lock.assertHeld();
    let changed = false;
    // ---- fill the window ----
    const room = window - count('flight');
    if (room > 0 && next < todo.length) {
      const slice = todo.slice(next, next + room);
      next += slice.length;
      await enqueue(redis, queue, runId, slice);
      for (const job of slice) state.set(job.name, 'flight');
      enqueued += slice.length;
      changed = true;
    }
    if (!metaWritten) {
      // Job names in output order, once the first window is in Redis (tests and operators read it).
      const meta = readJson(RunMeta, await redis.get(keys.meta), `run ${runId}`);
      await redis.set(keys.meta, JSON.stringify({ ...meta, jobs: jobs.map((j) => j.name) }));
      metaWritten = true;
    }
    maxInFlight = Math.max(maxInFlight, count('flight'));
    // ---- collect the results that are there ----
    for (const name of await redis.hkeys(keys.results)) {
      if (state.get(name) !== 'flight') {
        // A late second delivery of a job collected already: its result is a copy.
        if (state.get(name) === 'done') await redis.hdel(keys.results, name);
        continue;
      }
      const result = readJson(JobResult, await redis.hget(keys.results, name), `the result of ${name}`);
      collected.write(name, result);
      await redis.multi().sadd(keys.collected, name).hdel(keys.results, name).del(keys.input(name)).exec();
      state.set(name, 'done');
      finished++;
      changed = true;
    }
    // ---- dead letters ----
    await collectDeadLetters(redis, queue, runId, (name) => state.get(name) === 'done');
    for (const name of await redis.hkeys(keys.dead)) {
      if (state.get(name) !== 'flight' && state.get(name) !== 'todo') continue;
      state.set(name, 'dead');
      await redis.del(keys.input(name));
      finished++;
      changed = true;
    }
    options.onProgress?.({ phase: 'apply', done: finished, total: jobs.length, patients: 0 });
    if (finished >= jobs.length) break;
    const giveUp = await refusals.check(changed);
    if (giveUp) {
      for (const [name, value] of state) {
        if (value !== 'todo' && value !== 'flight') continue;
        await redis.hsetnx(keys.dead, name, giveUp);
        // A job a worker holds right now stays; it finds itself a dead letter (queue-worker.ts isSettled).
        await queue.remove(jobId(runId, name)).catch(() => 0);
      }
      next = todo.length;
      continue;
    }
    if (changed) lastProgress = Date.now();
    else if (Date.now() - lastProgress > LOST_JOB_CHECK_MS) {
      // Jobs in flight that are nowhere in the queue (lost by Redis, or never added before a crash).
      const lost: PartitionedJob[] = [];
      for (const [name, value] of state) if (value === 'flight' && (await queue.getJob(jobId(runId, name))) === undefined) lost.push(byName.get(name)!);
      if (lost.length > 0) await enqueue(redis, queue, runId, lost);
      lastProgress = Date.now();
    }
    if (!changed) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { enqueued, maxInFlight, dead: await redis.hgetall(keys.dead), refusals: await refusals.count() };
}

export async function runQueuedBatch(options: QueuedBatchOptions): Promise<QueuedBatchSummary> {
  const files = listInputs(options.inDir);
  const window = Math.max(1, options.window ?? DEFAULT_WINDOW);
  const redis = connectRedis(options.url);
  const queue = new Queue<BatchJobData>(BATCH_QUEUE, { connection: redis });
  queue.on('error', () => undefined);
  let lock: RunLock | undefined;
  try {
    const started = await startOrResume(redis, options, files);
    const { meta, resumed } = started;
    lock = started.lock;
    const runId = meta.runId;
    options.onRun?.(runId);
    const keys = runKeys(runId);
    mkdirSync(options.outDir, { recursive: true });
    // The partition is redone on a resume; the collected results are what a resume keeps.
    const work = join(options.outDir, `.queue-work-${runId}`);
    const partitionDir = join(work, 'partition');
    rmSync(partitionDir, { recursive: true, force: true });
    mkdirSync(partitionDir, { recursive: true });
    const collected = new CollectedResults(join(work, 'results'));
    const total = inputBytes(files);
    let read = 0;
    const partitioned = await partitionIntoJobs(files, partitionDir, meta.shardCount, meta.maxJobBytes, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, (bytes) => {
      read += bytes;
      options.onProgress?.({ phase: 'partition', done: read, total, patients: 0 });
    });
    const { jobs } = partitioned;
    const applied = await applyInWindow(redis, queue, runId, jobs, collected, window, lock, options);
    lock.assertHeld();

    // ---- merge, as run-batch.ts commits ----
    const deadLines: string[] = [];
    let patients = 0;
    for (const job of jobs) {
      if (collected.has(job.name)) {
        patients += collected.patients(job.name);
        continue;
      }
      const keptDir = join(options.outDir, 'failed-shards');
      mkdirSync(keptDir, { recursive: true });
      const kept = join(keptDir, `${job.name}.tsv`);
      copyFileSync(job.path, kept);
      deadLines.push(
        lineFailure(kept, 'exception', `dead letter: ${applied.dead[job.name] ?? 'no result'}; its lines are kept in this file (<file index> <line> <patient> <JSON>)`),
      );
    }
    const parts = (kind: 'out' | 'fail' | 'bad') => jobs.flatMap((job) => collected.part(job.name, kind) ?? []);
    const outputName = meta.mode === 'cpg' ? 'Bundle.ndjson' : 'CarePlan.ndjson';
    const output = new OutputFile(join(options.outDir, outputName));
    const failures = new OutputFile(join(options.outDir, 'OperationOutcome.ndjson'));
    try {
      await mergeSortedParts(parts('out'), output);
      await mergeSortedParts([...partitioned.failureParts, ...parts('bad')], failures);
      for (const line of deadLines) failures.writeLine(line);
      await mergeSortedParts(parts('fail'), failures);
      output.commit();
      failures.commit();
    } catch (err) {
      output.abort();
      failures.abort();
      throw err;
    }
    options.onProgress?.({ phase: 'merge', done: 1, total: 1, patients });

    // ---- the run is done: its work folder and Redis keys go, its meta says so for a day ----
    rmSync(work, { recursive: true, force: true });
    for (const job of await queue.getFailed()) if (job.data.runId === runId) await job.remove();
    for (let i = 0; i < jobs.length; i += 1000) {
      const cleanup = redis.pipeline();
      for (const job of jobs.slice(i, i + 1000)) cleanup.del(keys.input(job.name));
      await cleanup.exec();
    }
    await redis
      .multi()
      .del(keys.results, keys.dead, keys.collected, keys.refusals)
      .set(keys.meta, JSON.stringify({ ...meta, jobs: jobs.map((j) => j.name), finished: true }), 'EX', FINISHED_META_TTL_S)
      .exec();
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
      enqueued: applied.enqueued,
      deadLetters: deadLines.length,
      window,
      maxInFlight: applied.maxInFlight,
      knowledgeDigest: meta.knowledgeDigest,
      knowledgeRefusals: applied.refusals,
    };
  } finally {
    // Bounded: with Redis gone for good the lock expires by itself.
    if (lock) await Promise.race([lock.release().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await queue.close();
    redis.disconnect();
  }
}
