/**
 * The hysteroscopy and tubal-reanastomosis services on the real protocols (plandefinitions/, loaded
 * as in production), over real HTTP with signed JWTs, fed with the project's example patients and
 * protocol test cases. Prefetch is what an EHR would send: the discovery templates run against a
 * real FHIR server holding the patient's record. Every body is checked against the CDS Hooks
 * response rules.
 *
 * order-select / order-sign: a contraindicated draft -> one critical card with the reasons and a
 * "remove the order" suggestion; outside the window -> warning with the window and an update;
 * no date -> info with the window; indicated and in the window -> no card; not indicated -> warning
 * with the gate that stopped it; missing data -> warning saying what to collect.
 * patient-view: the same outcomes as proposals, contraindication warnings and collect cards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { checkCdsResponse, discoverySchema, type CheckedResponse } from './support/cds-response-schema.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';
import { loadRecord, prefetchFromFhirServer } from './support/ehr-prefetch.ts';
import { ICD9, LOCAL, SCT, draftOrder, scenario, type Scenario } from './fixtures/scenarios.ts';

let h: Harness;
let fhir: FhirTestServer;
let clinicalNow = '2026-05-20T09:00:00Z';
let templates: Record<string, Record<string, string>>;

beforeAll(async () => {
  fhir = await startFhirTestServer({ everything: false });
  h = await startHarness({ knowledge: loadKnowledge(), clock: () => new Date(clinicalNow) }, { fhirServers: [fhir.baseUrl] });
  const discovery = discoverySchema.parse((await h.get('/cds-services', { token: null })).body);
  templates = Object.fromEntries(discovery.services.map((s) => [s.id, s.prefetch ?? {}]));
});
afterAll(async () => {
  await h.close();
  await fhir.close();
});

const HOOK_INSTANCE = '3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b';

async function callService(serviceId: string, s: Scenario, extraContext: Record<string, unknown> = {}): Promise<CheckedResponse> {
  clinicalNow = s.now;
  const hook = serviceId.endsWith('-order-select') ? 'order-select' : serviceId.endsWith('-order-sign') ? 'order-sign' : 'patient-view';
  await loadRecord(fhir, s.record);
  const body = {
    hook,
    hookInstance: HOOK_INSTANCE,
    context: { userId: 'Practitioner/gyn-1', patientId: s.patientId, ...extraContext },
    prefetch: await prefetchFromFhirServer(fhir, templates[serviceId] ?? {}, s.patientId),
  };
  const res = await h.post(`/cds-services/${serviceId}`, body);
  expect(res.status, res.text).toBe(200);
  // Nothing is ever applied without a clinician: no systemActions, whatever the outcome.
  expect(Object.keys(res.body)).toEqual(['cards']);
  return checkCdsResponse(res.body);
}

function orders(s: Scenario, hook: 'order-select' | 'order-sign', drafts: ServiceRequest[]): Record<string, unknown> {
  const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) };
  return hook === 'order-select' ? { draftOrders, selections: drafts.map((d) => `ServiceRequest/${d.id}`) } : { draftOrders };
}

async function orderCall(plan: string, hook: 'order-select' | 'order-sign', s: Scenario, draft: ServiceRequest): Promise<CheckedResponse> {
  return callService(`${plan}-${hook}`, s, orders(s, hook, [draft]));
}

const resourceOf = (a: { resource?: unknown } | undefined) => a?.resource as Resource | undefined;
const codesOf = (r: Resource | undefined) => ((r as ServiceRequest | undefined)?.code?.coding ?? []).map((c) => `${c.system}|${c.code}`);
/** What a collect-information Task asks for: the engine's (input DataRequirement) or a protocol activity's (reasonCode). */
const taskCodes = (t: Resource | undefined) => [
  ...((t as Task | undefined)?.input ?? [])
    .flatMap((i) => i.valueDataRequirement?.codeFilter ?? [])
    .flatMap((f) => f.code ?? [])
    .map((c) => `${c.system}|${c.code}`),
  ...((t as Task | undefined)?.reasonCode?.coding ?? []).map((c) => `${c.system}|${c.code}`),
];

describe('infertility-hysteroscopy: order-select / order-sign', () => {
  const HYS = 'infertility-hysteroscopy';

  it('pregnancy (HYS-C3): a hysteroscopy draft gets one critical card with the evidence and a removal suggestion', async () => {
    const s = scenario('hys-ci-pregnancy');
    const { cards } = await orderCall(HYS, 'order-sign', s, draftOrder('draft-hys', s.patientId, SCT, '233545006', { occurrenceDateTime: '2026-05-22' }));
    expect(cards).toHaveLength(1);
    const [card] = cards;
    expect(card?.indicator).toBe('critical');
    expect(card?.summary).toBe('Hysteroscopy should not be performed: HYS-C3: Do not perform hysteroscopy: pregnancy');
    expect(card?.detail).toContain('evidence: Observation: Choriogonadotropin (pregnancy test) \\[Presence\\] in Serum or Plasma = Positive (2026-05-19)');
    expect(card?.source.url).toBe('http://infertility-protocols.org/fhir/PlanDefinition/infertility-hysteroscopy');
    expect(card?.overrideReasons?.length).toBeGreaterThan(0);
    expect(card?.selectionBehavior).toBe('at-most-one');
    expect(card?.suggestions).toEqual([
      {
        label: 'Remove the Hysteroscopy order',
        uuid: expect.any(String),
        isRecommended: true,
        actions: [{ type: 'delete', description: 'Remove the draft order for Hysteroscopy', resourceId: 'ServiceRequest/draft-hys' }],
      },
    ]);
  });

  it('acute endometritis (HYS-C1, ICD-10 coded): a diagnostic hysteroscopy (88355005) selection is critical too', async () => {
    const s = scenario('hys-ci-acute-endometritis-icd10');
    const { cards } = await orderCall(HYS, 'order-select', s, draftOrder('draft-dx', s.patientId, SCT, '88355005'));
    expect(cards.map((c) => c.indicator)).toEqual(['critical']);
    expect(cards[0]?.summary).toMatch(/^Hysteroscopy should not be performed: HYS-C1: /);
    expect(cards[0]?.detail).toContain('evidence: Condition:');
  });

  it('two contraindications (chronic PID and pregnancy) are one critical card naming both, with one removal', async () => {
    const s = scenario('hys-ci-chronic-pid-and-pregnancy');
    const { cards } = await orderCall(HYS, 'order-sign', s, draftOrder('draft-hys', s.patientId, SCT, '233545006'));
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('critical');
    expect(cards[0]?.detail).toContain('reason: HYS-C3: Do not perform hysteroscopy: pregnancy');
    expect(cards[0]?.detail).toContain('reason: HYS-C4: Do not perform hysteroscopy: chronic pelvic inflammatory disease');
    expect(cards[0]?.suggestions?.flatMap((x) => x.actions ?? []).map((a) => a.type)).toEqual(['delete']);
  });

  it('indicated (previous myomectomy) and inside the day 3-10 window: no card', async () => {
    const s = scenario('hys-i2-previous-myomectomy-day-5');
    const { cards } = await orderCall(HYS, 'order-sign', s, draftOrder('draft-hys', s.patientId, SCT, '233545006', { occurrenceDateTime: '2026-05-22' }));
    expect(cards).toEqual([]);
  });

  it('indicated but booked after the window: warning with the right window and an update of the draft', async () => {
    const s = scenario('hys-i2-previous-myomectomy-day-5');
    const { cards } = await orderCall(HYS, 'order-select', s, draftOrder('draft-hys', s.patientId, SCT, '233545006', { occurrenceDateTime: '2026-05-28' }));
    expect(cards).toHaveLength(1);
    const [card] = cards;
    expect(card?.indicator).toBe('warning');
    // Day 5 after the menses: the day 3-10 window, from tomorrow once the pre-operative work-up is done (SAFE-5).
    expect(card?.summary).toBe('Hysteroscopy on 2026-05-28 is outside the protocol window: schedule it between 2026-05-21 and 2026-05-25');
    expect(card?.overrideReasons?.length).toBeGreaterThan(0);
    const update = card?.suggestions?.[0]?.actions?.[0];
    expect(update?.type).toBe('update');
    expect(resourceOf(update)).toMatchObject({ resourceType: 'ServiceRequest', id: 'draft-hys', occurrencePeriod: { start: '2026-05-21', end: '2026-05-25' } });
    expect(resourceOf(update)).not.toHaveProperty('occurrenceDateTime');
  });

  it('indicated, no date chosen yet: info card with the window', async () => {
    const s = scenario('hys-i2-previous-myomectomy-day-5');
    const { cards } = await orderCall(HYS, 'order-select', s, draftOrder('draft-hys', s.patientId, SCT, '233545006'));
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([['info', 'Hysteroscopy: schedule it between 2026-05-21 and 2026-05-25']]);
  });

  it('not indicated (infertility only): warning naming the failed indication rule, and a removal suggestion', async () => {
    const s = scenario('hys-not-indicated-infertility-only');
    const { cards } = await orderCall(HYS, 'order-sign', s, draftOrder('draft-hys', s.patientId, SCT, '233545006'));
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('warning');
    expect(cards[0]?.summary).toBe('Hysteroscopy is not indicated by the protocol for this patient now');
    expect(cards[0]?.detail).toContain(
      '- **Hysteroscopy in the infertility work-up**\n  - not applicable: condition "HYS-I1..I7: at least one indication for hysteroscopy" is false',
    );
    expect(cards[0]?.suggestions?.[0]?.actions?.[0]).toMatchObject({ type: 'delete', resourceId: 'ServiceRequest/draft-hys' });
  });

  it('no menstrual data: the order cannot be checked; the card says what to collect', async () => {
    const s = scenario('hys-missing-menstrual-data');
    const { cards } = await orderCall(HYS, 'order-sign', s, draftOrder('draft-hys', s.patientId, SCT, '233545006'));
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('warning');
    expect(cards[0]?.summary).toBe('Cannot check the Hysteroscopy order: record Date menstruation ended');
    const task = resourceOf(cards[0]?.suggestions?.[0]?.actions?.[0]);
    expect(task?.resourceType).toBe('Task');
    expect(taskCodes(task)).toContain(`${LOCAL}|menses-end-date`);
  });
});

describe('infertility-hysteroscopy: patient-view', () => {
  const SERVICE = 'infertility-hysteroscopy-patient-view';

  it('indicated: proposes the hysteroscopy in its window with the pre-operative work-up, no warning', async () => {
    const { cards } = await callService(SERVICE, scenario('hys-i2-previous-myomectomy-day-5'));
    expect(cards.every((c) => c.indicator === 'info')).toBe(true);
    const created = cards
      .flatMap((c) => c.suggestions ?? [])
      .flatMap((x) => x.actions ?? [])
      .map(resourceOf);
    const hys = created.find((r) => codesOf(r).includes(`${SCT}|233545006`)) as ServiceRequest | undefined;
    expect(hys?.occurrencePeriod).toEqual({ start: '2026-05-21', end: '2026-05-25' });
    expect(hys?.intent).toBe('proposal');
    expect(created.some((r) => codesOf(r).includes('http://loinc.org|57021-8'))).toBe(true);
  });

  it('pregnancy: one warning with the evidence, nothing proposed', async () => {
    const { cards } = await callService(SERVICE, scenario('hys-ci-pregnancy'));
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([['warning', 'Hysteroscopy should not be performed: HYS-C3: Do not perform hysteroscopy: pregnancy']]);
  });

  it('missing menstrual data: an info card asking for it', async () => {
    const { cards } = await callService(SERVICE, scenario('hys-missing-menstrual-data'));
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([['info', 'Hysteroscopy in the infertility work-up: record Date menstruation ended']]);
  });

  it('not indicated: no card', async () => {
    const { cards } = await callService(SERVICE, scenario('hys-not-indicated-infertility-only'));
    expect(cards).toEqual([]);
  });
});

describe('tubal-reanastomosis: order-select / order-sign', () => {
  const TR = 'tubal-reanastomosis';

  it('eligible, booked inside the day 3-7 window: no card', async () => {
    const s = scenario('tr-eligible-day-4');
    // Day 4: the day 3-7 window from 2 days after today (admission 1-2 days before cannot be in the past, SAFE-5).
    const { cards } = await orderCall(
      TR,
      'order-sign',
      s,
      draftOrder('draft-tr', s.patientId, LOCAL, 'tubal-reanastomosis-open-microsurgical', { occurrenceDateTime: '2026-07-16' }),
    );
    expect(cards).toEqual([]);
  });

  it('eligible, booked after the window: warning naming the technique ordered, with the window', async () => {
    const s = scenario('tr-eligible-day-4');
    const { cards } = await orderCall(TR, 'order-select', s, draftOrder('draft-tr', s.patientId, LOCAL, 'tubal-reanastomosis-laparoscopic', { occurrenceDateTime: '2026-07-20' }));
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([
      ['warning', 'Laparoscopic tubal reanastomosis on 2026-07-20 is outside the protocol window: schedule it between 2026-07-16 and 2026-07-17'],
    ]);
  });

  it('age 40 today (TR-I2): the reversal must not be performed, the card names the age rule', async () => {
    const s = scenario('tr-age-40-today');
    const { cards } = await orderCall(
      TR,
      'order-sign',
      s,
      draftOrder('draft-tr', s.patientId, LOCAL, 'tubal-reanastomosis-open-microsurgical', { occurrenceDateTime: '2026-07-16' }),
    );
    expect(cards).toHaveLength(1);
    // SAFE-7: an ineligible patient is told which rule excludes her - a do-not-perform decision.
    expect(cards[0]?.indicator).toBe('critical');
    expect(cards[0]?.summary).toBe('Open microsurgical tubal reanastomosis should not be performed: TR-I2: Do not perform the reversal: 40 years or older');
    expect(cards[0]?.detail).toContain('"TR-I2: the woman is 40 or older" is true');
    expect(cards[0]?.suggestions?.[0]?.actions?.[0]).toMatchObject({ type: 'delete', resourceId: 'ServiceRequest/draft-tr' });
    // The "do not perform" actions that did not fire are not reasons for "not indicated".
    expect(cards[0]?.detail).not.toContain('TR-I4');
  });

  it('no fitness assessment and no menstrual data: the order cannot be checked, both are to be collected', async () => {
    const s = scenario('tr-missing-fitness-and-menses');
    const { cards } = await orderCall(TR, 'order-select', s, draftOrder('draft-tr', s.patientId, LOCAL, 'tubal-reanastomosis-open-microsurgical'));
    expect(cards).toHaveLength(1);
    expect(cards[0]?.indicator).toBe('warning');
    expect(cards[0]?.summary).toMatch(/^Cannot check the Open microsurgical tubal reanastomosis order: record 2 missing items/);
    const tasks = (cards[0]?.suggestions ?? []).map((x) => resourceOf(x.actions?.[0]));
    // The menstrual-data task accepts either the end of the menses or the LMP.
    expect([...new Set(tasks.flatMap(taskCodes))].sort()).toEqual([`${LOCAL}|fit-for-procedure`, `${LOCAL}|menses-end-date`, 'http://loinc.org|8665-2']);
  });

  it('heart failure (TR-I4): critical, whether the draft carries the technique code or only ICD-9-CM 66.73', async () => {
    const s = scenario('tr-ci-heart-failure');
    for (const [system, code] of [
      [LOCAL, 'tubal-reanastomosis-open-microsurgical'],
      [ICD9, '66.73'],
    ] as const) {
      const { cards } = await orderCall(TR, 'order-sign', s, draftOrder('draft-tr', s.patientId, system, code, { occurrenceDateTime: '2026-07-15' }));
      expect(
        cards.map((c) => c.indicator),
        code,
      ).toEqual(['critical']);
      expect(cards[0]?.summary).toMatch(/should not be performed: TR-I4: Do not perform the reversal: contraindication to surgery$/);
      expect(cards[0]?.detail).toContain('evidence: Condition: Heart failure');
      expect(cards[0]?.suggestions?.[0]?.actions?.[0]).toMatchObject({ type: 'delete', resourceId: 'ServiceRequest/draft-tr' });
    }
  });
});

describe('tubal-reanastomosis: patient-view', () => {
  const SERVICE = 'tubal-reanastomosis-patient-view';

  it('eligible: the technique choice in its window (the preferred one recommended) and the work-up; the "no routine flushing / HSG" warnings offer no bogus alternatives', async () => {
    const { cards } = await callService(SERVICE, scenario('tr-eligible-day-4'));
    const technique = cards.find((c) => c.summary.includes('Surgical technique'));
    expect(technique?.summary).toBe('Tubal ligation reversal (tubal reanastomosis): choose Surgical technique (choose one), between 2026-07-16 and 2026-07-17');
    expect(technique?.selectionBehavior).toBe('at-most-one');
    expect(technique?.suggestions?.filter((x) => x.isRecommended).map((x) => x.label)).toEqual(['Laparoscopy-assisted mini-laparotomy reanastomosis (ideal)']);
    const warnings = cards.filter((c) => c.indicator === 'warning');
    expect(warnings.map((c) => c.summary.slice(0, 40))).toEqual(['Tubal hydrotubation (saline patency test', 'Hysterosalpingography should not be perf']);
    for (const w of warnings) expect(w.suggestions).toBeUndefined();
    const proposed = cards
      .flatMap((c) => c.suggestions ?? [])
      .flatMap((x) => x.actions ?? [])
      .flatMap((a) => codesOf(resourceOf(a)));
    for (const code of [`${SCT}|305408004`, `${SCT}|29303009`, `${SCT}|399208008`, 'http://loinc.org|57021-8']) expect(proposed).toContain(code);
  });

  it('age 40 today: a warning naming TR-I2, and the IVF referral offered instead (SAFE-7)', async () => {
    const { cards } = await callService(SERVICE, scenario('tr-age-40-today'));
    expect(cards.map((c) => c.indicator)).toEqual(['warning', 'info']);
    expect(cards[0]?.summary).toBe('Salpingo-salpingostomy should not be performed: TR-I2: Do not perform the reversal: 40 years or older');
    const offered = (cards[1]?.suggestions ?? []).flatMap((x) => x.actions ?? []).flatMap((a) => codesOf(resourceOf(a)));
    expect(offered).toContain(`${SCT}|52637005`);
  });

  it('missing fitness assessment and menstrual data: an info card asking for both, and the work-up that informs the assessment (SAFE-4)', async () => {
    const { cards } = await callService(SERVICE, scenario('tr-missing-fitness-and-menses'));
    expect(cards.map((c) => c.indicator)).toEqual(['info', 'info']);
    expect((cards[0]?.suggestions ?? []).map((x) => x.label)).toEqual([
      'Collect: Clinician assessment: fit for procedure (no serious systemic disease)',
      'Collect: Date menstruation ended',
    ]);
    const proposed = (cards[1]?.suggestions ?? []).flatMap((x) => x.actions ?? []).flatMap((a) => codesOf(resourceOf(a)));
    for (const code of [`${SCT}|29303009`, `${SCT}|399208008`, 'http://loinc.org|57021-8']) expect(proposed).toContain(code);
    expect(proposed.some((c) => c.includes('tubal-reanastomosis'))).toBe(false);
  });

  it('heart failure: a warning with the evidence, nothing proposed', async () => {
    const { cards } = await callService(SERVICE, scenario('tr-ci-heart-failure'));
    expect(cards.map((c) => c.indicator)).toEqual(['warning']);
    expect(cards[0]?.detail).toContain('evidence: Condition: Heart failure');
  });
});

describe('prefetch templates on a real FHIR server', () => {
  it('use only CDS Hooks prefetch syntax: the patient token, token equality or :in, no relative dates', () => {
    for (const [id, prefetch] of Object.entries(templates)) {
      for (const template of Object.values(prefetch)) {
        expect(template.match(/\{\{[^}]*\}\}/g), `${id}: ${template}`).toEqual(['{{context.patientId}}']);
        const [, query = ''] = template.split('?');
        const names = query ? query.split('&').map((p) => p.slice(0, p.indexOf('='))) : [];
        for (const name of names) expect(['patient', 'code', 'code:in', 'type', 'value-concept', 'status'], `${id}: ${template}`).toContain(name);
      }
    }
  });

  it('find a DocumentReference by `type`: the recanalization permit on file is not asked for again', async () => {
    const { cards } = await callService('tubal-reanastomosis-patient-view', scenario('tr-eligible-day-4'));
    expect(cards.some((c) => c.summary.includes('recanalization permit'))).toBe(false);
    const { cards: without } = await callService('tubal-reanastomosis-patient-view', scenario('tr-permit-missing'));
    expect(without.map((c) => c.summary)).toContain('Tubal ligation reversal (tubal reanastomosis): record Family-planning recanalization permit');
  });

  it('find a pregnancy status by its value (`value-concept`): "not pregnant" today clears the hysteroscopy', async () => {
    const { cards } = await callService('infertility-hysteroscopy-patient-view', scenario('hys-pregnancy-status-not-pregnant'));
    expect(cards.some((c) => c.summary.includes('record'))).toBe(false);
    const created = cards
      .flatMap((c) => c.suggestions ?? [])
      .flatMap((x) => x.actions ?? [])
      .map(resourceOf);
    expect(created.some((r) => codesOf(r).includes(`${SCT}|233545006`))).toBe(true);
  });

  it('without prefetch, reads the same queries from fhirServer, bounds the look-backs by date, and gives the same body', async () => {
    const s = scenario('hys-i2-previous-myomectomy-day-5');
    const service = 'infertility-hysteroscopy-patient-view';
    await callService(service, s);
    const viaPrefetch = await h.post(`/cds-services/${service}`, {
      hook: 'patient-view',
      hookInstance: HOOK_INSTANCE,
      context: { userId: 'Practitioner/gyn-1', patientId: s.patientId },
      prefetch: await prefetchFromFhirServer(fhir, templates[service] ?? {}, s.patientId),
    });
    const viaServer = await h.post(`/cds-services/${service}`, {
      hook: 'patient-view',
      hookInstance: HOOK_INSTANCE,
      context: { userId: 'Practitioner/gyn-1', patientId: s.patientId },
      fhirServer: fhir.baseUrl,
    });
    expect(viaServer.status, viaServer.text).toBe(200);
    expect(viaServer.text).toBe(viaPrefetch.text);
    const asked = fhir.requests.map((r) => decodeURIComponent(r.url));
    expect(asked).toHaveLength(Object.keys(templates[service] ?? {}).length);
    // now 2026-05-20, pregnancy tests within 7 days (dateFilter) -> from 2026-05-13, read from a day earlier.
    const pregnancyTests = asked.find((u) => u.includes('code=http://loinc.org|2106-3,http://loinc.org|2118-8,http://loinc.org|82810-3') && !u.includes('value-concept'));
    expect(pregnancyTests).toMatch(/[?&]date=ge2026-05-12(&|$)/);
    // The blood group has no look-back: no date bound.
    expect(asked.find((u) => u.includes('code=http://loinc.org|882-1'))).not.toMatch(/date=/);
  });
});
