/**
 * The CDS Hooks services over real HTTP with real signed JWTs: discovery, patient-view,
 * order-select and order-sign, every body checked against the spec's response rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource, ServiceRequest } from '@medplum/fhirtypes';
import { checkCdsResponse, discoverySchema, type CheckedResponse } from './support/cds-response-schema.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, draftHsg, iodineAllergy, mensesEnd, negativeTest, prefetchFor } from './fixtures/hsg-fixture.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const context = { userId: 'Practitioner/doc-1', patientId: PATIENT_ID };

function patientView(record: Resource[], hookInstance = 'a6c2b3e0-4f53-4f6e-9d3a-6a1f0b2c9e11') {
  return { hook: 'patient-view', hookInstance, context, prefetch: prefetchFor(record) };
}

function orderCall(hook: 'order-select' | 'order-sign', record: Resource[], orders: ServiceRequest[], selections?: string[]) {
  const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: orders.map((resource) => ({ resource })) };
  const ctx = hook === 'order-select' ? { ...context, selections: selections ?? orders.map((o) => `ServiceRequest/${o.id}`), draftOrders } : { ...context, draftOrders };
  return { hook, hookInstance: '5e7c1d2a-9b8f-4c3e-a1d2-0f9e8d7c6b5a', context: ctx, prefetch: prefetchFor(record) };
}

async function cards(path: string, body: unknown): Promise<CheckedResponse> {
  const res = await h.post(path, body);
  expect(res.status, res.text).toBe(200);
  return checkCdsResponse(res.body);
}

describe('discovery', () => {
  it('lists a patient-view, order-select and order-sign service per protocol, with prefetch from the data requirements', async () => {
    const res = await h.get('/cds-services', { token: null });
    expect(res.status).toBe(200);
    const discovery = discoverySchema.parse(res.body);
    expect(discovery.services.map((s) => `${s.id}:${s.hook}`)).toEqual([
      'hysterosalpingography-patient-view:patient-view',
      'hysterosalpingography-order-select:order-select',
      'hysterosalpingography-order-sign:order-sign',
    ]);
    expect(discovery.services[0]?.prefetch).toEqual({
      patient: 'Patient/{{context.patientId}}',
      mensesEnd: 'Observation?patient={{context.patientId}}&code=http://infertility-protocols.org/fhir/CodeSystem/infertility-workup|menses-end-date',
      pregnancy: 'Observation?patient={{context.patientId}}&code=http://loinc.org|2106-3',
      iodineAllergy: 'AllergyIntolerance?patient={{context.patientId}}&code=http://snomed.info/sct|426722004',
    });
  });
});

describe('patient-view', () => {
  const path = '/cds-services/hysterosalpingography-patient-view';

  it('proposes the HSG with its window as an at-most-one choice, and aftercare, from prefetch', async () => {
    const res = await cards(path, patientView([mensesEnd, negativeTest]));
    expect(res.cards.map((c) => [c.indicator, c.summary])).toEqual([
      ['info', 'HSG work-up (test): choose Tubal patency test, between 2026-11-25 and 2026-11-27'],
      ['info', 'HSG work-up (test): Aftercare advice'],
    ]);
    const [choice, aftercare] = res.cards;
    expect(choice?.selectionBehavior).toBe('at-most-one');
    const action = choice?.suggestions?.[0]?.actions?.[0];
    expect(action?.type).toBe('create');
    expect(action?.description).toBe('Create ServiceRequest for Hysterosalpingography, between 2026-11-25 and 2026-11-27');
    const created = action?.resource as unknown as ServiceRequest;
    expect(created.intent).toBe('proposal');
    expect(created.id).toBeUndefined();
    expect(created.occurrencePeriod).toEqual({ start: '2026-11-25', end: '2026-11-27' });
    expect(created.subject).toEqual({ reference: `Patient/${PATIENT_ID}` });
    expect(choice?.source).toEqual({
      label: 'HSG work-up (test) (v0.0.1-test)',
      url: 'http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography',
      topic: { system: 'http://infertility-protocols.org/fhir/CodeSystem/cds-topic', code: 'hysterosalpingography', display: 'HSG work-up (test)' },
    });
    expect(choice?.detail).toContain('**Hysterosalpingography**: Hysterosalpingography, between 2026-11-25 and 2026-11-27');
    expect(choice?.detail).toContain('source: 001\\_77e565344cb021a4.txt: imaging 5-7 days after menstruation is clean');
    expect(choice?.detail).toContain('`http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography|0.0.1-test`');
    expect(choice?.links).toEqual([
      { label: '001_77e565344cb021a4.txt: imaging 5-7 days after menstruation is clean', url: 'https://example.org/hsg-source', type: 'absolute' },
      { label: 'Protocol definition: HSG work-up (test)', url: `${BASE_URL}/fhir/PlanDefinition/hysterosalpingography`, type: 'absolute' },
    ]);
    expect(aftercare?.selectionBehavior).toBe('any');
    expect(aftercare?.suggestions?.[0]?.actions?.[0]?.resource?.resourceType).toBe('CommunicationRequest');
  });

  it('warns about the contraindication with its evidence and offers HyCoSy as the alternative', async () => {
    const res = await cards(path, patientView([mensesEnd, negativeTest, iodineAllergy]));
    const [ci, ...rest] = res.cards;
    expect(ci?.indicator).toBe('warning');
    expect(ci?.summary).toBe('Hysterosalpingography should not be performed: Allergy to iodinated contrast media');
    expect(ci?.detail).toContain('evidence: AllergyIntolerance: Allergy to iodinated contrast media (2025-02-01)');
    expect(ci?.overrideReasons?.length).toBeGreaterThan(0);
    expect(ci?.selectionBehavior).toBe('at-most-one');
    expect(ci?.suggestions?.map((s) => s.label)).toEqual(['Order Hysterosalpingo-contrast sonography (HyCoSy) instead']);
    // HyCoSy is offered once, on the contraindication card, not again as a separate proposal.
    expect(rest.map((c) => c.summary)).toEqual(['HSG work-up (test): Aftercare advice']);
  });

  it('says what to collect when required data is missing (null prefetch = no data)', async () => {
    const body = { ...patientView([]), prefetch: { patient: prefetchFor([]).patient, mensesEnd: null, pregnancy: null, iodineAllergy: null } };
    const res = await cards(path, body);
    expect(res.cards).toHaveLength(1);
    const [card] = res.cards;
    expect(card?.indicator).toBe('info');
    expect(card?.summary).toBe('HSG work-up (test): record 2 missing items (End of menstrual bleeding, Pregnancy test (urine))');
    expect(card?.suggestions?.map((s) => s.label)).toEqual(['Collect: End of menstrual bleeding', 'Collect: Pregnancy test (urine)']);
    expect(card?.detail).toContain('**Tubal patency test** cannot be decided');
    expect(card?.detail).toContain('mensesEnd: Observation with code `http://infertility-protocols.org/fhir/CodeSystem/infertility-workup|menses-end-date`');
    expect(card?.suggestions?.map((s) => s.actions?.[0]?.resource?.resourceType)).toEqual(['Task', 'Task']);
  });

  it('gives byte-identical bodies for the same call, and different uuids for another hookInstance', async () => {
    const a = await h.post(path, patientView([mensesEnd, negativeTest]));
    const b = await h.post(path, patientView([mensesEnd, negativeTest]));
    const c = await h.post(path, patientView([mensesEnd, negativeTest], '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9'));
    expect(a.text).toBe(b.text);
    expect(c.body.cards[0].uuid).not.toBe(a.body.cards[0].uuid);
    expect(c.body.cards[0].summary).toBe(a.body.cards[0].summary);
  });

  it('reports the apply share of the latency in Server-Timing and logs no patient data', async () => {
    const res = await h.post(path, patientView([mensesEnd, negativeTest]));
    expect(res.headers.get('server-timing')).toMatch(/^data;dur=[\d.]+, apply;dur=[\d.]+, cards;dur=[\d.]+, total;dur=[\d.]+$/);
    const line = h.logs
      .map((l) => JSON.parse(l))
      .reverse()
      .find((l) => l.msg === 'request' && l.serviceId === 'hysterosalpingography-patient-view');
    expect(line).toMatchObject({ route: '/cds-services/:id', method: 'POST', status: 200, hook: 'patient-view' });
    const all = h.logs.join('\n');
    for (const secret of [PATIENT_ID, 'doc-1', '2026-11-20', 'menses']) expect(all).not.toContain(secret);
  });
});

describe('order-select and order-sign', () => {
  it('order-sign: a contraindicated HSG order gets a critical card; the alternative removes the draft and orders HyCoSy', async () => {
    const res = await cards('/cds-services/hysterosalpingography-order-sign', orderCall('order-sign', [mensesEnd, negativeTest, iodineAllergy], [draftHsg('draft-1')]));
    expect(res.cards).toHaveLength(1);
    const [card] = res.cards;
    expect(card?.indicator).toBe('critical');
    expect(card?.overrideReasons?.every((r) => r.display)).toBe(true);
    expect(card?.suggestions?.[0]?.actions?.map((a) => [a.type, a.resourceId ?? a.resource?.resourceType])).toEqual([
      ['delete', 'ServiceRequest/draft-1'],
      ['create', 'ServiceRequest'],
    ]);
  });

  it('order-select: an HSG ordered outside the window gets a warning with the right window and an update', async () => {
    const draft = draftHsg('draft-2', { occurrenceDateTime: '2026-12-02' });
    const res = await cards('/cds-services/hysterosalpingography-order-select', orderCall('order-select', [mensesEnd, negativeTest], [draft]));
    expect(res.cards).toHaveLength(1);
    const [card] = res.cards;
    expect(card?.indicator).toBe('warning');
    expect(card?.summary).toBe('Hysterosalpingography on 2026-12-02 is outside the protocol window: schedule it between 2026-11-25 and 2026-11-27');
    const update = card?.suggestions?.[0]?.actions?.[0];
    expect(update?.type).toBe('update');
    expect(update?.resource).toMatchObject({ id: 'draft-2', occurrencePeriod: { start: '2026-11-25', end: '2026-11-27' } });
    expect(update?.resource).not.toHaveProperty('occurrenceDateTime');
  });

  it('order-select: an HSG inside the window gets no card', async () => {
    const draft = draftHsg('draft-3', { occurrencePeriod: { start: '2026-11-25', end: '2026-11-26' } });
    const res = await cards('/cds-services/hysterosalpingography-order-select', orderCall('order-select', [mensesEnd, negativeTest], [draft]));
    expect(res.cards).toEqual([]);
  });

  it('order-select: only the selected orders are checked', async () => {
    const late = draftHsg('draft-late', { occurrenceDateTime: '2026-12-02' });
    const body = orderCall('order-select', [mensesEnd, negativeTest], [late], ['MedicationRequest/other']);
    const res = await cards('/cds-services/hysterosalpingography-order-select', body);
    expect(res.cards).toEqual([]);
  });

  it('order-sign: with missing data the order cannot be checked and the card says what to collect', async () => {
    const body = orderCall('order-sign', [], [draftHsg('draft-4')]);
    body.prefetch = { patient: body.prefetch['patient'], mensesEnd: null, pregnancy: null, iodineAllergy: null };
    const res = await cards('/cds-services/hysterosalpingography-order-sign', body);
    expect(res.cards.map((c) => [c.indicator, c.summary.slice(0, 40)])).toEqual([['warning', 'Cannot check the Hysterosalpingography o']]);
  });

  it('order-sign: an HSG the protocol does not indicate gets a warning with the reason and a removal suggestion', async () => {
    const positive = { ...negativeTest, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '10828004', display: 'Positive' }] } };
    const res = await cards('/cds-services/hysterosalpingography-order-sign', orderCall('order-sign', [mensesEnd, positive], [draftHsg('draft-5')]));
    const [card] = res.cards;
    expect(card?.indicator).toBe('warning');
    expect(card?.summary).toBe('Hysterosalpingography is not indicated by the protocol for this patient now');
    expect(card?.detail).toContain('**Hysterosalpingography**');
    expect(card?.suggestions?.[0]?.actions).toEqual([{ type: 'delete', description: 'Remove the draft order for Hysterosalpingography', resourceId: 'ServiceRequest/draft-5' }]);
  });

  it('draft orders without a protocol procedure give no cards and need no data', async () => {
    const other: ServiceRequest = {
      resourceType: 'ServiceRequest',
      id: 'x',
      status: 'draft',
      intent: 'order',
      subject: { reference: `Patient/${PATIENT_ID}` },
      code: { coding: [{ system: 'http://loinc.org', code: '57021-8' }] },
    };
    const body = { ...orderCall('order-sign', [], [other]), prefetch: undefined };
    const res = await cards('/cds-services/hysterosalpingography-order-sign', body);
    expect(res.cards).toEqual([]);
  });
});
