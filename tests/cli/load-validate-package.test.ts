import { gunzipSync } from 'node:zlib';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, KNOWLEDGE, cli } from '../support/cli.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ip-cli-'));

describe('load', () => {
  let server: FhirTestServer;
  beforeAll(async () => (server = await startFhirTestServer()));
  afterAll(() => server.close());
  beforeEach(() => {
    server.repo.clear();
    server.simulate.failures = [];
    server.simulate.down = false;
  });

  it('loads, then a re-run reports everything unchanged and writes nothing', async () => {
    const first = await cli(['load', '--server', server.baseUrl, '--from', KNOWLEDGE]);
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ transaction: 'posted', updated: [], unchanged: [] });
    expect(first.json.created).toHaveLength(4);
    expect(first.stderr).toMatch(/load: created 4, updated 0, unchanged 0/);
    const stored = JSON.stringify(server.repo.allResources());
    const second = await cli(['load', '--server', server.baseUrl, '--from', KNOWLEDGE]);
    expect(second.json).toMatchObject({ transaction: 'nothing-to-do', created: [], updated: [] });
    expect(second.json.unchanged).toHaveLength(4);
    expect(JSON.stringify(server.repo.allResources())).toBe(stored);
  });

  it('--dry-run writes nothing', async () => {
    const run = await cli(['load', '--server', server.baseUrl, '--from', KNOWLEDGE, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.json.transaction).toBe('dry-run');
    expect(run.stderr).toMatch(/would create 4/);
    expect(server.repo.allResources()).toHaveLength(0);
  });

  it('artifacts with lint errors are not loaded (exit 1, lint OperationOutcome)', async () => {
    const dir = tmp();
    cpSync(KNOWLEDGE, dir, { recursive: true });
    const file = join(dir, 'plandefinition-demo.json');
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    plan.action[0].condition[0].expression.expression = '%pregnancyTests.vlaue.exists()';
    writeFileSync(file, JSON.stringify(plan));
    const run = await cli(['load', '--server', server.baseUrl, '--from', dir]);
    expect(run.code).toBe(1);
    expect(JSON.stringify(run.json)).toMatch(/no element 'vlaue'/);
    expect(server.requests.length === 0 || server.repo.allResources().length === 0).toBe(true);
  });

  it('a failing load (server rejects one artifact) leaves nothing written, exit 2', async () => {
    const dir = tmp();
    cpSync(KNOWLEDGE, dir, { recursive: true });
    const file = join(dir, 'valueset-pregnancy-tests.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), unknownElement: 1 }));
    const run = await cli(['load', '--server', server.baseUrl, '--from', dir, '--skip-lint']);
    expect(run.code).toBe(2);
    expect(run.json.resourceType).toBe('OperationOutcome');
    expect(server.repo.allResources()).toHaveLength(0);
  });

  it('an unreachable server -> exit 3; a bad --server -> exit 2', async () => {
    server.simulate.down = true;
    const down = await cli(['load', '--server', server.baseUrl, '--from', KNOWLEDGE, '--retries', '0']);
    expect(down.code).toBe(3);
    expect(down.json.issue[0].diagnostics).toMatch(/unreachable/);
    const bad = await cli(['load', '--server', 'not a url', '--from', KNOWLEDGE]);
    expect(bad.code).toBe(2);
    expect(bad.json.issue[0].diagnostics).toMatch(/--server: must be an http\(s\) URL/);
  });

  it('a bearer token from the environment reaches a protected server', async () => {
    const secured = await startFhirTestServer({ bearerToken: 'tok' });
    try {
      const denied = await cli(['load', '--server', secured.baseUrl, '--from', KNOWLEDGE, '--retries', '0']);
      expect(denied.code).toBe(2);
      expect(denied.json.issue[0].code).toBe('login');
      const ok = await cli(['load', '--server', secured.baseUrl, '--from', KNOWLEDGE, '--bearer-env', 'FHIR_TOKEN'], { env: { FHIR_TOKEN: 'tok' } });
      expect(ok.code).toBe(0);
      expect(secured.repo.allResources()).toHaveLength(4);
    } finally {
      await secured.close();
    }
  });
});

describe('validate', () => {
  it('a valid patient bundle -> one OperationOutcome per resource, exit 0', async () => {
    const run = await cli(['validate', join(FIXTURES, 'patients/negative-test.json')]);
    expect(run.code).toBe(0);
    expect(run.json.resourceType).toBe('Bundle');
    expect(run.json.entry).toHaveLength(2);
    expect(run.json.entry[0].fullUrl).toMatch(/^file:\/\/.*negative-test\.json#Patient\/pat-1$/);
    expect(run.json.entry.every((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'OperationOutcome')).toBe(true);
  });

  it('an invalid resource -> its OperationOutcome has errors, exit 1', async () => {
    const run = await cli(['validate', '-'], { stdin: JSON.stringify({ resourceType: 'Observation', id: 'o', code: { text: 'x' }, notAField: 1 }) });
    expect(run.code).toBe(1);
    const issues = run.json.entry[0].resource.issue;
    expect(issues.some((i: { severity: string }) => i.severity === 'error')).toBe(true);
    expect(run.stderr).toMatch(/0 of 1 resource\(s\) valid/);
  });

  it('knowledge artifacts validate too', async () => {
    const run = await cli(['validate', ...readdirSync(KNOWLEDGE).map((f) => join(KNOWLEDGE, f))]);
    expect(run.json.entry).toHaveLength(4);
    expect(run.code).toBe(0);
  });

  it('malformed input -> exit 2', async () => {
    const run = await cli(['validate', '-'], { stdin: '[{"resourceType": ' });
    expect(run.code).toBe(2);
    expect(run.json.resourceType).toBe('OperationOutcome');
  });
});

/** Reads a ustar archive into name -> content. */
function untar(buffer: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  for (let offset = 0; offset + 512 <= buffer.length;) {
    const header = buffer.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('ascii'), 8);
    files.set(prefix ? `${prefix}/${name}` : name, buffer.subarray(offset + 512, offset + 512 + size).toString('utf8'));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('package', () => {
  it('writes a FHIR NPM package .tgz with package.json, .index.json and the resources, byte-identical on re-run', async () => {
    const dir = tmp();
    const out = join(dir, 'pkg.tgz');
    const run = await cli(['package', '--from', KNOWLEDGE, '--out', out, '--name', 'org.example.demo', '--package-version', '1.2.3']);
    expect(run.code).toBe(0);
    const first = readFileSync(out);
    const files = untar(gunzipSync(first));
    expect([...files.keys()]).toEqual([
      'package/package.json',
      'package/.index.json',
      'package/ActivityDefinition-demo-imaging.json',
      'package/CodeSystem-demo-codes.json',
      'package/ImplementationGuide-org-example-demo.json',
      'package/PlanDefinition-demo-protocol.json',
      'package/ValueSet-pregnancy-tests.json',
    ]);
    const manifest = JSON.parse(files.get('package/package.json')!);
    expect(manifest).toMatchObject({ name: 'org.example.demo', version: '1.2.3', fhirVersions: ['4.0.1'], canonical: 'http://example.org/fhir' });
    const index = JSON.parse(files.get('package/.index.json')!);
    expect(index['index-version']).toBe(2);
    expect(index.files).toContainEqual({
      filename: 'ValueSet-pregnancy-tests.json',
      resourceType: 'ValueSet',
      id: 'pregnancy-tests',
      url: 'http://example.org/fhir/ValueSet/pregnancy-tests',
      version: '1.0.0',
    });
    await cli(['package', '--from', KNOWLEDGE, '--out', out, '--name', 'org.example.demo', '--package-version', '1.2.3']);
    expect(readFileSync(out).equals(first)).toBe(true);
    expect(readdirSync(dir)).toEqual(['pkg.tgz']);
  });

  it('writes a folder when --out is not an archive name', async () => {
    const out = join(tmp(), 'pkg');
    const run = await cli(['package', '--from', KNOWLEDGE, '--out', out]);
    expect(run.code).toBe(0);
    expect(existsSync(join(out, 'package/.index.json'))).toBe(true);
    expect(readdirSync(join(out, 'package'))).toHaveLength(7);
  });

  it('a bad package name or version -> exit 2, nothing written', async () => {
    const dir = tmp();
    const run = await cli(['package', '--from', KNOWLEDGE, '--out', join(dir, 'x.tgz'), '--name', 'Bad Name']);
    expect(run.code).toBe(2);
    expect(run.json.issue[0].diagnostics).toMatch(/FHIR package name/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
