/**
 * Clinical safety of a distributed run against a real redis-server: workers apply a run only with
 * exactly the run's knowledge (a worker with one ValueSet code more - same plan versions - gives
 * the jobs back and says so; the run's output is still the single-process batch's), a run with
 * only such workers ends in dead letters rather than waiting forever, a `--resume` with other
 * knowledge is refused, and one coordinator at a time holds a run (the run lock).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run-batch.ts';
import { exitCodeOf } from '../../src/errors/exit-code.ts';
import { toOperationOutcome } from '../../src/errors/operation-outcome.ts';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { runQueuedBatch, type QueuedBatchOptions } from '../../src/queue/coordinator.ts';
import { startQueueWorker } from '../../src/queue/queue-worker.ts';
import { BATCH_QUEUE, runKeys } from '../../src/queue/run-keys.ts';
import { DEMO_PLAN, pregnancyTestExport } from '../support/bulk-export.ts';
import { KNOWLEDGE, NOW, ROOT } from '../support/cli.ts';
import { artifactsWithOneMoreCode, folderWithOneMoreCode } from './altered-knowledge.ts';
import { startRedis, type RedisProcess } from './redis-process.ts';

const PATIENTS = 200;
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let redis: RedisProcess;
let input: string;
let single: string;
let digest: string;

beforeAll(async () => {
  redis = await startRedis();
  input = pregnancyTestExport(PATIENTS, { prefix: 'ip-qmismatch-' });
  single = mkdtempSync(join(tmpdir(), 'ip-qmismatch-single-'));
  await runBatch({ inDir: input, outDir: single, knowledgePaths: [KNOWLEDGE], planRefs: [DEMO_PLAN], now: NOW, mode: 'r4', workers: 1 });
  digest = loadKnowledge([KNOWLEDGE]).digest;
}, 60_000);

afterAll(async () => {
  await redis.stop();
});

const runOn = (out: string, options: Partial<QueuedBatchOptions> = {}) =>
  runQueuedBatch({ url: redis.url, inDir: input, outDir: out, planRefs: [DEMO_PLAN], knowledgeDigest: digest, now: NOW, mode: 'r4', maxJobBytes: 8 * 1024, ...options });

/** A coordinator started with no worker about: its run id, once it has enqueued. */
async function startIdleRun(out: string, options: Partial<QueuedBatchOptions> = {}): Promise<{ runId: string; run: ReturnType<typeof runOn> }> {
  let runId = '';
  const run = runOn(out, {
    ...options,
    onRun: (id) => {
      runId = id;
    },
  });
  run.catch(() => undefined);
  while (!runId) await sleep(20);
  return { runId, run };
}

function expectSingleProcessOutput(out: string): void {
  expect(read(out, 'CarePlan.ndjson')).toBe(read(single, 'CarePlan.ndjson'));
  expect(read(out, 'OperationOutcome.ndjson')).toBe(read(single, 'OperationOutcome.ndjson'));
}

describe('workers apply a run only with its knowledge (the knowledge digest)', () => {
  it('a worker with one ValueSet code more gives every job back and says so; with a right worker beside it the output is the single-process batch', async () => {
    const altered = folderWithOneMoreCode([KNOWLEDGE]);
    const alteredDigest = loadKnowledge([altered]).digest;
    expect(alteredDigest).not.toBe(digest);
    // The altered worker as the CLI runs it, alone on the queue first, so it surely meets the run's jobs.
    const cli = spawn(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/cli/main.ts'), 'worker', '--queue', redis.url, '--knowledge', altered, '--lock-ms', '2000'], {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    try {
      while (!stderr.includes('waiting for batch jobs')) {
        if (cli.exitCode !== null) throw new Error(stderr);
        await sleep(50);
      }
      expect(stderr).toContain(`worker: knowledge ${alteredDigest};`);
      const notices: string[] = [];
      const out = mkdtempSync(join(tmpdir(), 'ip-qmismatch-out-'));
      let runId = '';
      const run = runOn(out, {
        onRun: (id) => {
          runId = id;
        },
        onNotice: (m) => notices.push(m),
      });
      while (!stderr.includes('given back unapplied')) await sleep(50);
      expect(stderr).toContain(`run ${runId} was started with knowledge ${digest}, this worker has ${alteredDigest}`);
      let applied = 0;
      const right = startQueueWorker({
        url: redis.url,
        knowledge: loadKnowledge([KNOWLEDGE]),
        lockMs: 2000,
        onJob: () => {
          applied++;
        },
      });
      try {
        const summary = await run;
        expect(summary).toMatchObject({ patients: PATIENTS, deadLetters: 0, knowledgeDigest: digest });
        expect(summary.knowledgeRefusals).toBeGreaterThan(0);
        expect(applied).toBe(summary.jobs);
        expectSingleProcessOutput(out);
        expect(notices.some((n) => n.includes(`other knowledge (digest ${alteredDigest}; the run's is ${digest})`))).toBe(true);
      } finally {
        await right.close();
      }
    } finally {
      cli.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/worker: stopped after 0 job\(s\), 0 patient\(s\); gave \d+ job\(s\) back/);
  }, 90_000);

  it('with only workers of other knowledge the run does not wait forever: the jobs become dead letters naming the run digest, nothing is applied, no job is left on the queue', async () => {
    let applied = 0;
    const wrong = startQueueWorker({
      url: redis.url,
      knowledge: compileKnowledge(artifactsWithOneMoreCode([KNOWLEDGE])),
      lockMs: 2000,
      refusalPauseMs: 100,
      onJob: () => {
        applied++;
      },
    });
    const client = new Redis(redis.url);
    const queue = new Queue(BATCH_QUEUE, { connection: client });
    try {
      const out = mkdtempSync(join(tmpdir(), 'ip-qmismatch-out-'));
      const summary = await runOn(out, { maxJobBytes: 64 * 1024, knowledgeWaitMs: 2000 });
      expect(summary.deadLetters).toBe(summary.jobs);
      expect(summary.knowledgeRefusals).toBeGreaterThan(0);
      expect(applied).toBe(0);
      expect(read(out, 'CarePlan.ndjson')).toBe('');
      const dead = read(out, 'OperationOutcome.ndjson')
        .split('\n')
        .filter((l) => l.includes('dead letter'));
      expect(dead).toHaveLength(summary.jobs);
      expect(dead[0]).toContain(`no worker with this run's knowledge (digest ${digest})`);
      // Jobs a worker held at that moment are dropped by it: the run is over.
      const left = async () => (await queue.getJobs(['wait', 'delayed', 'active', 'prioritized', 'failed'])).filter((j) => (j.data as { runId: string }).runId === summary.runId);
      for (let i = 0; i < 50 && (await left()).length > 0; i++) await sleep(100);
      expect(await left()).toEqual([]);
    } finally {
      await wrong.close();
      await queue.close();
      client.disconnect();
    }
  }, 60_000);

  it('refuses a --resume whose knowledge is not the run’s (invalid, exit 2), before touching the run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qmismatch-out-'));
    const { runId, run } = await startIdleRun(out);
    const alteredDigest = compileKnowledge(artifactsWithOneMoreCode([KNOWLEDGE])).digest;
    const refused = await runOn(out, { resume: runId, knowledgeDigest: alteredDigest }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const outcome = toOperationOutcome(refused);
    expect(outcome.issue[0]).toMatchObject({ code: 'invalid', expression: ['--knowledge'] });
    expect(outcome.issue[0]!.diagnostics).toContain(`the run was started with other knowledge (digest ${digest}; this coordinator's is ${alteredDigest})`);
    expect(exitCodeOf(outcome, 'failure')).toBe(2);
    const worker = startQueueWorker({ url: redis.url, knowledge: loadKnowledge([KNOWLEDGE]), lockMs: 2000 });
    try {
      expect(await run).toMatchObject({ runId, patients: PATIENTS, deadLetters: 0, resumed: false });
      expectSingleProcessOutput(out);
    } finally {
      await worker.close();
    }
  }, 60_000);
});

describe('one coordinator per run (the run lock)', () => {
  it('a --resume while the run’s coordinator lives waits the lock’s TTL (renewed meanwhile) and is refused (conflict, exit 2); the live one finishes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qlock-out-'));
    const { runId, run } = await startIdleRun(out, { lockTtlMs: 900 });
    const notices: string[] = [];
    const started = Date.now();
    const refused = await runOn(mkdtempSync(join(tmpdir(), 'ip-qlock-out-')), { resume: runId, lockTtlMs: 900, onNotice: (m) => notices.push(m) }).then(
      () => undefined,
      (err: unknown) => err,
    );
    // Longer than one TTL: the live coordinator renewed its lock while this one waited.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(notices[0]).toContain(`run ${runId} is locked by another coordinator: waiting up to`);
    const outcome = toOperationOutcome(refused);
    expect(outcome.issue[0]).toMatchObject({ code: 'conflict' });
    expect(outcome.issue[0]!.diagnostics).toContain('another coordinator is running it');
    expect(exitCodeOf(outcome, 'failure')).toBe(2);
    const worker = startQueueWorker({ url: redis.url, knowledge: loadKnowledge([KNOWLEDGE]), lockMs: 2000 });
    try {
      expect(await run).toMatchObject({ runId, patients: PATIENTS, deadLetters: 0 });
      expectSingleProcessOutput(out);
    } finally {
      await worker.close();
    }
    const client = new Redis(redis.url);
    try {
      expect(await client.exists(runKeys(runId).lock)).toBe(0);
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it('a coordinator whose lock another took over stops (conflict) instead of writing beside it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-qlock-out-'));
    const { runId, run } = await startIdleRun(out, { lockTtlMs: 600 });
    const client = new Redis(redis.url);
    try {
      await client.set(runKeys(runId).lock, 'another-coordinator', 'PX', 60_000);
      const stopped = await run.then(
        () => undefined,
        (err: unknown) => err,
      );
      const outcome = toOperationOutcome(stopped);
      expect(outcome.issue[0]).toMatchObject({ code: 'conflict' });
      expect(outcome.issue[0]!.diagnostics).toContain('another coordinator took its lock over');
      // Not its lock: left to its holder.
      expect(await client.get(runKeys(runId).lock)).toBe('another-coordinator');
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
