/**
 * `worker --idle-exit <s>` as a real process on a real redis-server: it waits for work however long
 * the queue stays empty before its first job, applies the run's jobs, and exits 0 by itself once
 * the queue has been empty for that long - so workers started for one run end with it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { runQueuedBatch } from '../../src/queue/coordinator.ts';
import { ROOT } from '../support/cli.ts';
import { startRedis, type RedisProcess } from './redis-process.ts';

const NOW = '2026-11-23T09:00:00+08:00';
const BULK = join(ROOT, 'examples/bulk');

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis.stop();
});

/** `worker --idle-exit <s>` as a process, once it is waiting for jobs. */
async function startWorker(idleExit: string) {
  const worker = spawn(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/cli/main.ts'), 'worker', '--queue', redis.url, '--idle-exit', idleExit], {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  worker.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  while (!text.includes('waiting for batch jobs')) {
    if (worker.exitCode !== null) throw new Error(`the worker exited: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { worker, exited, stderr: () => text };
}

describe('worker --idle-exit', () => {
  it('stays up while no job has come, then exits 0 once its run is over and the queue stays empty', async () => {
    const { worker, stderr, exited } = await startWorker('1');
    try {
      // Longer than --idle-exit with an empty queue: no job done yet, so it is still there.
      await new Promise((r) => setTimeout(r, 2500));
      expect(worker.exitCode).toBeNull();
      const out = mkdtempSync(join(tmpdir(), 'ip-idle-out-'));
      const knowledgeDigest = loadKnowledge(DEFAULT_ARTIFACT_DIRS).digest;
      const summary = await runQueuedBatch({ url: redis.url, inDir: BULK, outDir: out, planRefs: [], knowledgeDigest, now: NOW, mode: 'r4' });
      expect(summary.deadLetters).toBe(0);
      expect(readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8')).toBe('');
      expect(await exited).toBe(0);
      expect(stderr()).toMatch(new RegExp(`stopped after ${summary.jobs} job\\(s\\)`));
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
  }, 60_000);

  it('still stops at once on SIGTERM, exit 0, while it waits for the queue to go quiet', async () => {
    const { worker, stderr, exited } = await startWorker('600');
    try {
      // Let the idle check poll the queue at least once before the signal.
      await new Promise((r) => setTimeout(r, 1200));
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr()).toContain('worker: stopped after 0 job(s)');
      expect(stderr()).not.toMatch(/\n\s+at /);
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
  }, 60_000);
});
