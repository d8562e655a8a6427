/**
 * The FHIR endpoints through the real server (inject(), real JWTs, a real FHIR server as data
 * endpoint): CapabilityStatement, read/search of the artifacts, and PlanDefinition /
 * ActivityDefinition $apply with a data Bundle or a data endpoint.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CapabilityStatement, CarePlan, RequestGroup, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, PLAN_URL, iodineAllergy, mensesEnd, negativeTest, patient } from './fixtures/hsg-fixture.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let h: Harness;
let fhir: FhirTestServer;
beforeAll(async () => {
  fhir = await startFhirTestServer({ bearerToken: 'tok', everything: false });
  h = await startHarness({}, { fhirServers: [fhir.baseUrl] });
  for (const r of [patient, mensesEnd, negativeTest, iodineAllergy] as Resource[]) await fhir.repo.updateResource(r);
});
afterAll(async () => {
  await h.close();
  await fhir.close();
});

const applyToken = () => h.client.sign(`${BASE_URL}/fhir`);
const dataBundle = (resources: Resource[]) => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });
const parameters = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });

describe('metadata, read and search', () => {
  it('declares exactly the served types, interactions, search parameters and operations', async () => {
    const res = await h.get('/fhir/metadata', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    const cs = res.body as CapabilityStatement;
    expect(cs.fhirVersion).toBe('4.0.1');
    // One version everywhere: the package's own (not a copy in the code that drifts at release).
    expect(cs.software).toEqual({ name: 'infertility-protocols', version: PACKAGE_VERSION });
    const resources = cs.rest?.[0]?.resource ?? [];
    expect(resources.map((r) => r.type)).toEqual(['ActivityDefinition', 'PlanDefinition', 'OperationDefinition']);
    expect(resources[1]?.interaction?.map((i) => i.code)).toEqual(['read', 'search-type']);
    expect(resources[1]?.searchParam?.map((p) => p.name)).toEqual(['url', 'version', '_id', 'name', 'status']);
    // Every operation served is named by an OperationDefinition this server serves.
    expect(resources[1]?.operation).toEqual([
      { name: 'apply', definition: `${BASE_URL}/fhir/OperationDefinition/PlanDefinition-apply` },
      { name: 'data-requirements', definition: `${BASE_URL}/fhir/OperationDefinition/PlanDefinition-data-requirements` },
      { name: 'package', definition: `${BASE_URL}/fhir/OperationDefinition/PlanDefinition-package` },
    ]);
    expect(resources[0]?.operation).toEqual([{ name: 'apply', definition: `${BASE_URL}/fhir/OperationDefinition/ActivityDefinition-apply` }]);
    for (const op of [...(resources[0]?.operation ?? []), ...(resources[1]?.operation ?? [])]) {
      const read = await h.get(op.definition.slice(BASE_URL.length), { token: null });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ resourceType: 'OperationDefinition', url: op.definition, code: op.name, kind: 'operation' });
    }
  });

  it('searches by url, version, _id, name (prefix) and status; comma = OR', async () => {
    const byUrl = (await h.get(`/fhir/PlanDefinition?url=${encodeURIComponent(PLAN_URL)}&version=0.0.1-test`, { token: null })).body as Bundle;
    expect(byUrl.type).toBe('searchset');
    expect(byUrl.total).toBe(1);
    expect(byUrl.entry?.[0]?.fullUrl).toBe(`${BASE_URL}/fhir/PlanDefinition/hysterosalpingography`);
    expect(((await h.get('/fhir/PlanDefinition?version=9.9', { token: null })).body as Bundle).total).toBe(0);
    const ads = (await h.get('/fhir/ActivityDefinition?_id=hsg,hycosy&status=active', { token: null })).body as Bundle;
    expect(ads.entry?.map((e) => e.resource?.id)).toEqual(['hsg', 'hycosy'].sort());
    expect(((await h.get('/fhir/ActivityDefinition?name=HSG', { token: null })).body as Bundle).entry?.map((e) => e.resource?.id)).toEqual(['hsg', 'hsg-aftercare']);
  });

  it('refuses unknown search parameters instead of ignoring them', async () => {
    const res = await h.get('/fhir/PlanDefinition?title=HSG', { token: null });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/unsupported search parameter 'title'/);
  });

  it('reads by type and id; 404 for unknown ids and types', async () => {
    const res = await h.get('/fhir/ActivityDefinition/hsg', { token: null });
    expect(res.body).toMatchObject({ resourceType: 'ActivityDefinition', id: 'hsg' });
    expect((await h.get('/fhir/ActivityDefinition/nope', { token: null })).status).toBe(404);
    expect((await h.get('/fhir/Patient/pat-1', { token: null })).status).toBe(404);
  });
});

describe('PlanDefinition/$apply', () => {
  it('instance level with a data Bundle returns the R4 CarePlan with the contained RequestGroup', async () => {
    const body = parameters(
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'data', resource: dataBundle([patient, mensesEnd, negativeTest]) },
      { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' },
    );
    const res = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', body, { token: await applyToken(), headers: { 'content-type': 'application/fhir+json' } });
    expect(res.status, res.text).toBe(200);
    const carePlan = res.body as CarePlan;
    expect(carePlan.resourceType).toBe('CarePlan');
    expect(carePlan.instantiatesCanonical).toEqual([`${PLAN_URL}|0.0.1-test`]);
    const hsg = carePlan.contained?.find((r) => r.id === 'hsg') as ServiceRequest;
    expect(hsg.occurrencePeriod).toEqual({ start: '2026-11-25', end: '2026-11-27' });
    expect(carePlan.contained?.some((r) => r.resourceType === 'RequestGroup')).toBe(true);
  });

  it('type level by url|version, cpg mode, gives a Bundle with the RequestGroup first', async () => {
    const body = parameters(
      { name: 'url', valueUri: PLAN_URL },
      { name: 'version', valueString: '0.0.1-test' },
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'data', resource: dataBundle([patient, mensesEnd, negativeTest, iodineAllergy]) },
      { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' },
      { name: 'mode', valueCode: 'cpg' },
    );
    const res = await h.post('/fhir/PlanDefinition/$apply', body, { token: await applyToken() });
    expect(res.status, res.text).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.entry?.[0]?.resource?.resourceType).toBe('RequestGroup');
    const requests = bundle.entry?.map((e) => e.resource).filter((r): r is ServiceRequest => r?.resourceType === 'ServiceRequest');
    expect(requests?.find((r) => r.doNotPerform)?.supportingInfo).toEqual([{ reference: 'AllergyIntolerance/iodine' }]);
  });

  it('reads the data from a dataEndpoint (Endpoint with an Authorization header) when asked', async () => {
    const endpoint = {
      resourceType: 'Endpoint',
      status: 'active',
      address: fhir.baseUrl,
      header: ['Authorization: Bearer tok'],
      connectionType: { code: 'hl7-fhir-rest' },
      payloadType: [{ text: 'any' }],
    };
    const body = parameters(
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'dataEndpoint', resource: endpoint },
      { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' },
    );
    fhir.requests.length = 0;
    const res = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', body, { token: await applyToken() });
    expect(res.status, res.text).toBe(200);
    const rg = (res.body as CarePlan).contained?.find((r): r is RequestGroup => r.resourceType === 'RequestGroup');
    expect(rg?.action?.[0]?.action?.map((a) => a.id)).toEqual(['hsg-contraindicated', 'hycosy']);
    expect(fhir.requests.every((r) => r.authorization === 'Bearer tok')).toBe(true);
  });

  it("answers a dataEndpoint's failure as a gateway: 502 when it refuses the token (not our caller's 401), 502 when down", async () => {
    const endpoint = (token: string) => ({ resourceType: 'Endpoint', status: 'active', address: fhir.baseUrl, header: [`Authorization: Bearer ${token}`] });
    const call = (token: string) =>
      parameters(
        { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
        { name: 'dataEndpoint', resource: endpoint(token) },
        { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' },
      );
    const refused = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', call('wrong'), { token: await applyToken() });
    expect(refused.status).toBe(502);
    expect(refused.body.issue[0]).toMatchObject({ code: 'login', diagnostics: expect.stringContaining('HTTP 401') });
    fhir.simulate.down = true;
    try {
      const down = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', call('tok'), { token: await applyToken() });
      expect(down.status).toBe(502);
      expect(down.body.issue[0].code).toBe('transient');
    } finally {
      fhir.simulate.down = false;
    }
  });

  it('needs a JWT for $apply (patient data), with aud = <base>/fhir', async () => {
    const body = parameters({ name: 'subject', valueString: `Patient/${PATIENT_ID}` }, { name: 'data', resource: dataBundle([patient]) });
    expect((await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', body, { token: null })).status).toBe(401);
    const wrongAud = await h.client.sign(`${BASE_URL}/cds-services`);
    expect((await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', body, { token: wrongAud })).status).toBe(401);
  });

  it.each([
    ['a body that is not Parameters', { resourceType: 'Bundle' }, 400, /Parameters/],
    ['no subject', parameters({ name: 'data', resource: dataBundle([patient]) }), 400, /subject/],
    ['a subject absent from the data', parameters({ name: 'subject', valueString: 'Patient/ghost' }, { name: 'data', resource: dataBundle([patient]) }), 400, /Patient\/ghost/],
    ['an unknown parameter', parameters({ name: 'subject', valueString: `Patient/${PATIENT_ID}` }, { name: 'colour', valueString: 'red' }), 400, /colour/],
    ['a now without offset', parameters({ name: 'subject', valueString: `Patient/${PATIENT_ID}` }, { name: 'now', valueDateTime: '2026-11-23T09:00:00' }), 400, /offset/],
  ])('refuses %s', async (_name, body, status, message) => {
    const res = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', body, { token: await applyToken() });
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toMatch(message);
  });

  it('404 for an unknown PlanDefinition', async () => {
    const body = parameters({ name: 'subject', valueString: `Patient/${PATIENT_ID}` }, { name: 'data', resource: dataBundle([patient]) });
    expect((await h.post('/fhir/PlanDefinition/nope/$apply', body, { token: await applyToken() })).status).toBe(404);
    const typeLevel = parameters(
      { name: 'url', valueUri: 'http://nowhere.example/PlanDefinition/x' },
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'data', resource: dataBundle([patient]) },
    );
    expect((await h.post('/fhir/PlanDefinition/$apply', typeLevel, { token: await applyToken() })).status).toBe(404);
  });
});

describe('ActivityDefinition/$apply', () => {
  it('returns the request resource for the subject', async () => {
    const body = parameters(
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'data', resource: dataBundle([patient]) },
      { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' },
    );
    const res = await h.post('/fhir/ActivityDefinition/hsg/$apply', body, { token: await applyToken() });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'ServiceRequest', subject: { reference: `Patient/${PATIENT_ID}` }, code: { coding: [{ code: '168884001' }] } });
  });
});
