/** The feedback endpoint: spec rules (cds-fb-1..3), in-memory record and the NDJSON file. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.ts';

const FEEDBACK = '/cds-services/hysterosalpingography-patient-view/feedback';
const file = join(mkdtempSync(join(tmpdir(), 'cds-feedback-')), 'feedback.ndjson');
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ feedbackFile: file });
});
afterAll(async () => {
  await h.close();
});

const accepted = { card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'accepted', acceptedSuggestions: [{ id: 'e56e1945-20b3-4393-8503-a1a20fd73152' }], outcomeTimestamp: '2026-11-23T09:05:31Z' };
const overridden = {
  card: '9368d37b-283f-44a0-93ea-547cebab93ed',
  outcome: 'overridden',
  overrideReason: { reason: { system: 'http://infertility-protocols.org/fhir/CodeSystem/cds-override-reason', code: 'already-addressed' } },
  outcomeTimestamp: '2026-11-23T09:06:00Z',
};

describe('POST /cds-services/{id}/feedback', () => {
  it('records accepted and overridden outcomes in memory and appends them to the NDJSON file', async () => {
    const res = await h.post(FEEDBACK, { feedback: [accepted, overridden] });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', diagnostics: 'recorded 2 feedback items' }] });
    const stored = h.server.feedback.forService('hysterosalpingography-patient-view');
    expect(stored.map((f) => [f.card, f.outcome, f.client])).toEqual([
      [accepted.card, 'accepted', h.client.iss],
      [overridden.card, 'overridden', h.client.iss],
    ]);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(stored.map((s) => JSON.parse(JSON.stringify(s))));
    expect(lines[0]).toEqual({ ...accepted, serviceId: 'hysterosalpingography-patient-view', receivedAt: '2026-11-23T09:00:00.000Z', client: h.client.iss });
  });

  it.each([
    ['accepted without acceptedSuggestions (cds-fb-2)', { ...accepted, acceptedSuggestions: undefined }, /cds-fb-2/],
    ['an outcome other than accepted/overridden (cds-fb-1)', { ...accepted, outcome: 'ignored' }, /outcome/],
    ['an overrideReason with neither reason nor comment (cds-fb-3)', { ...overridden, overrideReason: {} }, /cds-fb-3/],
    ['a timestamp without time zone', { ...overridden, outcomeTimestamp: '2026-11-23T09:06:00' }, /outcomeTimestamp/],
    ['no card uuid', { ...overridden, card: '' }, /card/],
  ])('refuses %s with 400 and records nothing', async (_name, item, message) => {
    const before = h.server.feedback.all().length;
    const res = await h.post(FEEDBACK, { feedback: [item] });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join(' ')).toMatch(message);
    expect(h.server.feedback.all().length).toBe(before);
  });

  it('refuses an empty feedback array and an unknown service', async () => {
    expect((await h.post(FEEDBACK, { feedback: [] })).status).toBe(400);
    expect((await h.post('/cds-services/unknown/feedback', { feedback: [overridden] })).status).toBe(404);
  });
});
