/**
 * SAFE-1 over HTTP: FHIR $apply with a data Bundle holding several patients, ActivityDefinition
 * $apply, and the CDS prefetch check for every reference form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AllergyIntolerance, CarePlan, Observation, OperationOutcome, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { checkCdsResponse } from './support/cds-response-schema.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, iodineAllergy, mensesEnd, negativeTest, patient, prefetchFor, searchset } from './fixtures/hsg-fixture.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const MRN = { system: 'http://hospital.example.org/mrn', value: 'MRN-1' };
const other: Patient = { resourceType: 'Patient', id: 'pat-2', gender: 'female', birthDate: '1985-01-01', identifier: [{ system: MRN.system, value: 'MRN-2' }] };
const othersAllergy: AllergyIntolerance = { ...iodineAllergy, id: 'iodine-of-pat-2', patient: { reference: 'Patient/pat-2' } };
const SAFE1 = /SAFE-1/;

const parameters = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });
const data = (entries: { resource: Resource; fullUrl?: string }[]) => ({ name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: entries } });
const plain = (...resources: Resource[]) => resources.map((resource) => ({ resource }));

async function applyPlan(...parameter: unknown[]) {
  const token = await h.client.sign(`${BASE_URL}/fhir`);
  return h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', parameters(...parameter, { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' }), { token });
}

/** The CarePlan without the SAFE-1 warnings (and the outcome they alone put there). */
function withoutDataWarnings(carePlan: CarePlan): CarePlan {
  const copy = structuredClone(carePlan);
  const oo = copy.contained?.find((r) => r.resourceType === 'OperationOutcome');
  if (!oo) return copy;
  oo.issue = oo.issue.filter((i) => !SAFE1.test(i.diagnostics ?? ''));
  if (oo.issue.length === 0) {
    copy.contained = copy.contained!.filter((r) => r !== oo);
    copy.extension = (copy.extension ?? []).filter((e) => e.valueReference?.reference !== `#${oo.id}`);
    if (copy.extension.length === 0) delete copy.extension;
  }
  return copy;
}

describe('PlanDefinition/$apply with a data Bundle of two patients', () => {
  const subject = { name: 'subject', valueString: `Patient/${PATIENT_ID}` };

  it("reads only the subject's compartment: the same CarePlan as her data alone, the other's allergy not read", async () => {
    const alone = await applyPlan(subject, data(plain(patient, mensesEnd, negativeTest)));
    expect(alone.status, alone.text).toBe(200);
    const res = await applyPlan(subject, data(plain(other, patient, othersAllergy, mensesEnd, negativeTest)));
    expect(res.status, res.text).toBe(200);
    const carePlan = res.body as CarePlan;
    expect(withoutDataWarnings(carePlan)).toEqual(alone.body);
    expect(carePlan.contained?.some((r) => (r as ServiceRequest).doNotPerform)).toBe(false);
    const oo = carePlan.contained?.find((r): r is OperationOutcome => r.resourceType === 'OperationOutcome');
    expect(oo?.issue).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'processing', expression: ["Parameters.parameter.where(name='data').resource.entry[0].resource"] }),
      expect.objectContaining({
        severity: 'warning',
        code: 'processing',
        expression: ["Parameters.parameter.where(name='data').resource.entry[2].resource"],
        diagnostics: expect.stringMatching(
          /^AllergyIntolerance\/iodine-of-pat-2 \(parameter 'data' entry\[2\]\) is not used: its patient is Patient\/pat-2, not the subject Patient\/pat-1/,
        ),
      }),
    ]);
    expect(carePlan.extension).toContainEqual({ url: 'http://hl7.org/fhir/StructureDefinition/cqf-messages', valueReference: { reference: '#outcome' } });
  });

  it('the subject named by urn:uuid fullUrl and by identifier is hers; the other patient is still not read', async () => {
    const urn = 'urn:uuid:4b0e5a3c-1d2f-4e6a-8b9c-0d1e2f3a4b5c';
    const res = await applyPlan(
      subject,
      data([
        { resource: other, fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002' },
        { resource: { ...patient, identifier: [MRN] }, fullUrl: urn },
        { resource: { ...othersAllergy, patient: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000002' } } },
        { resource: { ...mensesEnd, subject: { reference: urn } } },
        { resource: { ...negativeTest, subject: { identifier: MRN } } },
      ]),
    );
    expect(res.status, res.text).toBe(200);
    const alone = await applyPlan(subject, data(plain(patient, mensesEnd, negativeTest)));
    expect(withoutDataWarnings(res.body)).toEqual(alone.body);
  });

  it('nothing dropped: no outcome added', async () => {
    const res = await applyPlan(subject, data(plain(patient, mensesEnd, negativeTest)));
    expect((res.body as CarePlan).contained?.some((r) => r.resourceType === 'OperationOutcome')).toBe(false);
  });

  it('several patients and no subject -> 400, not a guess', async () => {
    const res = await applyPlan(data(plain(other, patient, mensesEnd)));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/subject/);
  });
});

describe('ActivityDefinition/$apply', () => {
  it('reports what it left out in the request, as a contained OperationOutcome referenced by cqf-messages', async () => {
    const token = await h.client.sign(`${BASE_URL}/fhir`);
    const body = parameters({ name: 'subject', valueString: `Patient/${PATIENT_ID}` }, data(plain(patient, othersAllergy)), { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' });
    const res = await h.post('/fhir/ActivityDefinition/hsg/$apply', body, { token });
    expect(res.status, res.text).toBe(200);
    const request = res.body as ServiceRequest;
    expect(request.contained).toEqual([
      {
        resourceType: 'OperationOutcome',
        id: 'data-outcome',
        issue: [expect.objectContaining({ severity: 'warning', diagnostics: expect.stringMatching(/AllergyIntolerance\/iodine-of-pat-2 .*not used/) })],
      },
    ]);
    expect(request.extension).toContainEqual({ url: 'http://hl7.org/fhir/StructureDefinition/cqf-messages', valueReference: { reference: '#data-outcome' } });
  });
});

describe('CDS prefetch: every resource of every key is checked against context.patientId', () => {
  const path = '/cds-services/hysterosalpingography-patient-view';
  const call = (prefetch: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    h.post(path, {
      hook: 'patient-view',
      hookInstance: 'a6c2b3e0-4f53-4f6e-9d3a-6a1f0b2c9e11',
      context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID },
      prefetch,
      ...extra,
    });
  const summaries = (body: unknown) => checkCdsResponse(body).cards.map((c) => c.summary);
  const versioned = (o: Observation): Observation => ({ ...o, subject: { reference: `Patient/${PATIENT_ID}/_history/1` } });

  it('accepts Patient/<id>/_history/<n>, an absolute URL on fhirServer and an identifier of the patient', async () => {
    const plainRes = await call(prefetchFor([mensesEnd, negativeTest]));
    expect(plainRes.status, plainRes.text).toBe(200);
    const forms = await call({
      ...prefetchFor([]),
      patient: { ...patient, identifier: [MRN] },
      mensesEnd: searchset([versioned(mensesEnd)]),
      pregnancy: searchset([{ ...negativeTest, subject: { identifier: MRN } }]),
      iodineAllergy: null,
    });
    expect(forms.status, forms.text).toBe(200);
    expect(summaries(forms.body)).toEqual(summaries(plainRes.body));
    const absolute = await call(
      { ...prefetchFor([mensesEnd]), pregnancy: searchset([{ ...negativeTest, subject: { reference: `https://ehr.example/fhir/Patient/${PATIENT_ID}` } }]) },
      { fhirServer: 'https://ehr.example/fhir' },
    );
    expect(absolute.status, absolute.text).toBe(200);
    expect(summaries(absolute.body)).toEqual(summaries(plainRes.body));
  });

  it.each([
    ['relative', { reference: 'Patient/pat-2' }],
    ['versioned', { reference: 'Patient/pat-2/_history/4' }],
    ['absolute', { reference: 'https://ehr.example/fhir/Patient/pat-2' }],
  ])("another patient's resource (%s reference) -> 400 naming the key and the resource", async (_form, ref) => {
    const res = await call({ ...prefetchFor([mensesEnd, negativeTest]), iodineAllergy: searchset([{ ...othersAllergy, patient: ref }]) });
    expect(res.status).toBe(400);
    expect(res.body.issue[0]).toMatchObject({ severity: 'error', code: 'invalid', expression: ['prefetch.iodineAllergy'] });
    expect(res.body.issue[0].diagnostics).toMatch(/^prefetch 'iodineAllergy' holds AllergyIntolerance\/iodine-of-pat-2 of another patient than context.patientId/);
  });

  it("another patient's record that names this one only as asserter -> 400", async () => {
    const asserted = { ...othersAllergy, asserter: { reference: `Patient/${PATIENT_ID}` } };
    const res = await call({ ...prefetchFor([mensesEnd, negativeTest]), iodineAllergy: searchset([asserted]) });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/AllergyIntolerance\/iodine-of-pat-2 of another patient/);
  });

  it('a resource whose patient cannot be established is not used, and a warning card says so', async () => {
    const unknown = { ...othersAllergy, id: 'iodine-of-whom', patient: { identifier: { system: MRN.system, value: 'MRN-9' } } };
    const res = await call({ ...prefetchFor([mensesEnd, negativeTest]), iodineAllergy: searchset([unknown]) });
    expect(res.status, res.text).toBe(200);
    const cards = checkCdsResponse(res.body).cards;
    // Not read: no contraindication from it.
    expect(cards.some((c) => /should not be performed/.test(c.summary))).toBe(false);
    const warning = cards.find((c) => /not used/.test(c.summary));
    expect(warning).toMatchObject({ indicator: 'warning', summary: 'HSG work-up (test): 1 record not used - patient could not be established' });
    expect(warning?.detail).toContain('AllergyIntolerance/iodine-of-whom');
  });
});
