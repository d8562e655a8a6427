/**
 * apply --write retried after a timeout (#16): the first transaction reached the server and was
 * written, its answer never came back; the retry's conditional create collides (HAPI answers 409,
 * or 412). The write-back reads its entries back by their stable identifiers and reports them as
 * already written - one copy, no error - and only fails when the first attempt left nothing.
 *
 * The FHIR server is the real fixture server; in front of it a real HTTP proxy plays the network
 * and HAPI's answer to the retry: it forwards the first transaction, holds its answer past the
 * client's timeout, and answers the retried one with the status under test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle, CarePlan } from '@medplum/fhirtypes';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { WRITE_BACK_IDENTIFIER_SYSTEM, writeBack } from '../../src/fhir-server/write-back.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const CLIENT_TIMEOUT_MS = 400;
const carePlan: CarePlan = { resourceType: 'CarePlan', id: 'cp', status: 'draft', intent: 'proposal', subject: { reference: 'Patient/p1' }, title: 'write-back retry' };

interface Proxy {
  baseUrl: string;
  transactions: number;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `firstWrites`: whether the first transaction reaches the server (else it is lost on the way). */
async function startProxy(upstream: FhirTestServer, retryStatus: number, firstWrites: boolean): Promise<Proxy> {
  const upstreamUrl = new URL(upstream.baseUrl);
  const held: ServerResponse[] = [];
  const state = { transactions: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const payload = await body(req);
      const path = (req.url ?? '/').replace(/^\/fhir/, '');
      const isTransaction = req.method === 'POST' && (path === '' || path === '/');
      if (isTransaction && ++state.transactions === 1) {
        if (firstWrites) await fetch(upstream.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: payload });
        held.push(res); // the answer never comes back: the client times out and retries
        return;
      }
      if (isTransaction) {
        res.writeHead(retryStatus, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'conflict', diagnostics: 'HAPI-0550: concurrent conditional create' }] }));
        return;
      }
      const answer = await fetch(`${upstreamUrl.origin}${upstreamUrl.pathname}${path}`, { method: req.method ?? 'GET', headers: { accept: 'application/fhir+json' } });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/fhir+json' });
      res.end(await answer.text());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    get transactions() {
      return state.transactions;
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

async function setUp(retryStatus: number, firstWrites: boolean): Promise<{ upstream: FhirTestServer; proxy: Proxy; client: FhirClient }> {
  const upstream = await startFhirTestServer();
  cleanups.push(() => upstream.close());
  const proxy = await startProxy(upstream, retryStatus, firstWrites);
  cleanups.push(() => proxy.close());
  return { upstream, proxy, client: new FhirClient({ baseUrl: proxy.baseUrl, timeoutMs: CLIENT_TIMEOUT_MS, maxRetries: 1, backoffMs: 1 }) };
}

async function storedCarePlans(upstream: FhirTestServer): Promise<CarePlan[]> {
  const found = (await (await fetch(`${upstream.baseUrl}/CarePlan?identifier=${encodeURIComponent(WRITE_BACK_IDENTIFIER_SYSTEM + '|')}`)).json()) as Bundle;
  return (found.entry ?? []).map((e) => e.resource as CarePlan).filter((c) => c.title === 'write-back retry');
}

describe('write-back retried after a timeout', () => {
  it.each([409, 412])('the retry answered %i: read back by identifier, reported as already written, one copy on the server', async (status) => {
    const { upstream, proxy, client } = await setUp(status, true);
    const report = await writeBack(client, { mode: 'r4', result: carePlan, seed: 'retry-test' });
    expect(proxy.transactions).toBe(2);
    const stored = await storedCarePlans(upstream);
    expect(stored).toHaveLength(1);
    expect(report).toEqual({ server: proxy.baseUrl, created: [], existing: [`CarePlan/${stored[0]!.id!}`] });
  });

  it('the first attempt never reached the server: the 409 stands, with what the read-back found', async () => {
    const { upstream, client } = await setUp(409, false);
    const error = await writeBack(client, { mode: 'r4', result: carePlan, seed: 'retry-test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationOutcomeError);
    expect((error as OperationOutcomeError).upstream?.status).toBe(409);
    expect((error as OperationOutcomeError).message).toMatch(/HTTP 409.*read back by its identifiers and is not complete: CarePlan with identifier .* not on the server/s);
    expect(await storedCarePlans(upstream)).toEqual([]);
  });
});
