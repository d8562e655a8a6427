/**
 * The Bulk Data `$export` client (src/fhir-server/bulk-export.ts) against a real local HTTP export
 * server (bulk-export-server.ts): polling honours Retry-After and backs off without it, files are
 * streamed with the bearer token (and never sent to another origin), error files become
 * OperationOutcome lines, the status URL is DELETEd, a failed or endless export is a clear
 * OperationOutcome. And `batch --in <that server> --bearer-env` gives the bytes `batch --in <folder>`
 * gives for the same data, with the error file's lines in OperationOutcome.ndjson.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { bulkExport, exportLevelOffered } from '../../src/fhir-server/bulk-export.ts';
import { FhirClient, fixedToken } from '../../src/fhir-server/client.ts';
import { ROOT, cli } from '../support/cli.ts';
import { startBulkServer, type BulkServer, type BulkServerOptions } from './bulk-export-server.ts';

const BULK = join(ROOT, 'examples/bulk');
const NOW = '2026-11-23T09:00:00+08:00';
const TOKEN = 'export-secret-1';
const ERROR_LINE = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: 'Observation/x could not be exported' }] });

const servers: BulkServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function server(options: Partial<BulkServerOptions> = {}): Promise<BulkServer> {
  const started = await startBulkServer({ dataDir: BULK, token: TOKEN, progress: [], ...options });
  servers.push(started);
  return started;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ip-bulk-'));
  dirs.push(dir);
  return dir;
}

const clientOf = (s: BulkServer, retries = 0) => new FhirClient({ baseUrl: s.baseUrl, auth: fixedToken(TOKEN), maxRetries: retries });

describe('Bulk Data $export client', () => {
  it('polls as the server asks (Retry-After, else doubling), streams every file with the token, reads the error file, and DELETEs the status URL', async () => {
    const s = await server({ progress: [{ retryAfter: '5', progress: '10% done' }, { progress: '60% done' }], errorLines: [ERROR_LINE, 'not json'], splitType: 'Observation' });
    const dir = tempDir();
    const waits: number[] = [];
    const logs: string[] = [];
    const client = clientOf(s);
    const level = exportLevelOffered(await client.capabilities());
    expect(level).toBe('Patient');
    const report = await bulkExport({
      client,
      auth: fixedToken(TOKEN),
      level: level!,
      types: ['Patient', 'Observation', 'Condition'],
      dir,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      log: (m) => logs.push(m),
    });
    // Retry-After: 5 s was honoured; the poll without it waited the doubled default (2 x 1 s).
    expect(waits).toEqual([5000, 2000]);
    expect(logs.some((m) => m.includes('10% done'))).toBe(true);
    expect(report.polls).toBe(3);
    const kickOff = s.requests.find((r) => r.path.startsWith('/fhir/Patient/$export'))!;
    expect(kickOff.prefer).toBe('respond-async');
    expect(new URL(`http://x${kickOff.path}`).searchParams.get('_type')).toBe('Condition,Observation,Patient');
    // Every file was fetched with the bearer token, the status URL deleted at the end.
    const downloads = s.requests.filter((r) => r.path.startsWith('/files/'));
    expect(downloads.length).toBe(5);
    expect(downloads.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(s.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/fhir/$export-status/job-1' });
    // The two Observation parts are whole lines (the first lacked its last newline), in order.
    expect(report.files.map((f) => f.type)).toEqual(['Condition', 'Observation', 'Observation', 'Patient']);
    const observations = report.files
      .filter((f) => f.type === 'Observation')
      .map((f) => readFileSync(f.path, 'utf8'))
      .join('');
    expect(observations).toBe(readFileSync(join(BULK, 'Observation.ndjson'), 'utf8'));
    // The error file's OperationOutcome as is; a line that is none is reported as such.
    expect(report.errors[0]).toBe(ERROR_LINE);
    expect(JSON.parse(report.errors[1]!)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'structure' }] });
    expect(readdirSync(dir).filter((f) => !f.endsWith('.ndjson'))).toEqual([]);
  });

  it('refuses to send the token to a file on another origin', async () => {
    const other = await server({ token: undefined });
    const s = await server({ fileOrigin: new URL(other.baseUrl).origin });
    const failure = await bulkExport({ client: clientOf(s), auth: fixedToken(TOKEN), level: 'Patient', types: ['Patient'], dir: tempDir() }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OperationOutcomeError);
    expect((failure as OperationOutcomeError).outcome.issue[0]).toMatchObject({ code: 'security' });
    expect(other.requests).toEqual([]);
    expect(s.requests.at(-1)).toMatchObject({ method: 'DELETE' });
  });

  it('a failed export (the status URL answers an error) is the server’s OperationOutcome, not a crash', async () => {
    const s = await server({
      statusFailure: { status: 500, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: 'export job crashed' }] } },
    });
    const failure = await bulkExport({ client: clientOf(s), level: 'Patient', types: ['Patient'], dir: tempDir() }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OperationOutcomeError);
    expect(JSON.stringify((failure as OperationOutcomeError).outcome)).toContain('export job crashed');
  });

  it('an export that does not complete in time is cancelled (DELETE) and fails with a timeout', async () => {
    const s = await server({ progress: 'forever' });
    const failure = await bulkExport({ client: clientOf(s), level: 'Patient', types: ['Patient'], dir: tempDir(), timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OperationOutcomeError);
    expect((failure as OperationOutcomeError).outcome.issue[0]).toMatchObject({ code: 'timeout', diagnostics: expect.stringContaining('still going') });
    expect(s.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/fhir/$export-status/job-1' });
  });
});

describe('batch --in <server offering $export>', () => {
  it('exports with the bearer token from --bearer-env and writes the bytes a batch over the same files writes, plus the export’s errors', async () => {
    const s = await server({ progress: [{ retryAfter: '1' }], errorLines: [ERROR_LINE], splitType: 'Observation' });
    const out = join(tempDir(), 'out');
    const run = await cli(['batch', '--in', s.baseUrl, '--bearer-env', 'BULK_TOKEN', '--out', out, '--now', NOW, '--workers', '1'], { env: { BULK_TOKEN: TOKEN } });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/read from .* by Patient\/\$export; 1 error\(s\)/);
    expect(run.json).toMatchObject({ patients: 12, failures: 1 });
    // The reference: the types the export was asked for, as a folder.
    const kickOff = s.requests.find((r) => r.path.startsWith('/fhir/Patient/$export'))!;
    const types = new URL(`http://x${kickOff.path}`).searchParams.get('_type')!.split(',');
    expect(types).toContain('Patient');
    expect(types).toContain('Observation');
    const folder = join(tempDir(), 'in');
    mkdirSync(folder);
    for (const type of types) if (readdirSync(BULK).includes(`${type}.ndjson`)) copyFileSync(join(BULK, `${type}.ndjson`), join(folder, `${type}.ndjson`));
    const refOut = join(tempDir(), 'ref');
    const reference = await cli(['batch', '--in', folder, '--out', refOut, '--now', NOW, '--workers', '1']);
    expect(reference.code, reference.stderr).toBe(0);
    expect(readFileSync(join(out, 'CarePlan.ndjson'), 'utf8')).toBe(readFileSync(join(refOut, 'CarePlan.ndjson'), 'utf8'));
    expect(readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8')).toBe(`${readFileSync(join(refOut, 'OperationOutcome.ndjson'), 'utf8')}${ERROR_LINE}\n`);
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  }, 60_000);

  it('without the token the server refuses: exit 2 with an OperationOutcome naming the server', async () => {
    const s = await server();
    const run = await cli(['batch', '--in', s.baseUrl, '--out', join(tempDir(), 'out'), '--now', NOW, '--retries', '0']);
    expect(run.code).toBe(2);
    expect(run.json).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(run.stdout).toContain('401');
  });

  it('an export that outlives --export-timeout: exit 3, a timeout OperationOutcome, the export cancelled', async () => {
    const s = await server({ progress: 'forever' });
    const run = await cli(['batch', '--in', s.baseUrl, '--bearer-env', 'BULK_TOKEN', '--out', join(tempDir(), 'out'), '--now', NOW, '--export-timeout', '1'], {
      env: { BULK_TOKEN: TOKEN },
    });
    expect(run.code).toBe(3);
    expect(run.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout' }] });
    expect(s.requests.at(-1)).toMatchObject({ method: 'DELETE' });
  }, 30_000);
});
