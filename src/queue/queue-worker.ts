/**
 * A batch worker on the queue (`infertility-protocols worker --queue redis://...`): takes jobs (one
 * shard, a group of patients, each) of any run, applies the run's plans with the same function the
 * single-process batch uses (`applyShard`), and stores the result once under the run and job name.
 *
 * Delivery is at least once: a worker killed mid-job loses its lock, another worker takes the job
 * again (BullMQ's stalled-job check), and the second result is dropped by HSETNX - so a job done
 * twice is written once. A job that throws is retried with exponential backoff; after the last
 * attempt the coordinator finds it in the failed set and reports it as a dead letter.
 *
 * A worker applies a run only with the run's knowledge: the run names its coordinator's knowledge
 * digest (CompiledKnowledge.digest: every artifact, not just the plans' versions), and a worker
 * whose digest differs gives each job of the run back untouched - delayed for a moment without
 * using an attempt (BullMQ's moveToDelayed + DelayedError), and then taking no job for a while
 * itself, so workers with the run's knowledge take it - counts the refusal in Redis under its
 * digest for the coordinator to report, and says so once per run (`onMismatch`). It never turns
 * the job into a dead letter: a right worker may be there, or started later. The coordinator
 * decides when no right worker is there (coordinator.ts, knowledgeWaitMs).
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { applyShard, type ShardContext } from '../batch/apply-shard.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { connectRedis } from './redis-connection.ts';
import { BATCH_QUEUE, runKeys } from './run-keys.ts';
import { JobResult, RunMeta, readJson } from './run-meta.ts';

export interface BatchJobData {
  runId: string;
  job: string;
}

export interface QueueWorkerOptions {
  url: string;
  knowledge: CompiledKnowledge;
  /**
   * How long a job's lock lives without renewal: a killed worker's job is taken again after about
   * this long. Jobs are small (~1 MiB of input, well under a second of work), so seconds suffice.
   */
  lockMs?: number;
  onJob?: (event: { runId: string; job: string; patients: number }) => void;
  /** Once per run whose knowledge digest is not this worker's: its jobs are given back, not applied. */
  onMismatch?: (event: { runId: string; runDigest: string; workerDigest: string }) => void;
  /**
   * After giving a job back, how long this worker takes no job (default 1000 ms): long enough that
   * the run's other workers get its jobs, short enough for jobs of other runs it can apply.
   */
  refusalPauseMs?: number;
}

export interface QueueWorker {
  /** Stops taking jobs, lets the current one finish, closes the connections. */
  close(): Promise<void>;
  /**
   * Resolves once this worker has done at least one job and then `ms` have passed with no job of
   * any run waiting, delayed or running on the queue (`worker --idle-exit`: workers started for one
   * run, e.g. by an autoscaler, end with it).
   */
  idle(ms: number): Promise<void>;
  /** Jobs given back so far because their run's knowledge is not this worker's. */
  readonly refused: number;
}

function resolvePlans(knowledge: CompiledKnowledge, meta: RunMeta): PlanDefinition[] {
  return meta.planRefs.map((ref) => {
    const plan = ref.url
      ? knowledge.resolve<PlanDefinition>(ref.version ? `${ref.url}|${ref.version}` : ref.url, 'PlanDefinition')
      : knowledge.byId<PlanDefinition>('PlanDefinition', ref.id ?? '');
    // Another version of the protocols on this machine: retrying here cannot help.
    if (!plan) throw new UnrecoverableError(`plan ${ref.url ?? ref.id ?? '?'}${ref.version ? `|${ref.version}` : ''} is not in this worker's knowledge`);
    return plan;
  });
}

/** How long a job given back waits before any worker may take it again. */
const REDELIVERY_DELAY_MS = 100;

/** A run this worker must not apply: its knowledge is another. */
interface Mismatch {
  runDigest: string;
}

export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const connection: Redis = connectRedis(options.url);
  const lockDuration = options.lockMs ?? 10_000;
  const workerDigest = options.knowledge.digest;
  // Per worker instance, not per module: the run contexts this worker has seen (a few at most).
  const contexts = new Map<string, ShardContext | Mismatch>();
  const contextOf = async (runId: string): Promise<ShardContext | Mismatch> => {
    const known = contexts.get(runId);
    if (known) return known;
    const text = await connection.get(runKeys(runId).meta);
    if (text === null) throw new UnrecoverableError(`run ${runId} is not in Redis (finished or removed)`);
    const meta = readJson(RunMeta, text, `run ${runId}`);
    // Before the plans: the same plan versions with another ValueSet would apply without a word.
    const context: ShardContext | Mismatch =
      meta.knowledgeDigest === workerDigest
        ? { plans: resolvePlans(options.knowledge, meta), knowledge: options.knowledge, now: meta.now, mode: meta.mode, files: meta.files }
        : { runDigest: meta.knowledgeDigest };
    if ('runDigest' in context) options.onMismatch?.({ runId, runDigest: context.runDigest, workerDigest });
    if (contexts.size >= 8) contexts.delete(contexts.keys().next().value!);
    contexts.set(runId, context);
    return context;
  };

  /** The run finished, or the coordinator gave the job up (a dead letter): nothing left to do. */
  const isSettled = async (runId: string, name: string): Promise<boolean> => {
    const keys = runKeys(runId);
    const [dead, meta] = await Promise.all([connection.hexists(keys.dead, name), connection.get(keys.meta)]);
    return dead === 1 || meta === null || readJson(RunMeta, meta, `run ${runId}`).finished === true;
  };

  let refusals = 0;
  const refusalPauseMs = options.refusalPauseMs ?? 1000;
  /** Gives the job back without using an attempt, and takes no job for a while, so another worker gets it. */
  const giveBack = async (job: Job<BatchJobData>, token: string | undefined): Promise<never> => {
    refusals++;
    await connection.hincrby(runKeys(job.data.runId).refusals, workerDigest, 1);
    await job.moveToDelayed(Date.now() + REDELIVERY_DELAY_MS, token);
    await new Promise((resolve) => setTimeout(resolve, refusalPauseMs));
    throw new DelayedError();
  };

  const process = async (job: Job<BatchJobData>, token?: string): Promise<number> => {
    const { runId, job: name } = job.data;
    const keys = runKeys(runId);
    // Done already (an earlier attempt finished but its completion was lost, or the coordinator
    // has the result on its disk and removed the input): nothing to redo.
    const [hasResult, wasCollected] = await Promise.all([connection.hexists(keys.results, name), connection.sismember(keys.collected, name)]);
    if (hasResult === 1 || wasCollected === 1) return 0;
    const context = await contextOf(runId);
    if ('runDigest' in context) return (await isSettled(runId, name)) ? 0 : giveBack(job, token);
    const input = await connection.getBuffer(keys.input(name));
    if (input === null) {
      if (await isSettled(runId, name)) return 0;
      // Retried (with backoff): the coordinator may be putting it back after a Redis restart.
      throw new Error(`the input of ${name} (run ${runId}) is not in Redis`);
    }
    const result: JobResult = { patients: 0, output: [], failures: [], badLines: [] };
    const counts = applyShard([input], context, {
      output: (line) => result.output.push(line),
      failure: (line) => result.failures.push(line),
      badLine: (line) => result.badLines.push(line),
    });
    result.patients = counts.patients;
    await connection.hsetnx(keys.results, name, JSON.stringify(result));
    options.onJob?.({ runId, job: name, patients: counts.patients });
    return counts.patients;
  };

  const worker = new Worker<BatchJobData, number>(BATCH_QUEUE, process, {
    connection,
    concurrency: 1,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    // A job whose worker died twice is a dead letter rather than a job that kills workers forever.
    maxStalledCount: 2,
  });
  // BullMQ reports connection trouble here; the connection reconnects by itself (redis-connection.ts).
  worker.on('error', () => undefined);
  // Jobs given back count as handled here: a worker with other knowledge still ends with the run (--idle-exit).
  let jobsDone = 0;
  worker.on('completed', () => {
    jobsDone++;
  });
  worker.on('failed', () => {
    jobsDone++;
  });
  let closed = false;
  return {
    get refused() {
      return refusals;
    },
    close: async () => {
      closed = true;
      await worker.close();
      connection.disconnect();
    },
    idle: async (ms) => {
      const queue = new Queue(BATCH_QUEUE, { connection });
      try {
        let quietSince = Date.now();
        while (!closed) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(500, ms)));
          // Closed meanwhile (SIGTERM won the race): the connection is gone, and so is the question.
          const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized').catch((err: unknown) => {
            if (closed) return undefined;
            throw err;
          });
          if (!counts) return;
          const busy = Object.values(counts).some((n) => n > 0);
          if (busy || jobsDone + refusals === 0) quietSince = Date.now();
          else if (Date.now() - quietSince >= ms) return;
        }
      } finally {
        await queue.close().catch(() => undefined);
      }
    },
  };
}
