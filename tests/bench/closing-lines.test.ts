/**
 * The benches' closing lines are read by scripts: their format is checked here on tiny runs.
 * Only the format - the figures themselves are never asserted (timed assertions flake on shared
 * machines); `npm run bench:*` prints them.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runBench(script: string, args: string[], env: Record<string, string>): string[] {
  const run = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', ...env }, maxBuffer: 16 << 20 });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trimEnd().split('\n');
}

function lastLine(script: string, args: string[], env: Record<string, string>): string {
  return runBench(script, args, env).at(-1) ?? '';
}

describe('bench closing lines', () => {
  it('bench:fhirpath ends with the fast path ratio, expression and input counts, and 0 disagreements', () => {
    const line = lastLine('bench/fhirpath.ts', [], { BENCH_PATIENTS: '20', BENCH_REPEAT: '1' });
    expect(line).toMatch(/^fast path: \d+\.\dx fhirpath\.js over \d+ expressions x \d+ inputs, 0 disagreements$/);
  }, 180_000);

  // With the queue section (#17, redis-server from .ci/run): bench/queue.ts is imported while
  // batch.ts's own top-level await is pending, which once deadlocked on an import cycle (exit 13,
  // no closing line).
  it('bench:batch prints the queue ratios, then ends with patients/s per core with the fast path and with fhirpath.js only, and their ratio', () => {
    const lines = runBench('bench/batch.ts', ['40'], { BENCH_REPEAT: '1', BENCH_CEILING_PATIENTS: '20', BENCH_QUEUE_PATIENTS: '30' });
    expect(lines.some((l) => /^ratio 2 workers \/ 1 worker: \d+\.\d+x \(target >= 1\.6x\)$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^batch: \d+ patients\/s per core with the fast path, \d+ with fhirpath\.js only \(\d+\.\dx\)$/);
  }, 300_000);
});
