/** The bundled Bulk Data export (examples/bulk) is the example patients, and `batch` runs on it. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { bulkExportOfExamples } from '../../scripts/examples-to-bulk.ts';
import { cli } from '../support/cli.ts';

const BULK = join(PROJECT_ROOT, 'examples', 'bulk');

describe('examples/bulk', () => {
  it('is in sync with examples/*.json (regenerate with: npx node scripts/examples-to-bulk.ts)', () => {
    const expected = bulkExportOfExamples();
    expect(readdirSync(BULK).sort()).toEqual([...expected.keys()]);
    for (const [file, text] of expected) expect(readFileSync(join(BULK, file), 'utf8'), file).toBe(text);
  });

  it('batch gives one CarePlan per example patient and no failures', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ip-bulk-'));
    const run = await cli(['batch', '--in', BULK, '--out', out, '--now', '2026-11-23T09:00:00Z', '--workers', '1']);
    expect(run.code, run.stderr).toBe(0);
    const patients = readFileSync(join(BULK, 'Patient.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id as string);
    const carePlans = readFileSync(join(out, 'CarePlan.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(carePlans.map((c) => c.subject.reference).sort()).toEqual(patients.map((id) => `Patient/${id}`).sort());
    expect(readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8')).toBe('');
  });
});
