/**
 * Bad and unusual input lines, end to end. The partition routes most lines by a byte scan and
 * leaves their checking to phase 2; whichever phase finds a line bad, the failure must read as the
 * single-resource reader words it (what the partition reported for every line before the scan
 * existed), keep its file:line, and sit in input order among the other bad lines.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineFailure } from '../../src/batch/failures.ts';
import { runBatch } from '../../src/batch/run-batch.ts';
import { parseNdjsonLine, type InputProblem } from '../../src/data/read-input.ts';
import { KNOWLEDGE, NOW } from '../support/cli.ts';

const PLAN = { url: 'http://example.org/fhir/PlanDefinition/demo-protocol', version: '1.0.0' };

const observation = (id: string, rest: string) => `{"resourceType":"Observation","id":"${id}","status":"final","code":{"text":"x"},${rest}}`;

/** File name -> its lines, in order (a line may carry its own '\r'). */
const FILES: Record<string, string[]> = {
  'Observation.ndjson': [
    observation('o0', '"subject":{"reference":"Patient/p0"}'),
    observation('o1', '"subject":{"reference":"Patient/p1"}'),
    // 3: malformed, but with a plausible subject: the scan routes it to p0, phase 2 rejects it.
    observation('m1', '"subject":{"reference":"Patient/p0"},"valueQuantity":{"value":1.2.3}'),
    // 4: the scan gives up on it; the partition rejects it.
    '{not json',
    // 5: a contained resource names p0; the resource itself names ghost1.
    observation(
      'c1',
      '"contained":[{"resourceType":"Observation","id":"in","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p0"}}],"subject":{"reference":"Patient/ghost1"}',
    ),
    // 6: JSON whitespace everywhere.
    '{ "resourceType" : "Observation" , "id" : "w1" , "status" : "final" , "code" : { "text" : "x" } , "subject" : { "reference" : "Patient/ghost2" } }',
    observation('o2', '"subject":{"reference":"Patient/p2"}'),
    // 8: the only line that names ghost3, and it is malformed: no "not in the export" for ghost3.
    '{"resourceType":"Observation","subject":{"reference":"Patient/ghost3"},"v":nul}',
    // 9: well-formed JSON the reader rejects (bad id), routed by the scan.
    '{"resourceType":"Observation","id":"bad id","subject":{"reference":"Patient/p1"}}',
    // 10: malformed, ending in '\r' after the CR of its CRLF: the message quotes that '\r'.
    '{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"x":}\r\r',
    // 11: only nested elements name patients: the resource itself names none.
    observation('n1', '"focus":[{"reference":"Patient/p0"}],"component":[{"code":{"text":"c"},"subject":{"reference":"Patient/p0"}}]'),
  ],
  'Organization.ndjson': ['{"resourceType":"Organization","id":"org","partOf":{"reference":"Organization/x"}}'],
  'Patient.ndjson': [
    '{"resourceType":"Patient","id":"p0","gender":"female"}',
    '{"resourceType":"Patient","id":"p1","gender":"female"}',
    // 3: p2's Patient, malformed: p2's observation then references a Patient not in the export.
    '{"resourceType":"Patient","id":"p2","gender":"female","x":tru}',
    // 4: p1 again.
    '{"resourceType":"Patient","id":"p1","gender":"male"}',
    '{"resourceType":"Patient","id":"bad id"}',
  ],
  'Practitioner.ndjson': ['{"resourceType":"Practitioner","id":"dr"}', '{"resourceType":"Practitioner","id":"dr 2"}'],
};

function exportDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ip-bad-lines-'));
  for (const [name, lines] of Object.entries(FILES)) writeFileSync(join(dir, name), lines.map((l) => `${l}\n`).join(''));
  return dir;
}

/** The failure the reader's wording gives for line `n` of `file` (as the partition read it: one trailing '\r' cut). */
function readerFailure(file: string, n: number): string {
  const text = FILES[file]![n - 1]!.replace(/\r$/, '');
  const problems: InputProblem[] = [];
  expect(parseNdjsonLine(text, `${file}:${n}`, problems), text).toBeUndefined();
  return lineFailure(`${file}:${n}`, 'structure', problems[0]!.message);
}

const outcome = (location: string, code: 'required' | 'not-found' | 'structure', message: string) => lineFailure(location, code, message);

describe('batch: bad and unusual lines', () => {
  it("reports every bad line once, with the reader's wording and its file:line, in input order, whichever phase found it", async () => {
    const input = exportDir();
    const runs = await Promise.all(
      [{ workers: 1 }, { workers: 2 }, { workers: 3, chunkBytes: 120, maxShardBytes: 400 }].map(async (options) => {
        const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
        const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', ...options });
        return { summary, failures: readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8'), carePlans: readFileSync(join(out, 'CarePlan.ndjson'), 'utf8') };
      }),
    );
    const expected = [
      // Bad lines, in input order (files sorted by name), found by phase 2 or by the partition.
      readerFailure('Observation.ndjson', 3),
      readerFailure('Observation.ndjson', 4),
      readerFailure('Observation.ndjson', 8),
      readerFailure('Observation.ndjson', 9),
      readerFailure('Observation.ndjson', 10),
      outcome('Observation.ndjson:11', 'required', 'Observation/n1 names no Patient (id, subject or patient reference)'),
      readerFailure('Patient.ndjson', 3),
      readerFailure('Patient.ndjson', 5),
      readerFailure('Practitioner.ndjson', 2),
      // Then per patient, in patient-id order. The contained resource's p0 and the nested ones
      // were not taken for the line's patient; bad lines are not counted as a patient's resources.
      outcome('Observation.ndjson:5', 'not-found', 'Observation/c1 references Patient/ghost1, which is not in the export'),
      outcome('Observation.ndjson:6', 'not-found', 'Observation/w1 references Patient/ghost2, which is not in the export'),
      outcome('Patient.ndjson:4', 'structure', 'Patient/p1 appears more than once; the first one is used'),
      outcome('Observation.ndjson:7', 'not-found', 'Observation/o2 references Patient/p2, which is not in the export'),
    ];
    expect(runs[0]!.failures).toBe(expected.map((l) => `${l}\n`).join(''));
    // The messages are the reader's own: a sample, so a wrong wording cannot pass unnoticed.
    expect(runs[0]!.failures).toMatch(/Observation.ndjson:3: malformed JSON \(/);
    expect(runs[0]!.failures).toMatch(/Observation.ndjson:9: id must be 1-64/);
    expect(runs[0]!.summary).toMatchObject({ patients: 2, lines: 19, skipped: 2, failures: expected.length });
    expect(runs[0]!.carePlans.split('\n').filter(Boolean)).toHaveLength(2);
    for (const run of runs.slice(1)) {
      expect(run.failures).toBe(runs[0]!.failures);
      expect(run.carePlans).toBe(runs[0]!.carePlans);
      expect(run.summary).toMatchObject({ patients: 2, lines: 19, skipped: 2, failures: expected.length });
    }
  });

  it('a line longer than --max-line-mb is reported too-long with its file:line and skipped unread; the lines around it are applied', async () => {
    const input = exportDir();
    // A 20,000-byte Observation of p0 between two good lines, and a file that is one long line without a newline.
    const huge = observation('big', `"subject":{"reference":"Patient/p0"},"note":[{"text":"${'z'.repeat(20_000)}"}]`);
    writeFileSync(join(input, 'Observation.ndjson'), [FILES['Observation.ndjson']![0], huge, FILES['Observation.ndjson']![1]].map((l) => `${l}\n`).join(''));
    writeFileSync(join(input, 'Procedure.ndjson'), `{"resourceType":"Procedure","note":"${'q'.repeat(30_000)}"}`);
    const runs = await Promise.all(
      [{ workers: 1 }, { workers: 2, chunkBytes: 64 }, { workers: 2, chunkBytes: 1 << 20 }].map(async (options) => {
        const out = mkdtempSync(join(tmpdir(), 'ip-out-'));
        const summary = await runBatch({ inDir: input, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', maxLineBytes: 10_000, ...options });
        return { summary, failures: readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8'), carePlans: readFileSync(join(out, 'CarePlan.ndjson'), 'utf8') };
      }),
    );
    const tooLong = (location: string, bytes: number) =>
      lineFailure(location, 'too-long', `the line has ${bytes} bytes, more than the 10000 allowed (--max-line-mb); it was skipped unread`);
    const failures = runs[0]!.failures.split('\n').filter(Boolean);
    expect(failures[0]).toBe(tooLong('Observation.ndjson:2', Buffer.byteLength(huge)));
    expect(failures).toContain(tooLong('Procedure.ndjson:1', 30_000 + '{"resourceType":"Procedure","note":""}'.length));
    // p0 and p1 still get their CarePlans, from the good lines around the long one.
    const carePlans = runs[0]!.carePlans
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { subject?: { reference?: string } });
    expect(carePlans.map((c) => c.subject?.reference)).toEqual(expect.arrayContaining(['Patient/p0', 'Patient/p1']));
    for (const run of runs.slice(1)) {
      expect(run.failures).toBe(runs[0]!.failures);
      expect(run.carePlans).toBe(runs[0]!.carePlans);
      expect(run.summary.failures).toBe(runs[0]!.summary.failures);
    }
  });
});
