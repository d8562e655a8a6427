/**
 * `batch --in <FHIR server>`: the population is read from a real FHIR server (the Medplum fixture
 * over HTTP, which has no Bulk $export, so by paged search) and gives the output the same patients
 * give as an export folder.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cli } from '../support/cli.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const NOW = '2026-11-23T09:00:00+08:00';
const BULK = join(ROOT, 'examples/bulk');
let server: FhirTestServer;

beforeAll(async () => {
  server = await startFhirTestServer({ pageSize: 5 });
  for (const file of readdirSync(BULK).filter((f) => f.endsWith('.ndjson'))) {
    for (const line of readFileSync(join(BULK, file), 'utf8').split('\n').filter(Boolean)) await server.repo.updateResource(JSON.parse(line) as Resource);
  }
}, 60_000);
afterAll(() => server.close());

interface StoredCarePlan {
  subject: { reference: string };
  contained: { resourceType: string; code?: unknown; doNotPerform?: boolean }[];
}

const carePlans = (dir: string) =>
  readFileSync(join(dir, 'CarePlan.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StoredCarePlan);

/** Per patient, its requests' codes and do-not-perform flags: the decisions. */
const decisions = (plans: StoredCarePlan[]) =>
  plans.map((c) => c.contained.filter((r) => r.resourceType === 'ServiceRequest').map((r) => JSON.stringify([r.code, r.doNotPerform ?? false])));

describe('batch --in <FHIR server base>', () => {
  it('reads every patient by paged search and makes the decisions it makes for the same patients as an export folder', async () => {
    const fromServer = mkdtempSync(join(tmpdir(), 'ip-srv-out-'));
    const fromFolder = mkdtempSync(join(tmpdir(), 'ip-dir-out-'));
    const run = await cli(['batch', '--in', server.baseUrl, '--out', join(fromServer, 'out'), '--now', NOW, '--workers', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/12 patient\(s\), \d+ resource\(s\) read from .* by search/);
    const reference = await cli(['batch', '--in', BULK, '--out', join(fromFolder, 'out'), '--now', NOW, '--workers', '1']);
    expect(reference.code, reference.stderr).toBe(0);
    const got = carePlans(join(fromServer, 'out'));
    const expected = carePlans(join(fromFolder, 'out'));
    expect(got.map((c) => c.subject.reference)).toEqual(expected.map((c) => c.subject.reference));
    expect(decisions(got)).toEqual(decisions(expected));
  }, 60_000);
});
