import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import getPort from 'get-port';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { FhirClient, parseRetryAfter } from '../../src/fhir-server/client.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

let server: FhirTestServer;
beforeAll(async () => {
  server = await startFhirTestServer({ pageSize: 3 });
  for (let i = 0; i < 7; i++) {
    await server.repo.createResource({ resourceType: 'Observation', status: 'final', code: { text: `o${i}` }, subject: { reference: 'Patient/p1' } });
  }
});
afterAll(() => server.close());
beforeEach(() => {
  server.simulate.down = false;
  server.simulate.delayMs = 0;
  server.simulate.failures = [];
  server.requests.length = 0;
});

const client = (extra: Partial<ConstructorParameters<typeof FhirClient>[0]> = {}) =>
  new FhirClient({ baseUrl: server.baseUrl, backoffMs: 5, maxRetries: 3, timeoutMs: 2_000, ...extra });

async function failure(p: Promise<unknown>): Promise<OperationOutcomeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    return err as OperationOutcomeError;
  }
  throw new Error('expected a failure');
}

describe('FhirClient', () => {
  it('follows Bundle.link next across pages', async () => {
    const all = await client().searchAll('Observation?subject=Patient/p1');
    expect(all).toHaveLength(7);
    expect(new Set(all.map((r) => r.id)).size).toBe(7);
    expect(server.requests.filter((r) => r.url.startsWith('/fhir/R4/Observation'))).toHaveLength(3);
  });

  it('reads the CapabilityStatement and sees advertised operations', async () => {
    const c = client();
    expect(await c.supportsOperation('Patient', 'everything')).toBe(true);
    expect(await c.supportsOperation('Observation', 'everything')).toBe(false);
  });

  it('retries 500 and succeeds once the server recovers', async () => {
    server.simulate.failures = [{ status: 500 }, { status: 503 }];
    const messages: string[] = [];
    const c = client({ log: (m) => messages.push(m) });
    const bundle = await c.request('GET', 'Observation?_count=1');
    expect(bundle.status).toBe(200);
    expect(server.requests).toHaveLength(3);
    expect(messages[0]).toMatch(/HTTP 500; retry 1\/3/);
  });

  it('honours Retry-After on 429 before retrying', async () => {
    server.simulate.failures = [{ status: 429, retryAfter: '1' }];
    const messages: string[] = [];
    await client({ log: (m) => messages.push(m) }).request('GET', 'Observation?_count=1');
    // The backoff step is 5 ms, so a 1000 ms wait can only come from the header.
    expect(messages).toEqual([expect.stringMatching(/HTTP 429; retry 1\/3 in 1000 ms$/)]);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after the retries with an OperationOutcome naming the request and status', async () => {
    server.simulate.failures = Array.from({ length: 10 }, () => ({ status: 500 }));
    const err = await failure(client().request('GET', 'Observation'));
    expect(server.requests).toHaveLength(4);
    expect(err.outcome.issue[0]?.code).toBe('exception');
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/answered GET .*Observation with HTTP 500 .*after 4 attempts: simulated 500/);
  });

  it('does not wait for a Retry-After longer than allowed', async () => {
    server.simulate.failures = [{ status: 429, retryAfter: '3600' }];
    const err = await failure(client().request('GET', 'Observation'));
    expect(server.requests).toHaveLength(1);
    expect(err.outcome.issue[0]?.code).toBe('throttled');
  });

  it('does not repeat a non-idempotent POST after a 500 (it may have taken effect)', async () => {
    server.simulate.failures = [{ status: 500 }];
    await failure(client().request('POST', 'Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }));
    expect(server.requests).toHaveLength(1);
  });

  it('repeats a POST after 429 (the server did not process it)', async () => {
    server.simulate.failures = [{ status: 429 }];
    const r = await client().request('POST', 'Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } });
    expect(r.status).toBe(201);
    expect(server.requests).toHaveLength(2);
  });

  it('times out a slow server and reports it as a timeout', async () => {
    server.simulate.delayMs = 1_000;
    const err = await failure(client({ timeoutMs: 150, maxRetries: 1 }).request('GET', 'metadata'));
    expect(err.outcome.issue[0]?.code).toBe('timeout');
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/no answer within 150 ms \(2 attempts\)/);
  });

  it('reports a server that drops connections as unreachable', async () => {
    server.simulate.down = true;
    const err = await failure(client({ maxRetries: 1 }).request('GET', 'metadata'));
    expect(err.outcome.issue[0]?.code).toBe('transient');
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/unreachable/);
  });

  it('reports a port nobody listens on as unreachable (ECONNREFUSED)', async () => {
    // A port free right now: nothing listens there.
    const port = await getPort({ host: '127.0.0.1' });
    const c = new FhirClient({ baseUrl: `http://127.0.0.1:${port}/fhir`, backoffMs: 1, maxRetries: 1 });
    const err = await failure(c.request('GET', 'metadata'));
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/unreachable: GET .*metadata: ECONNREFUSED \(2 attempts\)/);
  });

  it('passes the server OperationOutcome of a 4xx through, after its own summary', async () => {
    const err = await failure(client().read('Patient', 'does-not-exist'));
    expect(err.outcome.issue[0]?.code).toBe('not-found');
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/HTTP 404/);
    expect(err.outcome.issue.length).toBeGreaterThan(1);
    expect(server.requests).toHaveLength(1);
  });

  it("marks every failure as another server's (upstream), with the status it answered", async () => {
    const err = await failure(client().read('Patient', 'does-not-exist'));
    expect(err.upstream).toEqual({ status: 404 });
    server.simulate.down = true;
    expect((await failure(client({ maxRetries: 0 }).request('GET', 'metadata'))).upstream).toEqual({});
  });

  it('does not read an answer larger than maxResponseBytes (too-costly), and does not retry it', async () => {
    const err = await failure(client({ maxResponseBytes: 1024 }).request('GET', 'metadata'));
    expect(err.outcome.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: expect.stringContaining('more than 1024 bytes') });
    expect(server.requests).toHaveLength(1);
  });

  it('stops a search at maxPages pages instead of returning a truncated result', async () => {
    const err = await failure(client({ maxPages: 2 }).searchAll('Observation?subject=Patient/p1'));
    expect(err.outcome.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: expect.stringContaining('more than 2 pages') });
    expect(server.requests).toHaveLength(2);
  });

  it('does not follow a redirect (the token would go with it)', async () => {
    const hits: string[] = [];
    const redirecting = createHttpServer((req, res) => {
      hits.push(`${req.url ?? ''} ${req.headers.authorization ?? ''}`);
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/fhir`;
      const c = new FhirClient({ baseUrl: base, maxRetries: 2, backoffMs: 1, auth: { token: () => Promise.resolve('t0k') } });
      const err = await failure(c.request('GET', 'Patient/1'));
      expect(err.outcome.issue[0]).toMatchObject({ code: 'not-supported', diagnostics: expect.stringMatching(/redirect \(HTTP 302\).*not followed/) });
      expect(hits).toEqual(['/fhir/Patient/1 Bearer t0k']);
    } finally {
      await new Promise<void>((resolve) =>
        redirecting.close(() => {
          resolve();
        }),
      );
    }
  });

  it('refuses a next link that points to another origin (it would leak the token)', () => {
    expect(() => client().resolve('http://evil.example/fhir/Observation?page=2')).toThrow(/not on the server/);
  });

  it('rejects a base URL that is not http(s)', () => {
    expect(() => new FhirClient({ baseUrl: 'ftp://x' })).toThrow(/http\(s\) URL/);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:10 GMT', Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
