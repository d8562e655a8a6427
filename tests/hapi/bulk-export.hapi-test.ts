/**
 * `batch --in <HAPI base>` reads the population by HAPI's own Bulk Data `$export` (kick-off, poll,
 * download, DELETE: src/fhir-server/bulk-export.ts) and makes, for the example patient stored there,
 * the decisions `batch --in <folder>` makes for the same record.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Bundle, CarePlan, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { cli } from '../support/cli.ts';

const NOW = '2026-03-10T09:00:00Z';
const EXAMPLE = 'examples/hsg-ci-iodine-allergy-hycosy.json';

let baseUrl: string;
let record: Resource[];
let dir: string;

beforeAll(async () => {
  baseUrl = inject('hapiBaseUrl');
  dir = mkdtempSync(join(tmpdir(), 'ip-hapi-export-'));
  record = ((JSON.parse(readFileSync(join(PROJECT_ROOT, EXAMPLE), 'utf8')) as Bundle).entry ?? []).map((e) => e.resource as Resource);
  // The record under its own ids (PUT), so a re-run of the suite on the same server stores it once.
  const transaction: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: record.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}` } })),
  };
  const stored = await fetch(baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' }, body: JSON.stringify(transaction) });
  expect(stored.status, await stored.clone().text()).toBe(200);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const carePlanOf = (out: string, patientId: string): CarePlan => {
  const plans = readFileSync(join(out, 'CarePlan.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CarePlan)
    .filter((c) => c.subject.reference === `Patient/${patientId}`);
  expect(plans).toHaveLength(1);
  return plans[0]!;
};

/** The plan's requests: code, do-not-perform and when - the decisions. */
const decisions = (carePlan: CarePlan) =>
  (carePlan.contained ?? [])
    .filter((r): r is ServiceRequest => r.resourceType === 'ServiceRequest')
    .map((r) => JSON.stringify([r.code?.coding?.[0]?.code, r.doNotPerform ?? false, r.occurrencePeriod ?? null]));

describe('batch --in <HAPI> by Bulk Data $export', () => {
  it('exports at Patient level and decides for the stored patient as from a folder of the same record', async () => {
    const out = join(dir, 'from-hapi');
    const run = await cli(['batch', '--in', baseUrl, '--out', out, '--now', NOW, '--plan', 'hysterosalpingography', '--workers', '1', '--export-timeout', '600']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\$export started at Patient level/);
    expect(run.stderr).toMatch(/read from .* by Patient\/\$export/);

    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const byType = new Map<string, string[]>();
    for (const resource of record) byType.set(resource.resourceType, [...(byType.get(resource.resourceType) ?? []), JSON.stringify(resource)]);
    for (const [type, lines] of byType) writeFileSync(join(folder, `${type}.ndjson`), `${lines.join('\n')}\n`);
    const reference = await cli(['batch', '--in', folder, '--out', join(dir, 'from-folder'), '--now', NOW, '--plan', 'hysterosalpingography', '--workers', '1']);
    expect(reference.code, reference.stderr).toBe(0);

    const patientId = record.find((r) => r.resourceType === 'Patient')!.id!;
    const fromHapi = carePlanOf(out, patientId);
    expect(decisions(fromHapi)).toEqual(decisions(carePlanOf(join(dir, 'from-folder'), patientId)));
    // The example's decision: HSG not to be done (iodine allergy).
    expect((fromHapi.contained ?? []).some((r) => r.resourceType === 'ServiceRequest' && r.doNotPerform === true)).toBe(true);
  });
});
