import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { comparableJson, loadArtifacts, loadTransaction, planLoad, stableArtifactId } from '../../src/fhir-server/load.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const KNOWLEDGE = join(import.meta.dirname, '../support/fixtures/knowledge');
const servers: FhirTestServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

async function fresh(): Promise<{ server: FhirTestServer; client: FhirClient }> {
  const server = await startFhirTestServer({ pageSize: 2 });
  servers.push(server);
  return { server, client: new FhirClient({ baseUrl: server.baseUrl, backoffMs: 1, maxRetries: 2 }) };
}

function copyOfKnowledge(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ip-load-'));
  cpSync(KNOWLEDGE, dir, { recursive: true });
  return dir;
}

describe('load', () => {
  let server: FhirTestServer;
  let client: FhirClient;
  beforeEach(async () => ({ server, client } = await fresh()));

  it('creates every artifact in one transaction, then a re-run changes nothing', async () => {
    const artifacts = readArtifacts([KNOWLEDGE]);
    const first = await loadArtifacts(client, artifacts, { dryRun: false });
    expect(first.transaction).toBe('posted');
    expect(first.created).toHaveLength(4);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    const snapshot = JSON.stringify(server.repo.allResources());

    server.requests.length = 0;
    const second = await loadArtifacts(client, artifacts, { dryRun: false });
    expect(second).toMatchObject({ transaction: 'nothing-to-do', created: [], updated: [] });
    expect(second.unchanged).toEqual(first.created);
    expect(server.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(JSON.stringify(server.repo.allResources())).toBe(snapshot);
  });

  it('updates only what changed, in place (same server id, If-Match sent)', async () => {
    const dir = copyOfKnowledge();
    await loadArtifacts(client, readArtifacts([dir]), { dryRun: false });
    const before = server.repo.allResources().find((r) => r.resourceType === 'ValueSet')!;
    const file = join(dir, 'valueset-pregnancy-tests.json');
    const vs = JSON.parse(readFileSync(file, 'utf8'));
    vs.title = 'Pregnancy tests (renamed)';
    writeFileSync(file, JSON.stringify(vs));
    const plan = await planLoad(client, readArtifacts([dir]));
    const bundle = loadTransaction(plan)!;
    expect(bundle.entry).toHaveLength(1);
    expect(bundle.entry![0]!.request).toEqual({
      method: 'PUT',
      url: 'ValueSet?url=http%3A%2F%2Fexample.org%2Ffhir%2FValueSet%2Fpregnancy-tests&version=1.0.0',
      ifMatch: `W/"${before.meta!.versionId}"`,
    });
    const report = await loadArtifacts(client, readArtifacts([dir]), { dryRun: false });
    expect(report.updated).toEqual(['ValueSet http://example.org/fhir/ValueSet/pregnancy-tests|1.0.0']);
    expect(report.unchanged).toHaveLength(3);
    const after = server.repo.allResources().filter((r) => r.resourceType === 'ValueSet');
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(before.id);
    expect((after[0] as { title?: string }).title).toBe('Pregnancy tests (renamed)');
  });

  it('dry-run reports the plan and writes nothing', async () => {
    const report = await loadArtifacts(client, readArtifacts([KNOWLEDGE]), { dryRun: true });
    expect(report.transaction).toBe('dry-run');
    expect(report.created).toHaveLength(4);
    expect(server.repo.allResources()).toHaveLength(0);
  });

  it('a load the server rejects leaves nothing written (the transaction is atomic)', async () => {
    const dir = copyOfKnowledge();
    const file = join(dir, 'plandefinition-demo.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), notAnElement: true }));
    let error: unknown;
    try {
      await loadArtifacts(client, readArtifacts([dir]), { dryRun: false });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OperationOutcomeError);
    expect((error as OperationOutcomeError).outcome.issue[0]?.diagnostics).toMatch(/HTTP 400/);
    expect(JSON.stringify((error as OperationOutcomeError).outcome)).toMatch(/notAnElement/);
    expect(server.repo.allResources()).toHaveLength(0);
  });

  it('refuses to load when the server already holds duplicates of a canonical', async () => {
    const vs = readArtifacts([KNOWLEDGE]).find((a) => a.resource.resourceType === 'ValueSet')!.resource;
    await server.repo.createResource({ ...vs, id: undefined });
    await server.repo.createResource({ ...vs, id: undefined });
    await expect(loadArtifacts(client, readArtifacts([KNOWLEDGE]), { dryRun: false })).rejects.toThrow(/holds 2 ValueSet/);
    expect(server.repo.countOf('PlanDefinition')).toBe(0);
  });

  it('rejects artifacts without url and url|version defined twice', async () => {
    const dir = copyOfKnowledge();
    writeFileSync(join(dir, 'zz-copy.json'), readFileSync(join(dir, 'codesystem-demo.json')));
    writeFileSync(join(dir, 'zz-nourl.json'), JSON.stringify({ resourceType: 'Library', id: 'x', status: 'draft', type: { text: 't' } }));
    const err = await loadArtifacts(client, readArtifacts([dir]), { dryRun: true }).catch((e: unknown) => e);
    expect((err as OperationOutcomeError).outcome.issue.map((i) => i.diagnostics)).toEqual([
      expect.stringMatching(/zz-copy\.json: CodeSystem .*demo-codes\|1\.0\.0 is also defined in .*codesystem-demo\.json/),
      expect.stringMatching(/zz-nourl\.json: Library\/x has no url/),
    ]);
  });

  /** The fixture knowledge plus 12 ValueSets: 16 artifacts, beyond the 8-entry cap Medplum puts on conditional transactions. */
  function sixteenArtifacts(): string {
    const dir = copyOfKnowledge();
    for (let i = 0; i < 12; i++) {
      writeFileSync(
        join(dir, `vs-extra-${i}.json`),
        JSON.stringify({
          resourceType: 'ValueSet',
          id: `extra-${i}`,
          url: `http://example.org/fhir/ValueSet/extra-${i}`,
          version: '1.0.0',
          status: 'active',
          compose: { include: [{ system: 'http://loinc.org', concept: [{ code: '2106-3' }] }] },
        }),
      );
    }
    return dir;
  }

  it('keyed style: creates are PUT Type/{stable id}, updates PUT Type/{server id} + If-Match', async () => {
    const dir = sixteenArtifacts();
    const creates = loadTransaction(await planLoad(client, readArtifacts([dir])), 'keyed')!.entry!;
    const vs3 = { resourceType: 'ValueSet', url: 'http://example.org/fhir/ValueSet/extra-3', version: '1.0.0' };
    expect(creates.map((e) => e.request)).toContainEqual({ method: 'PUT', url: `ValueSet/${stableArtifactId(vs3)}` });
    expect(creates.every((e) => e.request?.method === 'PUT' && !e.request.url.includes('?'))).toBe(true);
    const first = await loadArtifacts(client, readArtifacts([dir]), { dryRun: false, style: 'keyed' });
    expect(first.created).toHaveLength(16);
    expect(server.repo.allResources().find((r) => (r as { url?: string }).url === vs3.url)?.id).toBe(stableArtifactId(vs3));
    const file = join(dir, 'vs-extra-3.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), title: 'changed' }));
    const plan = await planLoad(client, readArtifacts([dir]));
    const update = loadTransaction(plan, 'keyed')!.entry!;
    const target = server.repo.allResources().find((r) => r.id && (r as { url?: string }).url?.endsWith('extra-3'))!;
    expect(update.map((e) => e.request)).toEqual([{ method: 'PUT', url: `ValueSet/${target.id}`, ifMatch: `W/"${target.meta!.versionId}"` }]);
    const second = await loadArtifacts(client, readArtifacts([dir]), { dryRun: false, style: 'keyed' });
    expect(second).toMatchObject({ created: [], updated: ['ValueSet http://example.org/fhir/ValueSet/extra-3|1.0.0'] });
    expect(second.unchanged).toHaveLength(15);
  });

  it('default style: a conditional transaction the server refuses as a whole (400: nothing written) is sent again as keyed entries', async () => {
    const dir = sixteenArtifacts();
    const logged: string[] = [];
    // Creates are PUTs by id, which Medplum accepts 16 at once: the refusal is simulated.
    server.simulate.failures.push({ status: 400, method: 'POST' });
    const first = await loadArtifacts(client, readArtifacts([dir]), { dryRun: false, log: (m) => logged.push(m) });
    expect(first).toMatchObject({ transaction: 'posted', style: 'keyed', fallback: expect.stringMatching(/HTTP 400/) });
    expect(first.created).toHaveLength(16);
    expect(logged).toEqual([expect.stringMatching(/refused the conditional transaction .*nothing was written, sending the same changes as keyed entries/)]);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(server.repo.allResources()).toHaveLength(16);
    const second = await loadArtifacts(client, readArtifacts([dir]), { dryRun: false });
    expect(second).toMatchObject({ transaction: 'nothing-to-do', created: [], updated: [] });
  });

  it('default style: a server that accepts the conditional transaction gets only that one', async () => {
    const first = await loadArtifacts(client, readArtifacts([KNOWLEDGE]), { dryRun: false });
    expect(first).toMatchObject({ transaction: 'posted', style: 'conditional' });
    expect(first.fallback).toBeUndefined();
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('default style: refusals that keyed entries would not change (conflict, server error) are reported, not retried as keyed', async () => {
    for (const status of [412, 500, 403]) {
      const { server: other, client: otherClient } = await fresh();
      // 500 is retried by the client (maxRetries 2): fail every attempt.
      other.simulate.failures.push(...Array.from({ length: 3 }, () => ({ status, method: 'POST' })));
      const err = await loadArtifacts(otherClient, readArtifacts([KNOWLEDGE]), { dryRun: false }).catch((e: unknown) => e);
      expect((err as OperationOutcomeError).outcome.issue[0]?.diagnostics, String(status)).toMatch(new RegExp(`HTTP ${status}`));
      expect(other.requests.filter((r) => r.method === 'POST').length, String(status)).toBe(status === 500 ? 3 : 1);
      expect(other.repo.allResources(), String(status)).toHaveLength(0);
    }
  });

  it('default style: when the keyed attempt fails too, both refusals are reported and nothing is written', async () => {
    const dir = sixteenArtifacts();
    server.simulate.failures.push({ status: 400, method: 'POST' }, { status: 422, method: 'POST' });
    const err = await loadArtifacts(client, readArtifacts([dir]), { dryRun: false }).catch((e: unknown) => e);
    const diagnostics = (err as OperationOutcomeError).outcome.issue.map((i) => i.diagnostics);
    expect(diagnostics[0]).toMatch(/HTTP 422/);
    expect(diagnostics.at(-1)).toMatch(/before that, the conditional transaction was refused: .*HTTP 400/);
    expect(server.repo.allResources()).toHaveLength(0);
  });

  it('compares content ignoring server-owned id and meta, but not profile', () => {
    const a = { resourceType: 'ValueSet' as const, id: 'a', status: 'active' as const, meta: { versionId: '1', lastUpdated: 'x' }, url: 'u' };
    const b = { url: 'u', status: 'active' as const, resourceType: 'ValueSet' as const, id: 'b' };
    expect(comparableJson(a)).toBe(comparableJson(b));
    expect(comparableJson({ ...b, meta: { profile: ['p'] } })).not.toBe(comparableJson(b));
  });
});
