/**
 * Every refusal path through the real server (Fastify inject(), real signed JWTs): JWT checks (missing, forged, expired, wrong aud, unknown
 * issuer, replayed jti, symmetric alg, foreign jku), malformed or oversized bodies, unknown
 * services, invalid hook requests, CORS. Every error body is an OperationOutcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { startHarness, BASE_URL, type CallResult, type Harness } from './support/harness.ts';
import { generateSigningKey } from './support/client-keys.ts';
import { PATIENT_ID, mensesEnd, negativeTest, prefetchFor } from './fixtures/hsg-fixture.ts';
import { checkCdsResponse } from './support/cds-response-schema.ts';

const SERVICE = '/cds-services/hysterosalpingography-patient-view';
const body = () => ({
  hook: 'patient-view',
  hookInstance: 'c0ffee00-1111-4222-8333-444455556666',
  context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID },
  prefetch: prefetchFor([mensesEnd, negativeTest]),
});

function expectOutcome(res: CallResult, status: number, code: string, text?: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe(code);
  if (text) expect(res.body.issue[0].diagnostics).toMatch(text);
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bodyLimit: 64 * 1024, corsOrigins: ['https://ehr.example.org'] });
});
afterAll(async () => {
  await h.close();
});

describe('JWT authentication of the CDS client', () => {
  it('accepts a correctly signed token (jku = the registered JWK Set)', async () => {
    const res = await h.post(SERVICE, body());
    expect(res.status).toBe(200);
    checkCdsResponse(res.body);
  });

  it('refuses a call without a token', async () => {
    expectOutcome(await h.post(SERVICE, body(), { token: null }), 401, 'login', /missing Authorization/);
  });

  it('refuses a token that is not a JWT', async () => {
    expectOutcome(await h.post(SERVICE, body(), { token: 'not.a.jwt' }), 401, 'login', /not a JWT/);
  });

  it('refuses a token signed by another key under the same kid (bad signature)', async () => {
    const token = await h.client.sign(`${BASE_URL}${SERVICE}`, { key: await generateSigningKey() });
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /signature/);
  });

  it('refuses an expired token', async () => {
    const token = await h.client.sign(`${BASE_URL}${SERVICE}`, { expiresIn: -120, issuedAgo: 200 });
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /expired/);
  });

  it('refuses a token for another endpoint (aud)', async () => {
    const token = await h.client.sign(`${BASE_URL}/cds-services/some-other-service`);
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /aud/);
  });

  it('refuses a token from an issuer that is not on the allow-list', async () => {
    const token = await h.client.sign(`${BASE_URL}${SERVICE}`, { payload: { iss: 'https://rogue.example/' } });
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /not trusted/);
  });

  it('refuses a replayed token (same jti)', async () => {
    const token = await h.client.sign(`${BASE_URL}${SERVICE}`);
    expect((await h.post(SERVICE, body(), { token })).status).toBe(200);
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /already used/);
  });

  it('refuses a token without jti', async () => {
    const token = await h.client.sign(`${BASE_URL}${SERVICE}`, { omit: ['jti'] });
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /jti/);
  });

  it('refuses a symmetric (HMAC) token even with a trusted iss', async () => {
    const token = await new SignJWT({ iss: h.client.iss, aud: `${BASE_URL}${SERVICE}`, jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: h.client.kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-shared-secret-that-must-not-work-0123456789'));
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login');
  });

  it('refuses a token pointing at a JWK Set of its own choosing (jku)', async () => {
    const token = await h.client.sign(`${BASE_URL}${SERVICE}`, { header: { jku: 'http://127.0.0.1:1/evil-jwks.json' } });
    expectOutcome(await h.post(SERVICE, body(), { token }), 401, 'login', /jku/);
  });

  it('checks feedback calls too (aud = the feedback URL or its service)', async () => {
    const issued = checkCdsResponse((await h.post(SERVICE, body())).body);
    const feedback = { feedback: [{ card: issued.cards[0]?.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-23T09:10:00Z' }] };
    expectOutcome(await h.post(`${SERVICE}/feedback`, feedback, { token: null }), 401, 'login');
    expect((await h.post(`${SERVICE}/feedback`, feedback)).status).toBe(200);
    const serviceAud = await h.client.sign(`${BASE_URL}${SERVICE}`);
    expect((await h.post(`${SERVICE}/feedback`, feedback, { token: serviceAud })).status).toBe(200);
  });

  it('accepts keys configured out of band (static JWK Set) without fetching', async () => {
    const other = await startHarness({});
    await other.close();
    const hits = h.client.jwksHits();
    const local = await startHarness({ auth: { trustedIssuers: [{ iss: h.client.iss, jwks: { keys: [h.client.publicJwk] } }] } });
    try {
      const token = await h.client.sign(`${BASE_URL}${SERVICE}`, { header: { jku: undefined } });
      const res = await local.post(SERVICE, body(), { token });
      expect(res.status, res.text).toBe(200);
      expect(h.client.jwksHits()).toBe(hits);
    } finally {
      await local.close();
    }
  });

  it('refuses to start with auth required and no trusted issuer', async () => {
    await expect(startHarness({ auth: { required: true, trustedIssuers: [] } })).rejects.toThrow(/no trusted issuer/);
  });
});

describe('request errors', () => {
  it('malformed JSON -> 400', async () => {
    expectOutcome(await h.post(SERVICE, undefined, { rawBody: '{"hook": "patient-view",' }), 400, 'structure', /not valid JSON/);
  });

  it('a body over the limit -> 413', async () => {
    const big = { ...body(), padding: 'x'.repeat(70 * 1024) };
    expectOutcome(await h.post(SERVICE, big), 413, 'too-long');
  });

  it('a non-JSON media type -> 415, the issue located at the Content-Type header', async () => {
    const res = await h.post(SERVICE, undefined, { rawBody: 'hook=patient-view', headers: { 'content-type': 'text/plain' } });
    expectOutcome(res, 415, 'not-supported');
    expect(res.body.issue[0].location).toEqual(['http.Content-Type']);
  });

  it("a body that fails the route's schema -> 400 naming the part and the field", async () => {
    const { hookInstance: _dropped, ...withoutInstance } = body();
    expectOutcome(await h.post(SERVICE, withoutInstance), 400, 'invalid', /^body\.hookInstance: /);
  });

  it('checks the JWT before reading the body: no token and a malformed, oversized or wrongly typed body -> 401', async () => {
    expectOutcome(await h.post(SERVICE, undefined, { token: null, rawBody: '{"hook": ' }), 401, 'login');
    expectOutcome(await h.post(SERVICE, { ...body(), padding: 'x'.repeat(70 * 1024) }, { token: null }), 401, 'login');
    expectOutcome(await h.post(SERVICE, undefined, { token: null, rawBody: 'x', headers: { 'content-type': 'text/plain' } }), 401, 'login');
    expectOutcome(await h.post(SERVICE, { hook: 'patient-view' }, { token: null }), 401, 'login');
  });

  it('an unknown service is 404 even when the body is not a hook request (the service is checked before the body)', async () => {
    expectOutcome(await h.post('/cds-services/no-such-service', { not: 'a hook request' }), 404, 'not-found');
  });

  it('an unknown service -> 404', async () => {
    expectOutcome(await h.post('/cds-services/no-such-service', body()), 404, 'not-found', /no-such-service/);
  });

  it('an unknown route -> 404 OperationOutcome', async () => {
    expectOutcome(await h.get('/nothing-here', { token: null }), 404, 'not-found');
  });

  it('a request for another hook than the service is registered for -> 400', async () => {
    expectOutcome(await h.post(SERVICE, { ...body(), hook: 'order-sign' }), 400, 'invalid', /registered for 'patient-view'/);
  });

  it('a context without patientId -> 400 naming the field', async () => {
    const b = body();
    expectOutcome(await h.post(SERVICE, { ...b, context: { userId: 'Practitioner/doc-1' } }), 400, 'invalid', /context\.patientId/);
  });

  it('fhirAuthorization without fhirServer -> 400 (cds-r-1)', async () => {
    const auth = { access_token: 't', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' };
    expectOutcome(await h.post(SERVICE, { ...body(), fhirAuthorization: auth }), 400, 'invalid', /cds-r-1/);
  });

  it('prefetch of another patient -> 400', async () => {
    const b = body();
    b.prefetch['patient'] = { resourceType: 'Patient', id: 'someone-else' };
    expectOutcome(await h.post(SERVICE, b), 400, 'invalid', /someone-else/);
  });

  it('an Observation of another patient inside prefetch -> 400', async () => {
    const b = body();
    b.prefetch['pregnancy'] = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { ...negativeTest, subject: { reference: 'Patient/other' } } }] };
    expectOutcome(await h.post(SERVICE, b), 400, 'invalid', /another patient/);
  });
});

describe('CORS', () => {
  it('answers the preflight for an allowed origin, with Authorization allowed', async () => {
    const res = await h.request('OPTIONS', SERVICE, {
      headers: { origin: 'https://ehr.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ehr.example.org');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
  });

  it('gives no allow-origin to another origin', async () => {
    const res = await h.request('GET', '/cds-services', { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('development mode and discovery protection', () => {
  it('without auth (dev flag) serves calls with no token and says so loudly in the log', async () => {
    const dev = await startHarness({ auth: { required: false } });
    try {
      const res = await dev.post(SERVICE, body(), { token: null });
      expect(res.status).toBe(200);
      expect(dev.logs.join('\n')).toMatch(/AUTHENTICATION IS DISABLED/);
    } finally {
      await dev.close();
    }
  });

  it('protectDiscovery requires a token with aud = <base>/cds-services', async () => {
    const p = await startHarness({ auth: { trustedIssuers: [{ iss: h.client.iss, jwks: { keys: [h.client.publicJwk] } }], protectDiscovery: true } });
    try {
      expectOutcome(await p.get('/cds-services', { token: null }), 401, 'login');
      const token = await h.client.sign(`${BASE_URL}/cds-services`);
      expect((await p.get('/cds-services', { token })).status).toBe(200);
    } finally {
      await p.close();
    }
  });
});
