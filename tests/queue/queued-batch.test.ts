/**
 * The distributed batch against a real redis-server: the coordinator (runQueuedBatch) and workers
 * (startQueueWorker, in this process) give the single-process batch's output byte for byte; a job
 * that fails is retried; a job that cannot succeed is a dead letter reported as an OperationOutcome.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run-batch.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { runQueuedBatch, type QueuedBatchOptions } from '../../src/queue/coordinator.ts';
import { startQueueWorker, type QueueWorker } from '../../src/queue/queue-worker.ts';
import { BATCH_QUEUE, jobId, runKeys } from '../../src/queue/run-keys.ts';
import { KNOWLEDGE, NOW } from '../support/cli.ts';
import { DEMO_PLAN, pregnancyTestExport } from '../support/bulk-export.ts';
import { startRedis, type RedisProcess } from './redis-process.ts';

const PLAN = DEMO_PLAN;

/** n patients with a pregnancy test each, in reverse order, plus lines that are bad in every way. */
const exportDir = (n: number): string =>
  pregnancyTestExport(n, {
    prefix: 'ip-qbulk-',
    extraObservations: [
      '{not json',
      JSON.stringify({ resourceType: 'Observaton', id: 'typo' }),
      JSON.stringify({ resourceType: 'Observation', id: 'orphan', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/ghost' } }),
      JSON.stringify({ resourceType: 'Observation', id: 'nobody', status: 'final', code: { text: 'x' } }),
    ],
  });

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const sortedLines = (text: string) => text.split('\n').filter(Boolean).sort();

let redis: RedisProcess;
let input: string;
let single: string;
/** The fixture knowledge's digest: what the coordinator puts in the run and the workers have. */
let digest: string;

beforeAll(async () => {
  redis = await startRedis();
  input = exportDir(300);
  single = mkdtempSync(join(tmpdir(), 'ip-qsingle-'));
  digest = loadKnowledge([KNOWLEDGE]).digest;
  await runBatch({ inDir: input, outDir: single, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 1 });
}, 60_000);

afterAll(async () => {
  await redis.stop();
});

/** The coordinator on this file's export and Redis. */
const runOn = (out: string, options: Partial<QueuedBatchOptions>) =>
  runQueuedBatch({ url: redis.url, inDir: input, outDir: out, planRefs: [PLAN], knowledgeDigest: digest, now: NOW, mode: 'r4', ...options });

async function withWorkers<T>(count: number, knowledgePaths: string[], body: (workers: QueueWorker[]) => Promise<T>): Promise<T> {
  const knowledge = loadKnowledge(knowledgePaths);
  const workers = Array.from({ length: count }, () => startQueueWorker({ url: redis.url, knowledge, lockMs: 2000 }));
  try {
    return await body(workers);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

describe('batch --queue (coordinator and workers on one Redis)', () => {
  it('writes the same bytes as the single-process batch, over many jobs and two workers, and leaves nothing in Redis but the finished meta', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qout-'));
    const summary = await withWorkers(2, [KNOWLEDGE], () =>
      runQueuedBatch({ url: redis.url, inDir: input, outDir: out, planRefs: [PLAN], knowledgeDigest: digest, now: NOW, mode: 'r4', maxJobBytes: 8 * 1024 }),
    );
    expect(summary.jobs).toBeGreaterThan(10);
    expect(summary).toMatchObject({ patients: 300, deadLetters: 0, enqueued: summary.jobs, resumed: false });
    expect(read(out, 'CarePlan.ndjson')).toBe(read(single, 'CarePlan.ndjson'));
    expect(read(out, 'OperationOutcome.ndjson')).toBe(read(single, 'OperationOutcome.ndjson'));
    expect(sortedLines(read(out, 'CarePlan.ndjson'))).toHaveLength(300);
    expect(sortedLines(read(out, 'OperationOutcome.ndjson')).length).toBeGreaterThanOrEqual(4);
    expect(readdirSync(out).sort()).toEqual(['CarePlan.ndjson', 'OperationOutcome.ndjson']);
    const client = new Redis(redis.url);
    try {
      expect((await client.keys(`ip:run:${summary.runId}:*`)).sort()).toEqual([runKeys(summary.runId).meta]);
      expect(await client.ttl(runKeys(summary.runId).meta)).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it('with a window of 2 jobs keeps at most 2 in Redis at once, takes each result out as it comes, and still writes the same bytes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qout-'));
    const client = new Redis(redis.url);
    let runId = '';
    let mostInputs = 0;
    const watching: { on: boolean } = { on: true };
    // Watches Redis while the run goes: job inputs plus results waiting never exceed the window.
    const watch = (async () => {
      while (watching.on) {
        if (runId) {
          const inputs = (await client.keys(runKeys(runId).input('*'))).length;
          mostInputs = Math.max(mostInputs, inputs, await client.hlen(runKeys(runId).results));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const summary = await withWorkers(2, [KNOWLEDGE], () =>
        runOn(out, {
          maxJobBytes: 8 * 1024,
          window: 2,
          onRun: (id) => {
            runId = id;
          },
        }),
      );
      expect(summary.jobs).toBeGreaterThan(10);
      expect(summary).toMatchObject({ patients: 300, deadLetters: 0, window: 2, maxInFlight: 2 });
      expect(mostInputs).toBeGreaterThan(0);
      expect(mostInputs).toBeLessThanOrEqual(2);
      expect(read(out, 'CarePlan.ndjson')).toBe(read(single, 'CarePlan.ndjson'));
      expect(read(out, 'OperationOutcome.ndjson')).toBe(read(single, 'OperationOutcome.ndjson'));
      expect(readdirSync(out).sort()).toEqual(['CarePlan.ndjson', 'OperationOutcome.ndjson']);
    } finally {
      watching.on = false;
      await watch;
      client.disconnect();
    }
  }, 60_000);

  it('retries a job that failed (its input was missing for a while) and then loses nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qout-'));
    const client = new Redis(redis.url);
    const queue = new Queue(BATCH_QUEUE, { connection: client });
    try {
      let runId = '';
      const run = runOn(out, {
        maxJobBytes: 64 * 1024,
        onRun: (id) => {
          runId = id;
        },
      });
      // Before any worker runs: hide the first job's input once every job is enqueued.
      let jobs: string[] = [];
      while (jobs.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        const meta = runId ? await client.get(runKeys(runId).meta) : null;
        jobs = meta ? ((JSON.parse(meta) as { jobs?: string[] }).jobs ?? []) : [];
      }
      const first = jobs[0]!;
      await client.rename(runKeys(runId).input(first), `${runKeys(runId).input(first)}.hidden`);
      const summary = await withWorkers(1, [KNOWLEDGE], async () => {
        for (;;) {
          const job = await queue.getJob(jobId(runId, first));
          if (job && job.attemptsMade >= 1) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await client.rename(`${runKeys(runId).input(first)}.hidden`, runKeys(runId).input(first));
        return run;
      });
      expect(summary.deadLetters).toBe(0);
      expect(read(out, 'CarePlan.ndjson')).toBe(read(single, 'CarePlan.ndjson'));
      expect(read(out, 'OperationOutcome.ndjson')).toBe(read(single, 'OperationOutcome.ndjson'));
    } finally {
      await queue.close();
      client.disconnect();
    }
  }, 60_000);

  it('reports a job that cannot succeed as a dead letter (an OperationOutcome line), and keeps every one of its input lines', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qout-'));
    // The run's knowledge, but a plan it lacks (a coordinator's --plan is checked; this one is not):
    // the worker refuses every job without retrying.
    const missing = { url: 'http://example.org/fhir/PlanDefinition/not-there', version: '1.0.0' };
    const summary = await withWorkers(1, [KNOWLEDGE], () =>
      runQueuedBatch({ url: redis.url, inDir: input, outDir: out, planRefs: [missing], knowledgeDigest: digest, now: NOW, mode: 'r4', maxJobBytes: 64 * 1024 }),
    );
    expect(summary.deadLetters).toBe(summary.jobs);
    expect(read(out, 'CarePlan.ndjson')).toBe('');
    const outcomes = sortedLines(read(out, 'OperationOutcome.ndjson')).map((l) => JSON.parse(l) as { issue: { code: string; diagnostics: string }[] });
    const dead = outcomes.filter((o) => o.issue[0]!.diagnostics.includes('dead letter'));
    expect(dead).toHaveLength(summary.jobs);
    expect(dead[0]!.issue[0]).toMatchObject({ code: 'exception' });
    expect(dead[0]!.issue[0]!.diagnostics).toContain('not in this worker');
    const kept = readdirSync(join(out, 'failed-shards'));
    expect(kept).toHaveLength(summary.jobs);
    const keptLines = kept.flatMap((f) => read(join(out, 'failed-shards'), f).split('\n').filter(Boolean));
    expect(keptLines.filter((l) => l.includes('"resourceType":"Patient"'))).toHaveLength(300);
  }, 60_000);
});
