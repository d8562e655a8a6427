/**
 * The fhirServer / dataEndpoint allow-list cannot be tricked (issue #13 item 1): each string
 * trick that fooled the old prefix check is tried against a real decoy HTTP server, which must
 * receive nothing; allowed servers are bound to the issuer that presented them; with auth on and
 * nothing configured the service is prefetch-only; a redirect is never followed elsewhere.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { FhirServerPolicy } from '../../src/server/allow-list.ts';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';
import { startTestClient, type TestClient } from './support/client-keys.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, iodineAllergy, mensesEnd, negativeTest, patient } from './fixtures/hsg-fixture.ts';

const SERVICE = '/cds-services/hysterosalpingography-patient-view';

interface Decoy {
  server: Server;
  port: number;
  origin: string;
  hits: string[];
}

/** An HTTP server that records every request: it must never be called. `answer` may redirect. */
async function startDecoy(answer?: (url: string) => { status: number; location?: string }): Promise<Decoy> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.authorization ?? ''}`);
    const a = answer?.(req.url ?? '') ?? { status: 200 };
    res.writeHead(a.status, { 'content-type': 'application/fhir+json', ...(a.location ? { location: a.location } : {}) });
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, origin: `http://127.0.0.1:${port}`, hits };
}

const closeServer = (s: Server) =>
  new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });

let fhir: FhirTestServer;
let decoy: Decoy;
let other: TestClient;
let h: Harness;
/** The decoy's port without its last digit: `http://127.0.0.1:<prefix>` is a string prefix of the decoy's URL. */
let portPrefix: string;

const fhirAuthorization = {
  access_token: 'secret-token-for-the-ehr',
  token_type: 'Bearer',
  expires_in: 300,
  scope: 'user/*.read',
  subject: 'cds-service',
};
const hook = (fhirServer: string) => ({
  hook: 'patient-view',
  hookInstance: 'a11ce000-0000-4000-8000-000000000001',
  context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID },
  fhirServer,
  fhirAuthorization,
});
const applyWith = (address: string) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
    { name: 'dataEndpoint', resource: { resourceType: 'Endpoint', status: 'active', address, header: ['Authorization: Bearer secret-token-for-the-ehr'] } },
    { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' },
  ],
});

beforeAll(async () => {
  fhir = await startFhirTestServer({ everything: false });
  for (const r of [patient, mensesEnd, negativeTest, iodineAllergy] as Resource[]) await fhir.repo.updateResource(r);
  decoy = await startDecoy();
  portPrefix = String(decoy.port).slice(0, -1);
  other = await startTestClient('https://other-ehr.test.example/');
  // The harness's client may use the real server, a port that is a string prefix of the decoy's
  // (the whole origin), and the /fhir path on the decoy's host; the other client has none.
  h = await startHarness({}, { alsoTrust: [other], fhirServers: [fhir.baseUrl, `http://127.0.0.1:${portPrefix}`, `${decoy.origin}/fhir`] });
});
afterAll(async () => {
  await h.close();
  await other.close();
  await fhir.close();
  await closeServer(decoy.server);
});
beforeEach(() => {
  decoy.hits.length = 0;
  fhir.requests.length = 0;
});

describe('each trick of the old prefix check is refused, and the decoy receives nothing', () => {
  const tricks = () => ({
    'a longer port (:1894 admitted :18941)': `${decoy.origin}/`,
    'user info (http://allowed@other/)': `http://127.0.0.1:${portPrefix}@127.0.0.1:${decoy.port}/fhir`,
    'a dot segment (/fhir/../x)': `${decoy.origin}/fhir/../x`,
    'a longer segment (/fhirx passed /fhir)': `${decoy.origin}/fhirx`,
    'an encoded slash (/fhir%2F..%2Fx)': `${decoy.origin}/fhir%2F..%2Fx`,
    'a query string': `${decoy.origin}/fhir?x=1`,
  });

  it('each trick would pass the old string-prefix check', () => {
    const allowed = [`http://127.0.0.1:${portPrefix}`, `${decoy.origin}/fhir`];
    for (const url of Object.values(tricks())) expect(allowed.some((a) => url.startsWith(a))).toBe(true);
  });

  it('CDS fhirServer: 403 for each trick, no request reaches the decoy', async () => {
    for (const [name, url] of Object.entries(tricks())) {
      const res = await h.post(SERVICE, hook(url));
      expect(res.status, `${name}: ${res.text}`).toBe(403);
      expect(res.body.issue[0].code).toBe('forbidden');
    }
    expect(decoy.hits).toEqual([]);
  });

  it('the longer port is refused when only the shorter one is allowed', () => {
    const policy = new FhirServerPolicy({ authRequired: true, global: [`http://127.0.0.1:${portPrefix}`], byIssuer: new Map() });
    expect(policy.allows(`${decoy.origin}/fhir`, undefined)).toBe(false);
    expect(policy.allows(`http://127.0.0.1:${portPrefix}/fhir`, undefined)).toBe(true);
  });

  it('$apply dataEndpoint: 403 for each trick, no request reaches the decoy', async () => {
    for (const [name, url] of Object.entries(tricks())) {
      const res = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', applyWith(url), { token: await h.client.sign(`${BASE_URL}/fhir`) });
      expect(res.status, `${name}: ${res.text}`).toBe(403);
    }
    expect(decoy.hits).toEqual([]);
  });

  it('the allowed server itself is still read (fhirServer and dataEndpoint)', async () => {
    const res = await h.post(SERVICE, hook(fhir.baseUrl));
    expect(res.status, res.text).toBe(200);
    const applied = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', applyWith(fhir.baseUrl), { token: await h.client.sign(`${BASE_URL}/fhir`) });
    expect(applied.status, applied.text).toBe(200);
    expect(fhir.requests.length).toBeGreaterThan(0);
  });
});

describe('allowed servers are bound to the issuer', () => {
  it("another trusted client cannot send the service to the first client's server", async () => {
    const token = await other.sign(`${BASE_URL}${SERVICE}`);
    const res = await h.post(SERVICE, hook(fhir.baseUrl), { token });
    expect(res.status, res.text).toBe(403);
    const applied = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', applyWith(fhir.baseUrl), { token: await other.sign(`${BASE_URL}/fhir`) });
    expect(applied.status, applied.text).toBe(403);
    expect(fhir.requests).toEqual([]);
  });

  it('the global list admits a server for every trusted client', async () => {
    const shared = await startHarness({ allowedFhirServers: [fhir.baseUrl] }, { alsoTrust: [other] });
    try {
      const res = await shared.post(SERVICE, hook(fhir.baseUrl), { token: await other.sign(`${BASE_URL}${SERVICE}`) });
      expect(res.status, res.text).toBe(200);
    } finally {
      await shared.close();
    }
  });
});

describe('deny by default', () => {
  it('auth on and no server configured: prefetch-only (a startup warning), a fhirServer is refused uncalled', async () => {
    const bare = await startHarness();
    try {
      expect(bare.logs.some((l) => l.includes('prefetch-only'))).toBe(true);
      const res = await bare.post(SERVICE, hook(fhir.baseUrl));
      expect(res.status).toBe(403);
      expect(res.body.issue[0].diagnostics).toMatch(/prefetch/);
      expect(fhir.requests).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it('the config refuses an allowed entry with user info or a query', async () => {
    await expect(startHarness({ allowedFhirServers: ['http://user@127.0.0.1/fhir'] })).rejects.toThrow(/user info/);
    await expect(startHarness({ allowedFhirServers: ['http://127.0.0.1/fhir?x=1'] })).rejects.toThrow(/query/);
  });
});

describe('redirects and next links never lead elsewhere', () => {
  it('a redirect from an allowed server to the decoy is not followed (412, the decoy receives nothing)', async () => {
    const redirector = await startDecoy(() => ({ status: 302, location: `${decoy.origin}/fhir/Patient/${PATIENT_ID}` }));
    const harness = await startHarness({}, { fhirServers: [`${redirector.origin}/fhir`] });
    try {
      const res = await harness.post(SERVICE, hook(`${redirector.origin}/fhir`));
      expect(res.status, res.text).toBe(412);
      expect(redirector.hits.length).toBeGreaterThan(0);
      expect(decoy.hits).toEqual([]);
    } finally {
      await harness.close();
      await closeServer(redirector.server);
    }
  });

  it('a server-side reader confined to its base refuses a next link outside it, by path segments', async () => {
    const reader = new FhirClient({ baseUrl: `${decoy.origin}/fhir`, confineToBase: true, maxRetries: 0 });
    expect(reader.isWithinBase(`${decoy.origin}/fhir/Observation?page=2`)).toBe(true);
    expect(reader.isWithinBase(`${decoy.origin}/fhirx/Observation`)).toBe(false);
    expect(reader.isWithinBase(`${decoy.origin}/fhir/../admin`)).toBe(false);
    await expect(reader.searchAll(`${decoy.origin}/other/Observation`)).rejects.toThrow(/refusing to follow/);
    expect(decoy.hits).toEqual([]);
  });
});
