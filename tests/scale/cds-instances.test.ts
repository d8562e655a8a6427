/**
 * Two CDS Hooks service instances (the real server, every plugin) sharing one real redis-server,
 * as behind a load balancer: a token used on one is refused on the other (jti replay), feedback
 * for a card issued by one is accepted by the other, and with Redis gone a call is refused (503),
 * never served with the replay check skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, startHarness, type Harness } from '../server/support/harness.ts';
import { PATIENT_ID, iodineAllergy, mensesEnd, negativeTest, prefetchFor } from '../server/fixtures/hsg-fixture.ts';
import { startRedis, type RedisProcess } from '../queue/redis-process.ts';

const SERVICE = 'hysterosalpingography-patient-view';
const HOOK = `/cds-services/${SERVICE}`;

let redis: RedisProcess;
let a: Harness;
let b: Harness;

const hookBody = (hookInstance: string) => ({
  hook: 'patient-view',
  hookInstance,
  context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID },
  prefetch: prefetchFor([mensesEnd, negativeTest, iodineAllergy]),
});

beforeAll(async () => {
  redis = await startRedis();
  const shared = { redis: { url: redis.url, keyPrefix: 'ip:cds-test:' } };
  a = await startHarness(shared);
  // The same EHR (a's test client, whose issuer entry replaces b's own same-named one) calls both
  // instances, as through a load balancer; calls to b therefore carry tokens a's client signed.
  b = await startHarness(shared, { alsoTrust: [a.client] });
}, 60_000);

afterAll(async () => {
  await a.close();
  await b.close();
  await redis.stop();
});

describe('CDS Hooks on two instances with shared state in Redis', () => {
  it('refuses on instance B a token already used on instance A (jti replay), and accepts a fresh one', async () => {
    const token = await a.client.sign(`${BASE_URL}${HOOK}`);
    const first = await a.post(HOOK, hookBody('0b1c7a52-2f3e-4a7b-9d61-5a0f2e3c4d01'), { token });
    expect(first.status, first.text).toBe(200);
    const replayed = await b.post(HOOK, hookBody('0b1c7a52-2f3e-4a7b-9d61-5a0f2e3c4d02'), { token });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(replayed.text).toContain('jti replay');
    const fresh = await b.post(HOOK, hookBody('0b1c7a52-2f3e-4a7b-9d61-5a0f2e3c4d03'), { token: await a.client.sign(`${BASE_URL}${HOOK}`) });
    expect(fresh.status, fresh.text).toBe(200);
  });

  it('accepts on instance B feedback for a card instance A issued, and both see it in the shared list', async () => {
    const issued = await a.post(HOOK, hookBody('0b1c7a52-2f3e-4a7b-9d61-5a0f2e3c4d04'));
    expect(issued.status, issued.text).toBe(200);
    const card = (issued.body as { cards: { uuid: string; indicator: string; suggestions?: { uuid: string }[] }[] }).cards.find((c) => c.suggestions?.length);
    expect(card).toBeDefined();
    const feedback = {
      feedback: [{ card: card!.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card!.suggestions![0]!.uuid }], outcomeTimestamp: '2026-11-23T09:05:31Z' }],
    };
    const res = await b.post(`${HOOK}/feedback`, feedback, { token: await a.client.sign(`${BASE_URL}${HOOK}/feedback`) });
    expect(res.status, res.text).toBe(200);
    const seenByA = await a.server.feedback.allShared();
    expect(seenByA.map((r) => r.card)).toContain(card!.uuid);
    expect(seenByA.find((r) => r.card === card!.uuid)).toMatchObject({ serviceId: SERVICE, issued: { hook: 'patient-view' } });
    // A card nobody issued is still refused on either instance.
    const unknown = await b.post(
      `${HOOK}/feedback`,
      { feedback: [{ ...feedback.feedback[0], card: 'not-a-card' }] },
      { token: await a.client.sign(`${BASE_URL}${HOOK}/feedback`) },
    );
    expect(unknown.status).toBe(400);
  });

  it('answers 503 (retry later) while Redis is down: the replay check is never skipped', async () => {
    await redis.kill();
    try {
      const res = await a.post(HOOK, hookBody('0b1c7a52-2f3e-4a7b-9d61-5a0f2e3c4d05'));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
    } finally {
      await redis.start();
    }
  }, 30_000);
});
