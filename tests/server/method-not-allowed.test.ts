/**
 * Issue #13: a known path asked with a method it does not serve is 405 Method Not Allowed with an
 * `Allow` header and an OperationOutcome; an unknown path stays 404; HEAD is served wherever GET
 * is. Over real HTTP (node:http: fetch refuses TRACE), against the server listening on a port.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import { fixtureKnowledge } from './fixtures/hsg-fixture.ts';

let server: RunningServer;
let corsServer: RunningServer;
const config = { host: '127.0.0.1', port: 0, baseUrl: 'http://127.0.0.1', auth: { required: false }, now: '2026-03-01T09:00:00Z', logLevel: 'silent' } as const;
beforeAll(async () => {
  server = await startServer({ ...config, knowledge: fixtureKnowledge() });
  corsServer = await startServer({ ...config, knowledge: fixtureKnowledge(), corsOrigins: ['https://ehr.example'] });
});
afterAll(async () => {
  await server.close();
  await corsServer.close();
});

interface Answer {
  status: number;
  allow: string | undefined;
  contentType: string | undefined;
  text: string;
}

function send(address: string, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${address}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, contentType: res.headers['content-type'], text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expect405(answer: Answer, allow: string): void {
  expect(answer.status, answer.text).toBe(405);
  expect(answer.allow).toBe(allow);
  expect(answer.contentType).toMatch(/^application\/fhir\+json/);
  const outcome = JSON.parse(answer.text) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'not-supported', location: ['http.method'] });
}

describe('405 Method Not Allowed on a known path', () => {
  it.each([
    ['DELETE', '/fhir/PlanDefinition/$apply', 'GET, HEAD, POST'],
    ['PATCH', '/fhir/PlanDefinition/hysterosalpingography/$apply', 'GET, HEAD, POST'],
    ['PUT', '/fhir/PlanDefinition/hysterosalpingography/$package', 'GET, HEAD, POST'],
    ['TRACE', '/fhir/metadata', 'GET, HEAD'],
    ['QUERY', '/cds-services', 'GET, HEAD'],
    ['DELETE', '/fhir/PlanDefinition/hysterosalpingography', 'GET, HEAD'],
    ['GET', '/cds-services/hysterosalpingography-patient-view', 'POST'],
    ['OPTIONS', '/fhir/metadata', 'GET, HEAD'],
  ])('%s %s -> 405, Allow: %s', async (method, path, allow) => {
    expect405(await send(server.address, method, path), allow);
  });

  it('a method that carries a body without a Content-Type is still 405, not a body error', async () => {
    expect405(await send(server.address, 'PATCH', '/fhir/metadata', '{}'), 'GET, HEAD');
    expect405(await send(server.address, 'QUERY', '/fhir/metadata'), 'GET, HEAD');
  });

  it('an unknown path stays 404 without Allow, whatever the method', async () => {
    for (const method of ['GET', 'DELETE', 'TRACE']) {
      const answer = await send(server.address, method, '/no-such-path');
      expect(answer.status).toBe(404);
      expect(answer.allow).toBeUndefined();
      expect((JSON.parse(answer.text) as OperationOutcome).issue[0]?.code).toBe('not-found');
    }
  });

  it('HEAD is served wherever GET is (no body)', async () => {
    const answer = await send(server.address, 'HEAD', '/fhir/metadata');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
  });

  it('with CORS on, OPTIONS is the preflight everywhere, and named in Allow; its catch-all does not make an unknown path known', async () => {
    expect405(await send(corsServer.address, 'DELETE', '/fhir/metadata'), 'GET, HEAD, OPTIONS');
    expect((await send(corsServer.address, 'DELETE', '/no-such-path')).status).toBe(404);
  });
});

describe('paths the router refuses before any route runs', () => {
  // Found by schemathesis: Fastify answered a bare JSON 414 (undocumented) for a 100+ character
  // path segment, and a bare JSON 400 for bad percent-encoding.
  it.each([
    ['an over-long id', 'GET', `/fhir/PlanDefinition/${'x'.repeat(150)}/$apply?subject=Patient/p1`, undefined],
    ['an over-long CDS service id', 'POST', `/cds-services/${'s'.repeat(300)}`, '{}'],
    ['malformed percent-encoding', 'GET', '/fhir/PlanDefinition/%E0%A4%A/$apply', undefined],
  ])('%s -> 400 with an OperationOutcome', async (_label, method, path, body) => {
    const answer = await send(server.address, method, path, body);
    expect(answer.status, answer.text).toBe(400);
    expect(answer.contentType).toMatch(/^application\/fhir\+json/);
    const outcome = JSON.parse(answer.text) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'invalid' });
  });
});
