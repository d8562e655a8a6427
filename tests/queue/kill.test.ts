/**
 * Kill tests of the distributed batch, all real: a redis-server with append-only persistence
 * (fsync always), the CLI's `worker` and `batch --queue` as child processes, the real protocols over
 * a synthetic export. Whatever is killed - a worker (kill -9 mid-run), the coordinator (kill -9,
 * then `--resume <run id>`), Redis itself (kill -9 and restart) - the output is the single-process
 * batch's, byte for byte: nothing lost, nothing twice. Two coordinators resuming one run at once:
 * one finishes it, the other is refused (the run lock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../bench/population.ts';
import { runBatch } from '../../src/batch/run-batch.ts';
import { selectPlans } from '../../src/cli/commands/batch.ts';
import { DEFAULT_ARTIFACT_DIRS } from '../../src/knowledge/load-artifacts.ts';
import { runKeys } from '../../src/queue/run-keys.ts';
import { ROOT } from '../support/cli.ts';
import { startRedis, type RedisProcess } from './redis-process.ts';

const NOW = '2026-11-23T09:00:00+08:00';
const PATIENTS = 600;
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/cli/main.ts');

interface Started {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

const children: ChildProcess[] = [];

function startCli(args: string[]): Started {
  const child = spawn(NODE, [MAIN, ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 40_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let redis: RedisProcess;
let client: Redis;
let input: string;
let single: string;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  input = mkdtempSync(join(tmpdir(), 'ip-kill-in-'));
  await generate(input, PATIENTS);
  single = mkdtempSync(join(tmpdir(), 'ip-kill-single-'));
  const plans = selectPlans(DEFAULT_ARTIFACT_DIRS, undefined).map((p) => ({ url: p.url!, version: p.version! }));
  await runBatch({ inDir: input, outDir: single, knowledgePaths: DEFAULT_ARTIFACT_DIRS, planRefs: plans, now: NOW, mode: 'r4', workers: 1 });
}, 60_000);

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

async function startWorkers(count: number): Promise<Started[]> {
  const workers = Array.from({ length: count }, () => startCli(['worker', '--queue', redis.url, '--lock-ms', '2000']));
  await waitFor('the workers to load the protocols', () => workers.every((w) => w.stderr().includes('waiting for batch jobs')));
  return workers;
}

function startCoordinator(out: string, resume?: string): Started {
  // A window of 4 jobs: results leave Redis for the coordinator's disk as they come, so a resume
  // must finish from what it collected on disk and what is still in Redis. A run lock of 3 s: a
  // resume waits that long at most for the killed coordinator's lock.
  return startCli([
    'batch',
    '--in',
    input,
    '--out',
    out,
    '--queue',
    redis.url,
    '--now',
    NOW,
    '--max-shard-mb',
    '0.1',
    '--window',
    '4',
    '--run-lock-ms',
    '3000',
    ...(resume ? ['--resume', resume] : []),
  ]);
}

async function runIdOf(coordinator: Started): Promise<string> {
  let runId = '';
  await waitFor('the run id', () => {
    runId = /batch: run ([A-Za-z0-9-]+)/.exec(coordinator.stderr())?.[1] ?? '';
    return runId !== '';
  });
  return runId;
}

/** Jobs with a result: collected by the coordinator, or waiting in Redis. */
const results = async (runId: string) => (await client.scard(runKeys(runId).collected)) + (await client.hlen(runKeys(runId).results));

/** Two workers and a coordinator on `out`, the coordinator killed with -9 once `progressed`; its run id. */
async function killCoordinatorMidRun(out: string, progressed: (runId: string) => Promise<boolean> = async (runId) => (await results(runId)) >= 3): Promise<string> {
  await startWorkers(2);
  const first = startCoordinator(out);
  const runId = await runIdOf(first);
  await waitFor('a few results', () => progressed(runId));
  first.child.kill('SIGKILL');
  await first.exit;
  return runId;
}

function expectSameOutput(out: string): void {
  const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
  expect(read(out, 'CarePlan.ndjson').split('\n').filter(Boolean)).toHaveLength(PATIENTS);
  expect(read(out, 'CarePlan.ndjson')).toBe(read(single, 'CarePlan.ndjson'));
  expect(read(out, 'OperationOutcome.ndjson')).toBe(read(single, 'OperationOutcome.ndjson'));
  expect(readdirSync(out).sort()).toEqual(['CarePlan.ndjson', 'OperationOutcome.ndjson']);
}

describe('distributed batch under kill -9', () => {
  it('a worker killed mid-run: its job is taken again by the other worker, nothing lost or twice', async () => {
    const [doomed, survivor] = await startWorkers(2);
    const out = mkdtempSync(join(tmpdir(), 'ip-kill-out-'));
    const coordinator = startCoordinator(out);
    const runId = await runIdOf(coordinator);
    await waitFor('a few results', async () => (await results(runId)) >= 3);
    doomed!.child.kill('SIGKILL');
    expect(await coordinator.exit).toBe(0);
    expect(JSON.parse(coordinator.stdout())).toMatchObject({ patients: PATIENTS, deadLetters: 0 });
    expectSameOutput(out);
    survivor!.child.kill('SIGTERM');
    expect(await survivor!.exit).toBe(0);
  }, 60_000);

  it('the coordinator killed mid-run: --resume <run id> enqueues only what has no result and writes the same output', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-kill-out-'));
    const runId = await killCoordinatorMidRun(out);
    const resumed = startCoordinator(out, runId);
    expect(await resumed.exit).toBe(0);
    const summary = JSON.parse(resumed.stdout()) as { runId: string; resumed: boolean; jobs: number; enqueued: number; deadLetters: number };
    expect(summary).toMatchObject({ runId, resumed: true, deadLetters: 0 });
    expect(summary.enqueued).toBeLessThan(summary.jobs);
    expectSameOutput(out);
  }, 60_000);

  it('the coordinator killed and resumed with another --out (its collected results are not there): those jobs are done again, same output', async () => {
    const runId = await killCoordinatorMidRun(mkdtempSync(join(tmpdir(), 'ip-kill-out-')), async (id) => (await client.scard(runKeys(id).collected)) >= 3);
    const elsewhere = mkdtempSync(join(tmpdir(), 'ip-kill-out-'));
    const resumed = startCoordinator(elsewhere, runId);
    expect(await resumed.exit).toBe(0);
    expect(JSON.parse(resumed.stdout())).toMatchObject({ runId, resumed: true, deadLetters: 0, patients: PATIENTS });
    expectSameOutput(elsewhere);
  }, 60_000);

  it('two coordinators resuming the killed one at once: one finishes the run, the other is refused (exit 2) without touching it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-kill-out-'));
    const runId = await killCoordinatorMidRun(out);
    const both = [startCoordinator(out, runId), startCoordinator(out, runId)];
    const codes = await Promise.all(both.map((c) => c.exit));
    expect([...codes].sort()).toEqual([0, 2]);
    const winner = both[codes.indexOf(0)]!;
    const loser = both[codes.indexOf(2)]!;
    expect(JSON.parse(winner.stdout())).toMatchObject({ runId, resumed: true, deadLetters: 0, patients: PATIENTS });
    // The CLI's failure: one OperationOutcome on stdout, a line on stderr, no summary.
    const refusal = JSON.parse(loser.stdout()) as { resourceType: string; issue: { code: string; diagnostics: string }[] };
    expect(refusal).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'conflict' }] });
    expect(refusal.issue[0]!.diagnostics).toContain(`run ${runId}: another coordinator is running it`);
    expect(loser.stderr()).toContain('is locked by another coordinator: waiting up to');
    expect(loser.stderr()).not.toMatch(/\n\s+at /);
    expectSameOutput(out);
  }, 60_000);

  it('Redis killed and restarted (append-only file): workers and coordinator reconnect, nothing lost or twice', async () => {
    await startWorkers(2);
    const out = mkdtempSync(join(tmpdir(), 'ip-kill-out-'));
    const coordinator = startCoordinator(out);
    const runId = await runIdOf(coordinator);
    await waitFor('a few results', async () => (await results(runId)) >= 3);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    expect(await coordinator.exit).toBe(0);
    expect(JSON.parse(coordinator.stdout())).toMatchObject({ patients: PATIENTS, deadLetters: 0 });
    expectSameOutput(out);
  }, 60_000);
});
