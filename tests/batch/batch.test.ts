import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run-batch.ts';
import { KNOWLEDGE, NOW, cli } from '../support/cli.ts';
import { DEMO_PLAN, pregnancyTestExport } from '../support/bulk-export.ts';

const PLAN = DEMO_PLAN;
const exportDir = (n: number, extra: { observations?: string[] } = {}) => pregnancyTestExport(n, { extraObservations: extra.observations ?? [] });

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('batch', () => {
  it('applies the plan to every patient, one CarePlan per patient, and leaves no work files', async () => {
    const input = exportDir(40);
    const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
    const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 2 });
    expect(summary).toMatchObject({ patients: 40, plans: 1, lines: 81, skipped: 1, failures: 0 });
    const carePlans = lines(join(out, 'CarePlan.ndjson')).map((l) => JSON.parse(l));
    expect(carePlans).toHaveLength(40);
    expect(new Set(carePlans.map((c) => c.id)).size).toBe(40);
    const withRequest = carePlans.filter((c) => c.contained.some((r: { resourceType: string }) => r.resourceType === 'ServiceRequest'));
    expect(withRequest).toHaveLength(20);
    expect(readdirSync(out).sort()).toEqual(['CarePlan.ndjson', 'OperationOutcome.ndjson']);
  });

  it('reports every bad line with file:line, never stops, and loses nothing', async () => {
    const input = exportDir(10, {
      observations: [
        '{not json',
        JSON.stringify({ resourceType: 'Observaton', id: 'typo' }),
        JSON.stringify({ resourceType: 'Observation', id: 'orphan', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/ghost' } }),
        JSON.stringify({ resourceType: 'Observation', id: 'nobody', status: 'final', code: { text: 'x' } }),
      ],
    });
    const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
    const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 3 });
    expect(summary.patients).toBe(10);
    const failures = lines(join(out, 'OperationOutcome.ndjson')).map((l) => JSON.parse(l).issue[0].diagnostics);
    // The extra lines were written first, reversed: nobody = line 1, orphan = 2, typo = 3, bad JSON = 4.
    expect(failures).toEqual([
      expect.stringMatching(/^Observation.ndjson:1: Observation\/nobody names no Patient/),
      expect.stringMatching(/^Observation.ndjson:3: 'Observaton' is not an R4 resource type/),
      expect.stringMatching(/^Observation.ndjson:4: malformed JSON/),
      expect.stringMatching(/^Observation.ndjson:2: Observation\/orphan references Patient\/ghost, which is not in the export/),
    ]);
    expect(summary.failures).toBe(4);
  });

  it('output is byte-identical whatever the number of workers, shard size and input chunk size', async () => {
    const input = exportDir(60, {
      observations: ['{bad', JSON.stringify({ resourceType: 'Observation', id: 'x', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/ghost' } })],
    });
    const outs = await Promise.all(
      [{ workers: 1 }, { workers: 4 }, { workers: 2, maxShardBytes: 2_000 }, { workers: 3, chunkBytes: 100 }].map(async (o) => {
        const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
        const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', ...o });
        return { text: readFileSync(join(out, 'CarePlan.ndjson'), 'utf8'), failures: readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8'), summary };
      }),
    );
    for (const other of outs.slice(1)) {
      expect(other.text).toBe(outs[0]!.text);
      expect(other.failures).toBe(outs[0]!.failures);
    }
    expect(outs[0]!.text.split('\n').filter(Boolean)).toHaveLength(60);
    expect(outs[0]!.failures).toMatch(/Observation.ndjson:2: malformed JSON[\s\S]*Observation.ndjson:1: Observation\/x references Patient\/ghost/);
  });

  it('memory bound: no worker ever holds a shard above the budget, unless one patient alone is bigger', async () => {
    const input = exportDir(200);
    const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
    const small = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 2, maxShardBytes: 1_500 });
    expect(small.patients).toBe(200);
    // 200 patients x ~430 bytes could not fit 1.5 kB shards without the splitting.
    expect(small.largestShardBytes).toBeGreaterThan(0);
    expect(small.largestShardBytes).toBeLessThanOrEqual(1_500);

    // One patient with 40 observations (> 1.5 kB) cannot be split: it is applied whole, and not lost.
    const big = exportDir(3, {
      observations: Array.from({ length: 40 }, (_, i) =>
        JSON.stringify({ resourceType: 'Observation', id: `big${i}`, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } }),
      ),
    });
    const bigOut = mkdtempSync(join(tmpdir(), 'ip-out-'));
    const whole = await runBatch({ inDir: big, outDir: bigOut, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 1, maxShardBytes: 1_500 });
    expect(whole).toMatchObject({ patients: 3, failures: 0 });
    expect(whole.largestShardBytes).toBeGreaterThan(1_500);
  });

  it('back-pressure: input chunks in flight to the workers never exceed 2 per worker', async () => {
    const input = exportDir(100);
    for (const workers of [1, 3]) {
      const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
      // 64-byte chunks: hundreds of chunks, produced far faster than the workers parse them.
      const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers, chunkBytes: 64 });
      expect(summary.patients).toBe(100);
      expect(summary.maxChunksInFlight).toBe(2 * workers);
    }
  });

  it('CLI: exit 1 when lines failed, summary JSON on stdout; a missing --in is exit 2', async () => {
    const input = exportDir(4, { observations: ['{bad'] });
    const out = join(mkdtempSync(join(tmpdir(), 'ip-out-')), 'results');
    const run = await cli(['batch', '--in', input, '--out', out, '--knowledge', KNOWLEDGE, '--now', NOW, '--workers', '2', '--mode', 'cpg']);
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({
      patients: 4,
      failures: 1,
      output: [
        { file: 'Bundle.ndjson', lines: 4 },
        { file: 'OperationOutcome.ndjson', lines: 1 },
      ],
    });
    expect(lines(join(out, 'Bundle.ndjson')).map((l) => JSON.parse(l).resourceType)).toEqual(['Bundle', 'Bundle', 'Bundle', 'Bundle']);
    const missing = await cli(['batch', '--in', '/no/such/dir', '--out', out, '--knowledge', KNOWLEDGE, '--now', NOW]);
    expect(missing.code).toBe(2);
    expect(missing.json.issue[0].diagnostics).toMatch(/--in \/no\/such\/dir: no such folder/);
    const unknownPlan = await cli(['batch', '--in', input, '--out', out, '--knowledge', KNOWLEDGE, '--now', NOW, '--plan', 'nope']);
    expect(unknownPlan.code).toBe(2);
  });
});
