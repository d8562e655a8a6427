/**
 * The service on the real protocols of plandefinitions/ (loaded from disk as in production):
 * discovery lists the three protocols, and an HSG candidate gets the HSG with its window, or,
 * with an iodinated-contrast allergy, the contraindication with HyCoSy as the recommended
 * alternative; an HSG draft order for her is flagged critical on order-sign.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource, ServiceRequest } from '@medplum/fhirtypes';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { checkCdsResponse, discoverySchema } from './support/cds-response-schema.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { NOW, REAL_PATIENT_ID, hsgCandidate, hsgCandidateWithIodineAllergy, prefetchFromRecord } from './fixtures/real-patients.ts';

let h: Harness;
let templates: Record<string, string>;
beforeAll(async () => {
  h = await startHarness({ knowledge: loadKnowledge(), clock: () => new Date(NOW) });
  const discovery = discoverySchema.parse((await h.get('/cds-services', { token: null })).body);
  templates = discovery.services.find((s) => s.id === 'hysterosalpingography-patient-view')?.prefetch ?? {};
});
afterAll(async () => {
  await h.close();
});

const call = (hook: string, record: Resource[], extra: Record<string, unknown> = {}) => ({
  hook,
  hookInstance: '7d2f1a90-3c4b-4e5f-8a6b-1c2d3e4f5a6b',
  context: { userId: 'Practitioner/gyn-1', patientId: REAL_PATIENT_ID, ...extra },
  prefetch: prefetchFromRecord(templates, record),
});

describe('real protocols', () => {
  it('offers patient-view, order-select and order-sign for each of the three protocols', async () => {
    const discovery = discoverySchema.parse((await h.get('/cds-services', { token: null })).body);
    expect(discovery.services.map((s) => s.id)).toEqual(
      ['hysterosalpingography', 'infertility-hysteroscopy', 'tubal-reanastomosis'].flatMap((p) => [`${p}-patient-view`, `${p}-order-select`, `${p}-order-sign`]),
    );
    expect(templates['patient']).toBe('Patient/{{context.patientId}}');
    for (const template of Object.values(templates))
      expect(template).toMatch(/^(Patient\/\{\{context\.patientId\}\}|[A-Za-z]+\?patient=\{\{context\.patientId\}\}(&[a-z:_-]+=[^&]+)*)$/);
  });

  it('patient-view: proposes the HSG (preselected) in the 5-7 day window', async () => {
    const res = await h.post('/cds-services/hysterosalpingography-patient-view', call('patient-view', hsgCandidate));
    expect(res.status, res.text).toBe(200);
    const { cards } = checkCdsResponse(res.body);
    const choice = cards.find((c) => c.selectionBehavior === 'at-most-one');
    expect(choice?.summary).toMatch(/between 2026-11-25 and 2026-11-27$/);
    const recommended = choice?.suggestions?.filter((s) => s.isRecommended);
    expect(recommended).toHaveLength(1);
    const hsg = recommended?.[0]?.actions?.[0]?.resource as unknown as ServiceRequest;
    expect(hsg.code?.coding?.some((c) => c.system === 'http://snomed.info/sct' && c.code === '168884001')).toBe(true);
    expect(hsg.occurrencePeriod).toEqual({ start: '2026-11-25', end: '2026-11-27' });
    expect(cards.every((c) => c.indicator === 'info')).toBe(true);
  });

  it('patient-view: with an iodinated-contrast allergy, warns and recommends HyCoSy instead', async () => {
    const res = await h.post('/cds-services/hysterosalpingography-patient-view', call('patient-view', hsgCandidateWithIodineAllergy));
    const { cards } = checkCdsResponse(res.body);
    const warning = cards.find((c) => c.indicator === 'warning');
    expect(warning?.summary).toMatch(/^Hysterosalpingography should not be performed/);
    expect(warning?.detail).toContain('evidence: AllergyIntolerance: Allergy to iodinated contrast media (2025-03-01)');
    const recommended = warning?.suggestions?.find((s) => s.isRecommended);
    expect(recommended?.label).toMatch(/HyCoSy/);
    const created = recommended?.actions?.[0]?.resource as unknown as ServiceRequest;
    expect(created.code?.coding?.some((c) => c.code === 'hycosy')).toBe(true);
    // HSG is never offered as its own alternative.
    expect(warning?.suggestions?.some((s) => s.actions?.some((a) => (a.resource as ServiceRequest | undefined)?.code?.coding?.some((c) => c.code === '168884001')))).toBe(false);
  });

  it('order-sign: an HSG draft for a patient with an iodine allergy gets a critical card', async () => {
    const draft: ServiceRequest = {
      resourceType: 'ServiceRequest',
      id: 'draft-hsg',
      status: 'draft',
      intent: 'order',
      subject: { reference: `Patient/${REAL_PATIENT_ID}` },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '168884001' }] },
      occurrenceDateTime: '2026-11-26',
    };
    const body = call('order-sign', hsgCandidateWithIodineAllergy, { draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] } });
    const res = await h.post('/cds-services/hysterosalpingography-order-sign', body);
    const { cards } = checkCdsResponse(res.body);
    expect(cards.map((c) => c.indicator)).toEqual(['critical']);
    expect(cards[0]?.suggestions?.[0]?.actions?.[0]).toEqual({
      type: 'delete',
      description: 'Remove the draft order for Hysterosalpingography',
      resourceId: 'ServiceRequest/draft-hsg',
    });
  });
});
