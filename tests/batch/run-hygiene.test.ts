/**
 * Batch hygiene: the run folder (work files = patient data, and the outputs until they are
 * committed) never outlives the run - success, error, SIGINT, SIGTERM - and what a kill -9 leaves
 * is swept by the next run; outputs are committed with one rename; --out may not be --in, inside
 * it, contain it, or hold someone else's files; each orphan line is its own failure; a resource
 * that is not R4 in shape refuses its patient at its file:line.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run-batch.ts';
import { KNOWLEDGE, NOW, ROOT, cli } from '../support/cli.ts';

const PLAN = { url: 'http://example.org/fhir/PlanDefinition/demo-protocol', version: '1.0.0' };

function observation(id: string, patient: string, extra = ''): string {
  return `{"resourceType":"Observation","id":"${id}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2106-3"}]},"subject":{"reference":"Patient/${patient}"},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}${extra}}`;
}

function exportDir(patients: number, extraObservations: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'ip-hygiene-in-'));
  const ids = Array.from({ length: patients }, (_, i) => `p${i}`);
  writeFileSync(join(dir, 'Patient.ndjson'), ids.map((id) => `{"resourceType":"Patient","id":"${id}","gender":"female","birthDate":"1990-01-01"}\n`).join(''));
  writeFileSync(join(dir, 'Observation.ndjson'), [...extraObservations, ...ids.map((id) => observation(`o-${id}`, id))].map((l) => `${l}\n`).join(''));
  return dir;
}

/** Run folders and old versions' work folders next to or inside `out`. */
function leftovers(out: string): string[] {
  const parent = join(out, '..');
  const beside = readdirSync(parent).filter((e) => e.startsWith('.batch-'));
  const within = existsSync(out) ? readdirSync(out).filter((e) => e.startsWith('.batch-') || /\.tmp-\d+$/.test(e)) : [];
  return [...beside, ...within];
}

const failures = (out: string) =>
  readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).issue[0].diagnostics as string);

/** The real CLI as a child process, killed with `signal` as soon as its run folder exists. */
function killMidRun(input: string, out: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; seen: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/infertility-protocols.js'), 'batch', '--in', input, '--out', out, '--knowledge', KNOWLEDGE, '--now', NOW, '--workers', '2'],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    let seen: string[] = [];
    const poll = setInterval(() => {
      const now = leftovers(out);
      if (now.some((e) => e.startsWith('.batch-run-')) && existsSync(join(out, '..', now[0]!, '.work'))) {
        seen = now;
        clearInterval(poll);
        child.kill(signal);
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, seen });
    });
  });
}

describe('batch run folder', () => {
  it('commits with one rename: --out holds exactly the outputs, nothing is left beside it, a re-run replaces them', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ip-hygiene-'));
    const out = join(parent, 'results');
    await runBatch({ inDir: exportDir(5), outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 2 });
    expect(readdirSync(out).sort()).toEqual(['CarePlan.ndjson', 'OperationOutcome.ndjson']);
    expect(readdirSync(parent)).toEqual(['results']);
    await runBatch({ inDir: exportDir(2), outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'cpg', workers: 1 });
    // The previous run's CarePlan.ndjson is gone: the folder was replaced as a whole.
    expect(readdirSync(out).sort()).toEqual(['Bundle.ndjson', 'OperationOutcome.ndjson']);
    expect(readFileSync(join(out, 'Bundle.ndjson'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    expect(readdirSync(parent)).toEqual(['results']);
  });

  it('a run that fails leaves no run folder and no output', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ip-hygiene-'));
    const out = join(parent, 'results');
    await expect(
      runBatch({ inDir: exportDir(3), outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [{ url: 'http://example.org/no-such-plan' }], now: NOW, mode: 'r4', workers: 1 }),
    ).rejects.toThrow();
    expect(readdirSync(parent)).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s mid-run: the run folder (patient data) is removed and nothing is committed',
    async (signal) => {
      const parent = mkdtempSync(join(tmpdir(), 'ip-hygiene-'));
      const out = join(parent, 'results');
      const run = await killMidRun(exportDir(3000), out, signal);
      expect(run.seen.length).toBeGreaterThan(0);
      expect(run.signal).toBe(signal);
      expect(readdirSync(parent)).toEqual([]);
    },
    60_000,
  );

  it('kill -9 mid-run leaves the run folder; the next run sweeps it and commits a complete result', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ip-hygiene-'));
    const out = join(parent, 'results');
    const input = exportDir(3000);
    const killed = await killMidRun(input, out, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(leftovers(out).some((e) => e.startsWith('.batch-run-results-'))).toBe(true);
    const again = await cli(['batch', '--in', input, '--out', out, '--knowledge', KNOWLEDGE, '--now', NOW, '--workers', '1']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/removed 1 folder\(s\) left by an interrupted run: .*\.batch-run-results-/);
    expect(leftovers(out)).toEqual([]);
    expect(readdirSync(parent)).toEqual(['results']);
    expect(readFileSync(join(out, 'CarePlan.ndjson'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3000);
  }, 120_000);
});

describe('batch --out', () => {
  it('is refused when it is --in, inside --in, contains --in, or holds other files (exit 2, nothing written)', async () => {
    const input = exportDir(2);
    const base = ['batch', '--knowledge', KNOWLEDGE, '--now', NOW, '--workers', '1'];
    const same = await cli([...base, '--in', input, '--out', input]);
    expect(same.code).toBe(2);
    expect(same.json.issue[0].diagnostics).toMatch(/--out .* is --in or inside it/);
    const within = await cli([...base, '--in', input, '--out', join(input, 'results')]);
    expect(within.code).toBe(2);
    expect(within.json.issue[0].diagnostics).toMatch(/is --in or inside it/);
    const dotted = await cli([...base, '--in', input, '--out', join(input, 'x', '..')]);
    expect(dotted.code).toBe(2);
    const outer = await cli([...base, '--in', input, '--out', join(input, '..')]);
    expect(outer.code).toBe(2);
    expect(outer.json.issue[0].diagnostics).toMatch(/--in .* is inside --out/);
    expect(readdirSync(input).sort()).toEqual(['Observation.ndjson', 'Patient.ndjson']);

    const busy = mkdtempSync(join(tmpdir(), 'ip-hygiene-busy-'));
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    mkdirSync(join(busy, 'keep'));
    const foreign = await cli([...base, '--in', input, '--out', busy]);
    expect(foreign.code).toBe(2);
    expect(foreign.json.issue[0].diagnostics).toMatch(/holds files that are not batch outputs \(keep, notes.txt\)/);
    expect(readdirSync(busy).sort()).toEqual(['keep', 'notes.txt']);
    const file = await cli([...base, '--in', input, '--out', join(busy, 'notes.txt')]);
    expect(file.code).toBe(2);
    expect(file.json.issue[0].diagnostics).toMatch(/is a file, not a folder/);
  }, 60_000);
});

describe('batch failures per line', () => {
  it('one OperationOutcome per orphan line, each at its file:line', async () => {
    const input = exportDir(1, [observation('a', 'ghost'), observation('b', 'ghost'), observation('c', 'ghost')]);
    const out = mkdtempSync(join(tmpdir(), 'ip-hygiene-out-'));
    const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 2 });
    expect(summary.failures).toBe(3);
    expect(failures(out)).toEqual([
      'Observation.ndjson:1: Observation/a references Patient/ghost, which is not in the export',
      'Observation.ndjson:2: Observation/b references Patient/ghost, which is not in the export',
      'Observation.ndjson:3: Observation/c references Patient/ghost, which is not in the export',
    ]);
  });

  it('a resource that is not R4 in shape refuses its patient, at its file:line; the others are applied', async () => {
    const input = exportDir(3, [observation('bad-date', 'p1', ',"effectiveDateTime":"2026-02-30"').replace('"code":{"coding":[', '"code":{"coding":[null,')]);
    const out = mkdtempSync(join(tmpdir(), 'ip-hygiene-out-'));
    const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers: 1 });
    expect(summary.patients).toBe(3);
    expect(failures(out)).toEqual([
      'Observation.ndjson:1: Observation.code.coding[0]: null is not a FHIR value (leave the element out); Patient/p1 is not applied',
      'Observation.ndjson:1: Observation.effectiveDateTime: expected a dateTime on a real calendar day (dateTime), got the string "2026-02-30"; Patient/p1 is not applied',
    ]);
    const subjects = readFileSync(join(out, 'CarePlan.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).subject.reference);
    expect(subjects).toEqual(['Patient/p0', 'Patient/p2']);
  });
});
