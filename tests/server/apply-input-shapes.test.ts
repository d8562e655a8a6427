/**
 * $apply through the real server: an impossible `now` and a malformed resource shape in `data` are
 * a 400 OperationOutcome naming what is wrong, never a 500 or a result computed from them.
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, mensesEnd, negativeTest, patient } from './fixtures/hsg-fixture.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({});
});
afterAll(async () => {
  await h.close();
});

const parameters = (now: string, resources: unknown[]) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
    { name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) } },
    { name: 'now', valueDateTime: now },
  ],
});

async function apply(now: string, resources: unknown[]) {
  const token = await h.client.sign(`${BASE_URL}/fhir`);
  return h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', parameters(now, resources), { token, headers: { 'content-type': 'application/fhir+json' } });
}

const diagnostics = (body: unknown) => (body as OperationOutcome).issue.map((i) => i.diagnostics ?? '').join('\n');

describe('$apply input validation', () => {
  it('now on a day that does not exist: 400 naming now', async () => {
    const res = await apply('2026-02-30T09:00:00Z', [patient, mensesEnd, negativeTest]);
    expect(res.status, res.text).toBe(400);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect(diagnostics(res.body)).toMatch(/now/);
  });

  it('a null coding or an impossible date in the data: 400 naming the element', async () => {
    const broken = structuredClone(negativeTest) as Resource & Record<string, unknown>;
    (broken['code'] as { coding: unknown[] }).coding.push(null);
    broken['effectiveDateTime'] = '2026-02-30';
    const res = await apply('2026-11-23T09:00:00Z', [patient, mensesEnd, broken]);
    expect(res.status, res.text).toBe(400);
    expect(diagnostics(res.body)).toMatch(/Observation\.code\.coding\[\d\]: null is not a FHIR value/);
    expect(diagnostics(res.body)).toMatch(/Observation\.effectiveDateTime: expected a dateTime on a real calendar day/);
  });
});
