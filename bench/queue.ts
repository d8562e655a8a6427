/**
 * Distributed batch throughput (issue #17): the same synthetic export (bench/population.ts's generator,
 * ~50 resources per patient, the work-up pathway) through
 *   1. the in-process ceiling per core: parse each patient's lines, index, apply, serialise - no
 *      partition, no files, no queue (what one core can do at best with this engine);
 *   2. the single-process batch with 1 worker thread;
 *   3. the distributed batch (coordinator here, `worker --queue` processes) with 1 and 2 workers,
 *      against a redis-server started for the run (temp folder, free port).
 * Prints patients/s, the ratios (single-process / ceiling, 2 workers / 1 worker), the queue's
 * overhead per job and Redis commands per patient. Figures only, no assertions. `npm run
 * bench:batch` ends with the same figures (printQueueRatios) when `redis-server` is on PATH.
 *
 *   npm run bench:queue                 # 5,000 patients
 *   npm run bench:queue -- 20000
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { PlanDefinition, Resource } from '@medplum/fhirtypes';
import { runBatch } from '../src/batch/run-batch.ts';
import { selectPlans } from '../src/cli/commands/batch.ts';
import { applyPlanDefinition, buildPatientData } from '../src/engine/index.ts';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge } from '../src/knowledge/load-artifacts.ts';
import { runQueuedBatch } from '../src/queue/coordinator.ts';
import { generate, patientRecord } from './population.ts';

const NOW = '2026-11-23T09:00:00+08:00';
const ROOT = resolve(import.meta.dirname, '..');
const SCRIPT = resolve(import.meta.dirname, 'queue.ts');

function ceilingPerCore(count: number): number {
  const knowledge = loadKnowledge(DEFAULT_ARTIFACT_DIRS);
  const plans = selectPlans(DEFAULT_ARTIFACT_DIRS, undefined).map((p) => knowledge.resolve<PlanDefinition>(`${p.url!}|${p.version!}`)!);
  const lines = Array.from({ length: count }, (_, i) => patientRecord(i).map((r) => JSON.stringify(r)));
  const run = () => {
    for (const record of lines) {
      const resources = record.map((l) => JSON.parse(l) as Resource);
      const subject = resources[0] as Resource & { resourceType: 'Patient' };
      const data = buildPatientData(resources);
      for (const plan of plans) JSON.stringify(applyPlanDefinition(plan, { subject, data }, { now: NOW }, knowledge).carePlan);
    }
  };
  run(); // warm-up (JIT)
  const started = performance.now();
  run();
  return count / ((performance.now() - started) / 1000);
}

async function startRedis(): Promise<{ url: string; port: number; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ip-bench-redis-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const client = new Redis({ port, lazyConnect: true, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.disconnect();
  return { url: `redis://127.0.0.1:${port}`, port, child, dir };
}

async function startWorkers(url: string, count: number): Promise<ChildProcess[]> {
  const workers = Array.from({ length: count }, () =>
    spawn(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/cli/main.ts'), 'worker', '--queue', url], {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((ready) => {
          let text = '';
          w.stderr.on('data', (d: Buffer) => {
            text += d.toString();
            if (text.includes('waiting for batch jobs')) ready();
          });
        }),
    ),
  );
  return workers;
}

async function commandsProcessed(url: string): Promise<number> {
  const client = new Redis(url);
  const info = await client.info('stats');
  client.disconnect();
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
}

export interface QueueRatios {
  /** Distributed with 2 worker processes / with 1. */
  twoWorkersOverOne: number;
  /** Single-process batch (1 thread) / the in-process ceiling per core. */
  singleOverCeiling: number;
  queueOverheadMsPerJob: number;
}

/** Runs the distributed bench over `patients` synthetic patients and prints its figures and ratios. */
export async function printQueueRatios(patients = Number(process.env['BENCH_QUEUE_PATIENTS'] ?? 3000)): Promise<QueueRatios | undefined> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('\nbench:queue skipped: no redis-server on PATH (the distributed ratios need one)');
    return undefined;
  }
  const input = mkdtempSync(join(tmpdir(), 'ip-bench-queue-in-'));
  await generate(input, patients);
  const planRefs = selectPlans(DEFAULT_ARTIFACT_DIRS, undefined).map((p) => ({ url: p.url!, version: p.version! }));
  const knowledgeDigest = loadKnowledge(DEFAULT_ARTIFACT_DIRS).digest;
  console.log(`\nbench:queue - ${patients} patients, ${readdirSync(input).length} NDJSON files, work-up pathway plan(s): ${planRefs.length}`);

  const ceiling = ceilingPerCore(Math.min(patients, 2000));
  console.log(`in-process ceiling per core (parse + index + apply + serialise): ${ceiling.toFixed(0)} patients/s`);

  const singleOut = mkdtempSync(join(tmpdir(), 'ip-bench-queue-single-'));
  let t = performance.now();
  await runBatch({ inDir: input, outDir: join(singleOut, 'out'), knowledgePaths: DEFAULT_ARTIFACT_DIRS, planRefs, now: NOW, mode: 'r4', workers: 1 });
  const single = patients / ((performance.now() - t) / 1000);
  console.log(`single-process batch, 1 worker thread: ${single.toFixed(0)} patients/s (${((single / ceiling) * 100).toFixed(0)}% of the ceiling)`);

  const redis = await startRedis();
  const distributed: Record<number, number> = {};
  let jobs = 0;
  try {
    for (const count of [1, 2]) {
      const workers = await startWorkers(redis.url, count);
      const out = mkdtempSync(join(tmpdir(), 'ip-bench-queue-out-'));
      const before = await commandsProcessed(redis.url);
      t = performance.now();
      const summary = await runQueuedBatch({ url: redis.url, inDir: input, outDir: join(out, 'out'), planRefs, knowledgeDigest, now: NOW, mode: 'r4' });
      const seconds = (performance.now() - t) / 1000;
      const commands = (await commandsProcessed(redis.url)) - before;
      jobs = summary.jobs;
      distributed[count] = patients / seconds;
      const same = readFileSync(join(out, 'out', 'CarePlan.ndjson'), 'utf8') === readFileSync(join(singleOut, 'out', 'CarePlan.ndjson'), 'utf8');
      console.log(
        `distributed, ${count} worker process(es): ${distributed[count].toFixed(0)} patients/s, ${summary.jobs} jobs, ${(commands / patients).toFixed(2)} Redis commands per patient (${commands} in all, coordinator polling included); output identical to single-process: ${same}`,
      );
      for (const w of workers) w.kill('SIGTERM');
      rmSync(out, { recursive: true, force: true });
    }
  } finally {
    redis.child.kill('SIGKILL');
    rmSync(redis.dir, { recursive: true, force: true });
  }
  const one = distributed[1]!;
  const two = distributed[2]!;
  console.log(`ratio 2 workers / 1 worker: ${(two / one).toFixed(2)}x (target >= 1.6x)`);
  console.log(`ratio single-process / ceiling per core: ${((single / ceiling) * 100).toFixed(0)}% (target >= 80%)`);
  // The queue's cost per job: what one distributed worker loses against the single-process batch.
  const overheadMs = ((patients / one - patients / single) * 1000) / jobs;
  console.log(`queue overhead: ${overheadMs.toFixed(1)} ms per job (${jobs} jobs of ~${(patients / jobs).toFixed(0)} patients; 1 distributed worker vs 1 thread)`);
  rmSync(input, { recursive: true, force: true });
  rmSync(singleOut, { recursive: true, force: true });
  return { twoWorkersOverOne: two / one, singleOverCeiling: single / ceiling, queueOverheadMsPerJob: overheadMs };
}

if (resolve(process.argv[1] ?? '') === SCRIPT) await printQueueRatios(Number(process.argv[2] ?? process.env['BENCH_PATIENTS'] ?? 5000));
