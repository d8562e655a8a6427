import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { loadArtifacts } from '../../src/fhir-server/load.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { FIXTURES, KNOWLEDGE, NOW, cli } from '../support/cli.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const DATA = join(FIXTURES, 'patients/negative-test.json');
const base = ['apply', '--plan', 'demo-protocol', '--knowledge', KNOWLEDGE, '--now', NOW];
const bundleText = readFileSync(DATA, 'utf8');
const bundle = JSON.parse(bundleText);
const resources = bundle.entry.map((e: { resource: unknown }) => e.resource);

describe('apply --data', () => {
  it('prints the CarePlan for the file and explains each action on stderr', async () => {
    const run = await cli([...base, '--data', DATA]);
    expect(run.code).toBe(0);
    expect(run.json.resourceType).toBe('CarePlan');
    expect(run.json.subject).toEqual({ reference: 'Patient/pat-1' });
    const request = run.json.contained.find((r: { resourceType: string }) => r.resourceType === 'ServiceRequest');
    expect(request.reasonReference).toEqual([{ reference: 'Observation/hcg-1' }]);
    expect(run.stderr).toMatch(/- imaging: applicable/);
  });

  it('gives byte-identical output for the same input and --now', async () => {
    const a = await cli([...base, '--data', DATA]);
    const b = await cli([...base, '--data', DATA]);
    expect(a.stdout).toBe(b.stdout);
  });

  it('reads a JSON array, NDJSON and a Bundle from stdin alike', async () => {
    const fromFile = (await cli([...base, '--data', DATA])).stdout;
    const array = await cli([...base, '--data', '-'], { stdin: JSON.stringify(resources) });
    const ndjson = await cli([...base, '--data', '-'], { stdin: resources.map((r: unknown) => JSON.stringify(r)).join('\n') });
    expect(array.stdout).toBe(fromFile);
    expect(ndjson.stdout).toBe(fromFile);
  });

  it('finds the plan by canonical url|version as well as by id', async () => {
    const run = await cli([...base.slice(0, 1), '--plan', 'http://example.org/fhir/PlanDefinition/demo-protocol|1.0.0', ...base.slice(3), '--data', DATA]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe((await cli([...base, '--data', DATA])).stdout);
  });

  it('cpg mode prints a Bundle with the RequestGroup first', async () => {
    const run = await cli([...base, '--data', DATA, '--mode', 'cpg']);
    expect(run.code).toBe(0);
    expect(run.json.resourceType).toBe('Bundle');
    expect(run.json.entry[0].resource.resourceType).toBe('RequestGroup');
  });

  it('without --now uses the clock and prints it so the run can be reproduced', async () => {
    const run = await cli(['apply', '--plan', 'demo-protocol', '--knowledge', KNOWLEDGE, '--data', DATA], { clock: new Date('2026-05-06T07:08:09.000Z') });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/now = 2026-05-06T07:08:09.000Z \(pass --now 2026-05-06T07:08:09.000Z to reproduce/);
    expect(run.json.created).toBe('2026-05-06T07:08:09.000Z');
  });

  it.each([
    ['malformed JSON', '{"resourceType": "Patient", ', /malformed JSON/],
    ['malformed NDJSON line', `${JSON.stringify(resources[0])}\n{oops}\n`, /stdin:2: malformed JSON/],
    ['a wrong resourceType', JSON.stringify([...resources, { resourceType: 'Observaton', id: 'x' }]), /'Observaton' is not an R4 resource type/],
    ['no Patient', JSON.stringify(resources.slice(1)), /has no Patient resource/],
    ['empty input', '', /no data/],
  ])('%s -> OperationOutcome on stdout and exit 2', async (_name, stdin, message) => {
    const run = await cli([...base, '--data', '-'], { stdin });
    expect(run.code).toBe(2);
    expect(run.json.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(run.json)).toMatch(message);
    expect(run.stderr).toMatch(/^error: /m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown plan -> not-found listing the known plans, exit 2', async () => {
    const run = await cli(['apply', '--plan', 'nope', '--knowledge', KNOWLEDGE, '--now', NOW, '--data', DATA]);
    expect(run.code).toBe(2);
    expect(run.json.issue[0]).toMatchObject({ code: 'not-found' });
    expect(run.json.issue[0].diagnostics).toMatch(/no PlanDefinition 'nope'; known plans: demo-protocol/);
  });

  it('a missing file -> exit 2', async () => {
    const run = await cli([...base, '--data', '/no/such/file.json']);
    expect(run.code).toBe(2);
    expect(run.json.issue[0].diagnostics).toMatch(/cannot read \/no\/such\/file.json: no such file/);
  });

  it.each([
    [['--now', 'tomorrow'], /--now: must be an ISO 8601 date-time with a time zone offset/],
    [['--now', '2026-11-23T09:00:00'], /--now: must be an ISO 8601 date-time/],
    [['--mode', 'r5'], /--mode/],
    [[], /--data/],
    [['--write'], /--write needs --server|--data/],
  ])('bad arguments %j -> usage OperationOutcome, exit 2', async (extra, message) => {
    const args = ['apply', '--plan', 'demo-protocol', '--knowledge', KNOWLEDGE, ...(extra.includes('--now') ? [] : ['--now', NOW]), ...extra];
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(JSON.stringify(run.json)).toMatch(message);
  });
});

describe('apply --server', () => {
  let server: FhirTestServer;
  let patientId: string;

  async function seed(s: FhirTestServer): Promise<string> {
    const patient = await s.repo.createResource({ ...resources[0], id: undefined });
    await s.repo.createResource({ ...resources[1], id: undefined, subject: { reference: `Patient/${patient.id}` } });
    // Noise that belongs to another patient must not leak into this one's record.
    await s.repo.createResource({ ...resources[1], id: undefined, subject: { reference: 'Patient/someone-else' } });
    const client = new FhirClient({ baseUrl: s.baseUrl });
    await loadArtifacts(client, readArtifacts([KNOWLEDGE]), { dryRun: false });
    return patient.id;
  }

  beforeAll(async () => {
    server = await startFhirTestServer({ pageSize: 1 });
    patientId = await seed(server);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.simulate.failures = [];
    server.simulate.down = false;
    server.simulate.delayMs = 0;
    server.requests.length = 0;
  });

  const serverArgs = () => [...base, '--server', server.baseUrl, '--patient', patientId, '--retries', '1'];

  it('fetches the record with Patient/$everything (paged) and gives the same CarePlan as from a file', async () => {
    const run = await cli(serverArgs());
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/fetched 2 resource\(s\) for Patient\/.* via \$everything/);
    expect(server.requests.filter((r) => r.url.includes('$everything')).length).toBeGreaterThan(1);
    const request = run.json.contained.find((r: { resourceType: string }) => r.resourceType === 'ServiceRequest');
    expect(request.reasonReference[0].reference).toMatch(/^Observation\//);
  });

  it('falls back to one search per required type when the server has no $everything', async () => {
    const plain = await startFhirTestServer({ everything: false, pageSize: 1 });
    try {
      const id = await seed(plain);
      const run = await cli([...base, '--server', plain.baseUrl, '--patient', id]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/via search/);
      expect(plain.requests.some((r) => r.url.startsWith(`/fhir/R4/Observation?subject=Patient%2F${id}`))).toBe(true);
      expect(plain.requests.some((r) => r.url.includes('$everything'))).toBe(false);
    } finally {
      await plain.close();
    }
  });

  it('--write posts the r4 CarePlan (requests contained) as one transaction', async () => {
    const before = server.repo.countOf('CarePlan');
    const run = await cli([...serverArgs(), '--write']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/wrote to .*: CarePlan\//);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(server.repo.countOf('CarePlan')).toBe(before + 1);
    const stored = server.repo.allResources().find((r) => r.resourceType === 'CarePlan') as { contained?: unknown[]; subject?: unknown };
    expect(stored.contained?.length).toBeGreaterThan(1);
    expect(stored.subject).toEqual({ reference: `Patient/${patientId}` });
  });

  it('--write in cpg mode posts the entries with urn:uuid references resolved by the server', async () => {
    const beforeGroups = server.repo.countOf('RequestGroup');
    const beforeRequests = server.repo.countOf('ServiceRequest');
    const run = await cli([...serverArgs(), '--write', '--mode', 'cpg']);
    expect(run.code).toBe(0);
    expect(server.repo.countOf('RequestGroup')).toBe(beforeGroups + 1);
    expect(server.repo.countOf('ServiceRequest')).toBe(beforeRequests + 1);
    const groups = server.repo.allResources().filter((r) => r.resourceType === 'RequestGroup') as { action?: { resource?: { reference?: string } }[] }[];
    const ref = groups.at(-1)!.action![0]!.resource!.reference!;
    expect(ref).toMatch(/^ServiceRequest\/[0-9a-f-]+$/);
  });

  it('an unknown patient -> 404 OperationOutcome, exit 2', async () => {
    const run = await cli([...base, '--server', server.baseUrl, '--patient', 'nobody']);
    expect(run.code).toBe(2);
    expect(run.json.issue[0]).toMatchObject({ code: 'not-found' });
    expect(run.json.issue[0].diagnostics).toMatch(/HTTP 404/);
  });

  it('a server answering 500 -> exit 3 after retrying; 429 then OK -> exit 0', async () => {
    server.simulate.failures = Array.from({ length: 5 }, () => ({ status: 500 }));
    const failed = await cli(serverArgs());
    expect(failed.code).toBe(3);
    expect(failed.json.issue[0].diagnostics).toMatch(/HTTP 500/);
    server.simulate.failures = [{ status: 429, retryAfter: '0' }];
    expect((await cli(serverArgs())).code).toBe(0);
  });

  it('a slow server -> timeout OperationOutcome, exit 3', async () => {
    server.simulate.delayMs = 2_000;
    const run = await cli([...serverArgs(), '--timeout', '100', '--retries', '0']);
    expect(run.code).toBe(3);
    expect(run.json.issue[0]).toMatchObject({ code: 'timeout' });
  });

  it('a server that is down -> exit 3, and --write wrote nothing', async () => {
    server.simulate.down = true;
    const before = server.repo.allResources().length;
    const run = await cli([...serverArgs(), '--write']);
    expect(run.code).toBe(3);
    expect(run.json.issue[0].diagnostics).toMatch(/unreachable/);
    server.simulate.down = false;
    expect(server.repo.allResources()).toHaveLength(before);
  });

  it('a write-back answered 500 is retried (a conditional create on a stable identifier: safe) and the CarePlan exists once', async () => {
    server.simulate.failures = [{ status: 500, method: 'POST' }];
    const run = await cli([...serverArgs(), '--write', '--now', '2026-11-24T09:00:00+08:00']);
    expect(run.code, run.stderr).toBe(0);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    const written = /wrote to .*: (CarePlan\/[A-Za-z0-9-]+)/.exec(run.stderr)![1]!;
    const stored = server.repo.allResources().find((r) => `${r.resourceType}/${r.id}` === written) as { identifier?: { system?: string; value?: string }[] };
    const identifier = stored.identifier!.find((i) => i.system === 'http://infertility-protocols.org/fhir/identifier/apply-result')!;
    expect(identifier.value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-/);
    const copies = () => server.repo.allResources().filter((r) => (r as typeof stored).identifier?.some((i) => i.value === identifier.value));
    expect(copies()).toHaveLength(1);
    // The same apply written again (a retry after a lost reply): found, not written twice.
    const again = await cli([...serverArgs(), '--write', '--now', '2026-11-24T09:00:00+08:00']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already there from an earlier write of this apply: CarePlan\//);
    expect(copies()).toHaveLength(1);
  });

  it('a 429 on the write-back is retried (the server did not process it)', async () => {
    const before = server.repo.countOf('CarePlan');
    server.simulate.failures = [{ status: 429, method: 'POST', retryAfter: '0' }];
    const run = await cli([...serverArgs(), '--write', '--now', '2026-11-25T09:00:00+08:00']);
    expect(run.code).toBe(0);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(server.repo.countOf('CarePlan')).toBe(before + 1);
  });
});
