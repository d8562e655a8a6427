/**
 * When prefetch is missing or partial the service reads the data from the client's FHIR server
 * (a real FHIR server on loopback: Medplum's FhirRouter fixture), with the fhirAuthorization
 * token and only for the keys that were not prefetched; when it cannot, it answers 412.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';
import { checkCdsResponse } from './support/cds-response-schema.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, iodineAllergy, mensesEnd, negativeTest, patient, prefetchFor } from './fixtures/hsg-fixture.ts';

const SERVICE = '/cds-services/hysterosalpingography-patient-view';
const TOKEN = 'fhir-access-token-for-the-cds-service';

let fhir: FhirTestServer;
let h: Harness;

beforeAll(async () => {
  fhir = await startFhirTestServer({ bearerToken: TOKEN, everything: false });
  for (const r of [patient, mensesEnd, negativeTest, iodineAllergy] as Resource[]) await fhir.repo.updateResource(r);
  h = await startHarness({ fhirRequestTimeoutMs: 500 }, { fhirServers: [fhir.baseUrl] });
});
afterAll(async () => {
  await h.close();
  await fhir.close();
});
beforeEach(() => {
  fhir.requests.length = 0;
  fhir.simulate.down = false;
  fhir.simulate.delayMs = 0;
  fhir.simulate.failures = [];
});

const fhirAuthorization = (token = TOKEN) => ({
  access_token: token,
  token_type: 'Bearer',
  expires_in: 300,
  scope: 'user/Patient.read user/Observation.read user/AllergyIntolerance.read',
  subject: 'cds-service',
});

function call(extra: Record<string, unknown>) {
  return { hook: 'patient-view', hookInstance: 'f00dbabe-0000-4000-8000-000000000001', context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID }, ...extra };
}

function summaries(body: unknown): string[] {
  return checkCdsResponse(body).cards.map((c) => c.summary);
}

describe('prefetch missing or partial', () => {
  it('reads everything from fhirServer with the bearer token and gives the same cards as full prefetch', async () => {
    const viaServer = await h.post(SERVICE, call({ fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
    expect(viaServer.status, viaServer.text).toBe(200);
    const viaPrefetch = await h.post(SERVICE, call({ prefetch: prefetchFor([mensesEnd, negativeTest, iodineAllergy]) }));
    expect(summaries(viaServer.body)).toEqual(summaries(viaPrefetch.body));
    expect(summaries(viaServer.body)[0]).toMatch(/should not be performed/);
    const asked = fhir.requests.map((r) => decodeURIComponent(r.url.slice(r.url.search(/(Patient|Observation|AllergyIntolerance)\b/)))).sort();
    expect(asked).toEqual([
      `AllergyIntolerance?patient=${PATIENT_ID}&code=http://snomed.info/sct|426722004`,
      `Observation?patient=${PATIENT_ID}&code=http://infertility-protocols.org/fhir/CodeSystem/infertility-workup|menses-end-date`,
      `Observation?patient=${PATIENT_ID}&code=http://loinc.org|2106-3`,
      `Patient/${PATIENT_ID}`,
    ]);
    expect(new Set(fhir.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
  });

  it('reads only the keys that were not prefetched', async () => {
    const prefetch = prefetchFor([mensesEnd, negativeTest]);
    delete prefetch['iodineAllergy'];
    const res = await h.post(SERVICE, call({ prefetch, fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
    expect(res.status, res.text).toBe(200);
    expect(fhir.requests.map((r) => decodeURIComponent(r.url.slice(r.url.indexOf('AllergyIntolerance'))))).toEqual([
      `AllergyIntolerance?patient=${PATIENT_ID}&code=http://snomed.info/sct|426722004`,
    ]);
    expect(summaries(res.body)[0]).toMatch(/should not be performed/);
  });

  it('does not call the FHIR server when prefetch is complete, even if fhirServer is given', async () => {
    const res = await h.post(SERVICE, call({ prefetch: prefetchFor([mensesEnd, negativeTest]), fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
    expect(res.status).toBe(200);
    expect(fhir.requests).toEqual([]);
  });

  it('treats an OperationOutcome in place of a prefetch key as not provided and reads it', async () => {
    const prefetch = prefetchFor([mensesEnd, negativeTest]);
    prefetch['iodineAllergy'] = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const res = await h.post(SERVICE, call({ prefetch, fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
    expect(res.status).toBe(200);
    expect(fhir.requests).toHaveLength(1);
  });

  it('412 when prefetch is missing and there is no fhirServer, naming the missing keys', async () => {
    const prefetch = prefetchFor([mensesEnd]);
    delete prefetch['pregnancy'];
    const res = await h.post(SERVICE, call({ prefetch }));
    expect(res.status).toBe(412);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toBe("prefetch does not carry 'pregnancy' and the request has no fhirServer to read them from");
  });

  it('412 when the FHIR server is down', async () => {
    fhir.simulate.down = true;
    const res = await h.post(SERVICE, call({ fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
    expect(res.status).toBe(412);
    expect(res.body.issue[0].code).toMatch(/transient|timeout/);
  });

  it('412 (timeout) when the FHIR server is slower than the per-request timeout', async () => {
    fhir.simulate.delayMs = 2000;
    const res = await h.post(SERVICE, call({ fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
    expect(res.status).toBe(412);
    expect(res.body.issue[0]).toMatchObject({ code: 'timeout', diagnostics: expect.stringContaining('500 ms') });
  });

  it('412 when the FHIR server refuses the token (asked once: a given token is not renewed)', async () => {
    const res = await h.post(SERVICE, call({ fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization('wrong-token') }));
    expect(res.status).toBe(412);
    // The one FHIR client codes a 401 as login (it was the generic 'security' before the clients were merged).
    expect(res.body.issue[0]).toMatchObject({ code: 'login', diagnostics: expect.stringContaining('HTTP 401') });
    expect(res.body.issue[0].diagnostics).not.toContain('wrong-token');
    // The reads run concurrently and the first refusal ends the call: whichever were sent, none was repeated.
    const urls = fhir.requests.map((r) => r.url);
    expect(urls.length).toBeGreaterThan(0);
    expect(new Set(urls).size).toBe(urls.length);
  });

  it('412 when the patient does not exist on the FHIR server', async () => {
    const body = call({ fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() });
    (body['context'] as { patientId: string }).patientId = 'nobody';
    const res = await h.post(SERVICE, body);
    expect(res.status).toBe(412);
    expect(res.body.issue[0].code).toBe('not-found');
  });

  it('412 (too-costly) rather than advice on a truncated record when a search has more pages than fhirMaxPages', async () => {
    const paged = await startFhirTestServer({ everything: false, pageSize: 1 });
    const capped = await startHarness({ fhirMaxPages: 2 }, { fhirServers: [paged.baseUrl] });
    try {
      const tests = ['t1', 't2', 't3'].map((id, i) => ({ ...negativeTest, id, effectiveDateTime: `2026-11-1${i}` }));
      for (const r of [patient, mensesEnd, ...tests] as Resource[]) await paged.repo.updateResource(r);
      const res = await capped.post(SERVICE, call({ fhirServer: paged.baseUrl }));
      expect(res.status).toBe(412);
      expect(res.body.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: expect.stringContaining('more than 2 pages') });
      // The pregnancy-test search stops at fhirMaxPages pages.
      expect(paged.requests.filter((r) => r.url.includes('2106-3'))).toHaveLength(2);
    } finally {
      await capped.close();
      await paged.close();
    }
  });

  it('refuses a fhirServer outside the allow-list without calling it', async () => {
    const guarded = await startHarness({ allowedFhirServers: ['https://ehr.example.org/fhir'] });
    try {
      const res = await guarded.post(SERVICE, call({ fhirServer: fhir.baseUrl, fhirAuthorization: fhirAuthorization() }));
      expect(res.status).toBe(403);
      expect(fhir.requests).toEqual([]);
    } finally {
      await guarded.close();
    }
  });
});
