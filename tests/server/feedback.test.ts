/**
 * The feedback endpoint over real HTTP with signed JWTs: the spec's rules (cds-fb-1..3), feedback
 * matched against the cards the service actually issued (same service, same client, within the
 * retention window; accepted suggestions must be the card's), all-or-nothing recording, the
 * in-memory record and the NDJSON file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCdsResponse, type CheckedResponse } from './support/cds-response-schema.ts';
import { startTestClient, type TestClient } from './support/client-keys.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { NOW, PATIENT_ID, iodineAllergy, mensesEnd, negativeTest, prefetchFor } from './fixtures/hsg-fixture.ts';

const SERVICE = 'hysterosalpingography-patient-view';
const FEEDBACK = `/cds-services/${SERVICE}/feedback`;
const RETENTION_S = 3600;
const file = join(mkdtempSync(join(tmpdir(), 'cds-feedback-')), 'feedback.ndjson');

let h: Harness;
let otherClient: TestClient;
let clockMs = Date.parse(NOW);
let issued: CheckedResponse;

beforeAll(async () => {
  otherClient = await startTestClient('https://other-ehr.test.example/');
  h = await startHarness({ feedbackFile: file, feedbackRetentionSeconds: RETENTION_S, clock: () => new Date(clockMs) }, { alsoTrust: [otherClient] });
  issued = await issueCards('1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b');
});
afterAll(async () => {
  await h.close();
  await otherClient.close();
});

async function issueCards(hookInstance: string): Promise<CheckedResponse> {
  const res = await h.post(`/cds-services/${SERVICE}`, {
    hook: 'patient-view',
    hookInstance,
    context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID },
    prefetch: prefetchFor([mensesEnd, negativeTest, iodineAllergy]),
  });
  expect(res.status, res.text).toBe(200);
  return checkCdsResponse(res.body);
}

const warning = () => issued.cards.find((c) => c.indicator === 'warning');
const timestamp = '2026-11-23T09:05:31Z';

describe('POST /cds-services/{id}/feedback', () => {
  it('records accepted suggestions and override reasons of issued cards, in memory and in the NDJSON file', async () => {
    const card = warning();
    const accepted = { card: card?.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card?.suggestions?.[0]?.uuid }], outcomeTimestamp: timestamp };
    const offeredReason = card?.overrideReasons?.[0];
    const overridden = {
      card: card?.uuid,
      outcome: 'overridden',
      overrideReason: { reason: { system: offeredReason?.system, code: offeredReason?.code }, userComment: 'discussed with the patient' },
      outcomeTimestamp: timestamp,
    };
    const ownReason = {
      card: card?.uuid,
      outcome: 'overridden',
      overrideReason: { reason: { system: 'https://ehr.example.org/reasons', code: 'x1' } },
      outcomeTimestamp: timestamp,
    };
    const res = await h.post(FEEDBACK, { feedback: [accepted, overridden, ownReason] });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', diagnostics: 'recorded 3 feedback items' }] });
    const stored = h.server.feedback.forService(SERVICE);
    const issuedAs = {
      hook: 'patient-view',
      indicator: 'warning',
      protocol: 'http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography|0.0.1-test',
      issuedAt: new Date(clockMs).toISOString(),
    };
    expect(stored).toEqual([
      { ...accepted, serviceId: SERVICE, receivedAt: new Date(clockMs).toISOString(), client: h.client.iss, issued: issuedAs },
      { ...overridden, serviceId: SERVICE, receivedAt: new Date(clockMs).toISOString(), client: h.client.iss, issued: issuedAs, reasonOffered: true },
      { ...ownReason, serviceId: SERVICE, receivedAt: new Date(clockMs).toISOString(), client: h.client.iss, issued: issuedAs, reasonOffered: false },
    ]);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(stored);
    // No patient data reaches the file: no summary, detail, resource or patient id.
    expect(readFileSync(file, 'utf8')).not.toMatch(new RegExp(`${PATIENT_ID}|iodinated|summary|detail`));
  });

  it('accepts repeated feedback for the same card (the spec allows it) and records each', async () => {
    const before = h.server.feedback.all().length;
    const item = { card: warning()?.uuid, outcome: 'overridden', outcomeTimestamp: timestamp };
    expect((await h.post(FEEDBACK, { feedback: [item] })).status).toBe(200);
    expect((await h.post(FEEDBACK, { feedback: [item] })).status).toBe(200);
    expect(h.server.feedback.all().length).toBe(before + 2);
  });

  it('refuses a card this service never issued with 400 not-found naming the item, and records nothing of the batch', async () => {
    const before = h.server.feedback.all().length;
    const known = { card: warning()?.uuid, outcome: 'overridden', outcomeTimestamp: timestamp };
    const unknown = { card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'overridden', outcomeTimestamp: timestamp };
    const res = await h.post(FEEDBACK, { feedback: [known, unknown] });
    expect(res.status).toBe(400);
    expect(res.body.issue).toEqual([
      { severity: 'error', code: 'not-found', diagnostics: expect.stringContaining(`card ${unknown.card} was not issued by ${SERVICE}`), expression: ['feedback[1].card'] },
    ]);
    expect(h.server.feedback.all().length).toBe(before);
  });

  it("refuses an accepted suggestion that is not one of the card's", async () => {
    const card = warning();
    const otherCardsSuggestion = issued.cards.find((c) => c !== card && c.suggestions)?.suggestions?.[0]?.uuid;
    const res = await h.post(FEEDBACK, { feedback: [{ card: card?.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: otherCardsSuggestion }], outcomeTimestamp: timestamp }] });
    expect(res.status).toBe(400);
    expect(res.body.issue[0]).toMatchObject({ code: 'not-found', expression: ['feedback[0].acceptedSuggestions[0].id'] });
  });

  it("refuses feedback on another service's endpoint, or from another client than the one the card went to", async () => {
    const item = { card: warning()?.uuid, outcome: 'overridden', outcomeTimestamp: timestamp };
    const otherService = await h.post('/cds-services/hysterosalpingography-order-sign/feedback', { feedback: [item] });
    expect(otherService.status).toBe(400);
    const path = FEEDBACK;
    const token = await otherClient.sign(`${BASE_URL}${path}`);
    const fromOther = await h.post(path, { feedback: [item] }, { token });
    expect(fromOther.status).toBe(400);
    expect(fromOther.body.issue[0].code).toBe('not-found');
  });

  it('forgets cards after the retention window', async () => {
    const fresh = await issueCards('9b2d7c1e-0f3a-4b5c-8d6e-7f8091a2b3c4');
    const item = { card: fresh.cards[0]?.uuid, outcome: 'overridden', outcomeTimestamp: timestamp };
    clockMs += RETENTION_S * 1000 - 1000;
    expect((await h.post(FEEDBACK, { feedback: [item] })).status).toBe(200);
    clockMs += 2000;
    expect((await h.post(FEEDBACK, { feedback: [item] })).status).toBe(400);
  });

  it.each([
    ['accepted without acceptedSuggestions (cds-fb-2)', { outcome: 'accepted' }, /cds-fb-2/],
    ['an outcome other than accepted/overridden (cds-fb-1)', { outcome: 'ignored' }, /outcome/],
    ['an overrideReason with neither reason nor comment (cds-fb-3)', { outcome: 'overridden', overrideReason: {} }, /cds-fb-3/],
    ['a timestamp without time zone', { outcome: 'overridden', outcomeTimestamp: '2026-11-23T09:06:00' }, /outcomeTimestamp/],
    ['no card uuid', { outcome: 'overridden', card: '' }, /card/],
  ])('refuses %s with 400 and records nothing', async (_name, fields, message) => {
    const before = h.server.feedback.all().length;
    const res = await h.post(FEEDBACK, { feedback: [{ card: warning()?.uuid, outcomeTimestamp: timestamp, ...fields }] });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join(' ')).toMatch(message);
    expect(h.server.feedback.all().length).toBe(before);
  });

  it('refuses an empty feedback array and an unknown service', async () => {
    const item = { card: warning()?.uuid, outcome: 'overridden', outcomeTimestamp: timestamp };
    expect((await h.post(FEEDBACK, { feedback: [] })).status).toBe(400);
    expect((await h.post('/cds-services/unknown/feedback', { feedback: [item] })).status).toBe(404);
  });
});
