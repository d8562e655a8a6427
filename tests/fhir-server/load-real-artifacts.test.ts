/**
 * The module's own artifacts (profiles, terminology, the protocols) into a real FHIR server over
 * HTTP - what an integration team does first - then a protocol applied to a patient who lives in
 * that server, with the result written back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CarePlan, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { loadArtifacts, selectLoadable } from '../../src/fhir-server/load.ts';
import { PROJECT_ROOT, readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { cli } from '../support/cli.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

describe('loading the real artifacts into a FHIR server', () => {
  let server: FhirTestServer;
  let client: FhirClient;
  const artifacts = readArtifacts();

  beforeAll(async () => {
    server = await startFhirTestServer();
    client = new FhirClient({ baseUrl: server.baseUrl, backoffMs: 1, maxRetries: 1 });
  });
  afterAll(() => server.close());

  it('creates every profile, code system, value set and definition in one transaction; a re-run changes nothing', async () => {
    const loadable = selectLoadable(artifacts);
    // The default style: this Medplum-based server takes at most 50 updates per transaction, and
    // every create is a PUT by stable id (safe to run twice at once), so it refuses the ~90 entries
    // as one transaction twice (nothing written) and the loader sends them in parts of 50.
    const first = await loadArtifacts(client, artifacts, { dryRun: false });
    expect(first).toMatchObject({ transaction: 'posted', style: 'split', transactions: Math.ceil(loadable.length / 50), fallback: expect.stringMatching(/HTTP 400/) });
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2 + Math.ceil(loadable.length / 50));
    expect(first.created).toHaveLength(loadable.length);
    expect(first.updated).toEqual([]);
    for (const type of ['PlanDefinition', 'ActivityDefinition', 'ValueSet', 'CodeSystem', 'StructureDefinition']) {
      expect(
        server.repo.allResources().some((r) => r.resourceType === type),
        type,
      ).toBe(true);
    }
    const stored = JSON.stringify(server.repo.allResources());
    const second = await loadArtifacts(client, artifacts, { dryRun: false });
    expect(second).toMatchObject({ transaction: 'nothing-to-do', created: [], updated: [] });
    expect(second.unchanged).toHaveLength(loadable.length);
    expect(JSON.stringify(server.repo.allResources())).toBe(stored);
  });

  it('applies the HSG protocol to a patient stored in the server and writes the CarePlan back', async () => {
    const example = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples/hsg-ci-iodine-allergy-hycosy.json'), 'utf8')) as Bundle;
    const records = (example.entry ?? []).map((e) => e.resource as Resource);
    // The server validates on write (incl. our profiles): the example patient is stored as it is.
    for (const resource of records) await server.repo.updateResource(resource);
    const patient = records.find((r) => r.resourceType === 'Patient')!;

    const run = await cli([
      'apply',
      '--plan',
      'hysterosalpingography',
      '--server',
      server.baseUrl,
      '--patient',
      patient.id!,
      '--now',
      '2026-03-10T09:00:00Z',
      '--write',
      '--retries',
      '1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const written = server.repo.allResources().filter((r): r is CarePlan => r.resourceType === 'CarePlan');
    expect(written).toHaveLength(1);
    const carePlan = written[0]!;
    expect(carePlan.subject.reference).toBe(`Patient/${patient.id}`);
    const requests = (carePlan.contained ?? []).filter((r): r is ServiceRequest => r.resourceType === 'ServiceRequest');
    const hsg = requests.find((r) => r.code?.coding?.some((c) => c.code === '168884001'));
    expect(hsg?.doNotPerform).toBe(true);
    // Day 6 after the menses: the day 5-7 window is offered from today, never from yesterday (SAFE-5).
    expect(requests.some((r) => r.code?.coding?.some((c) => c.code === 'hycosy') && r.occurrencePeriod?.start === '2026-03-10')).toBe(true);
  });
});
