/**
 * A small but real Bulk Data `$export` server for tests (node:http on a free loopback port): a
 * CapabilityStatement offering Patient-level `$export`, a kick-off that answers 202 with a status
 * URL, a status URL that is "in progress" for a configurable number of polls (with Retry-After and
 * X-Progress as the test asks) before it answers the manifest, NDJSON files served from a folder
 * (the types the kick-off's `_type` named), an error file, DELETE of the status URL - and a bearer
 * token required on everything when one is set. Every request is recorded.
 *
 * The Medplum fixture (tests/support/fhir-test-server.ts) has no `$export`; HAPI's is tested in
 * tests/hapi/bulk-export.hapi-test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface ProgressStep {
  /** Retry-After header value (seconds or an HTTP date); none when absent. */
  retryAfter?: string;
  progress?: string;
}

export interface BulkServerOptions {
  /** NDJSON files to serve, `<Type>.ndjson`. */
  dataDir: string;
  /** Required as `Authorization: Bearer <token>` on every request (metadata included) when set. */
  token?: string;
  /** One 202 answer per step before the manifest; `'forever'` never completes. */
  progress: ProgressStep[] | 'forever';
  /** Lines of the error file (none: no error file). */
  errorLines?: string[];
  /** Split this type's file into two output files, the first without its trailing newline. */
  splitType?: string;
  /** The manifest's output URLs point at this origin instead of the server's own. */
  fileOrigin?: string;
  /** The status URL answers this status and body instead of progressing (a failed export). */
  statusFailure?: { status: number; body: unknown };
}

export interface BulkServer {
  baseUrl: string;
  requests: { method: string; path: string; authorization?: string; prefer?: string }[];
  close(): Promise<void>;
}

export async function startBulkServer(options: BulkServerOptions): Promise<BulkServer> {
  const requests: BulkServer['requests'] = [];
  const files = new Map<string, string>();
  let polls = 0;
  let origin = '';
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    requests.push({
      method: req.method ?? '',
      path: `${url.pathname}${url.search}`,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(typeof req.headers.prefer === 'string' ? { prefer: req.headers.prefer } : {}),
    });
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      json(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'bearer token required' }] });
      return;
    }
    if (url.pathname === '/fhir/metadata') {
      json(res, 200, {
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
        rest: [
          {
            mode: 'server',
            resource: [{ type: 'Patient', operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' }] }],
          },
        ],
      });
      return;
    }
    if (url.pathname === '/fhir/Patient/$export' && req.method === 'GET') {
      const types = (url.searchParams.get('_type') ?? '').split(',').filter(Boolean);
      files.clear();
      for (const name of readdirSync(options.dataDir)
        .filter((f) => f.endsWith('.ndjson'))
        .sort()) {
        const type = name.replace(/\.ndjson$/, '');
        if (types.length > 0 && !types.includes(type)) continue;
        const text = readFileSync(join(options.dataDir, name), 'utf8');
        if (type === options.splitType) {
          const lines = text.split('\n').filter(Boolean);
          const half = Math.ceil(lines.length / 2);
          files.set(`${type}-1`, lines.slice(0, half).join('\n'));
          files.set(`${type}-2`, `${lines.slice(half).join('\n')}\n`);
        } else files.set(type, text);
      }
      polls = 0;
      res.writeHead(202, { 'content-location': `${origin}/fhir/$export-status/job-1` });
      res.end();
      return;
    }
    if (url.pathname === '/fhir/$export-status/job-1') {
      if (req.method === 'DELETE') {
        res.writeHead(202);
        res.end();
        return;
      }
      if (options.statusFailure) {
        json(res, options.statusFailure.status, options.statusFailure.body);
        return;
      }
      const step = options.progress === 'forever' ? { retryAfter: '1', progress: 'still going' } : options.progress[polls];
      polls++;
      if (step) {
        res.writeHead(202, { ...(step.retryAfter ? { 'retry-after': step.retryAfter } : {}), ...(step.progress ? { 'x-progress': step.progress } : {}) });
        res.end();
        return;
      }
      const fileBase = options.fileOrigin ?? origin;
      json(res, 200, {
        transactionTime: '2026-11-23T08:59:00Z',
        request: `${origin}/fhir/Patient/$export`,
        requiresAccessToken: Boolean(options.token),
        output: [...files.keys()].map((key) => ({ type: key.replace(/-\d$/, ''), url: `${fileBase}/files/${key}.ndjson` })),
        error: options.errorLines ? [{ type: 'OperationOutcome', url: `${fileBase}/files/errors.ndjson` }] : [],
      });
      return;
    }
    const file = /^\/files\/(.+)\.ndjson$/.exec(url.pathname)?.[1];
    const body = file === 'errors' ? `${(options.errorLines ?? []).join('\n')}\n` : file ? files.get(file) : undefined;
    if (body !== undefined) {
      res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
      res.end(body);
      return;
    }
    json(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `${url.pathname} not found` }] });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}/fhir`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
