/**
 * Slow or heavy clients (issue #13 item 2), on a listening server (real sockets) and through
 * inject() (slow clients and the timeouts: timeouts.test.ts): the JWT is refused before the body is
 * read (the body is never even sent); a 20,000-deep body is a 400 OperationOutcome, not a 500; an
 * inline definition over the size budget is refused before compiling, and one over the time
 * budget is stopped while the server keeps answering other requests.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { startTestClient, type TestClient } from './support/client-keys.ts';
import { NOW, PATIENT_ID, fixtureKnowledge, patient } from './fixtures/hsg-fixture.ts';

const SERVICE = '/cds-services/hysterosalpingography-patient-view';

let listening: RunningServer;
let client: TestClient;
let h: Harness;

beforeAll(async () => {
  client = await startTestClient();
  listening = await startServer({
    port: 0,
    baseUrl: BASE_URL,
    auth: { trustedIssuers: [{ iss: client.iss, jwksUrl: client.jwksUrl }] },
    knowledge: fixtureKnowledge(),
    clock: () => new Date(NOW),
    logLevel: 'silent',
  });
  h = await startHarness({ inlineTimeBudgetMs: 1000, inlineMaxExpressionNodes: 2000 });
});
afterAll(async () => {
  await listening.close();
  await client.close();
  await h.close();
});

function open(): Promise<Socket> {
  const url = new URL(listening.address);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Everything the server sends until it closes the socket. */
function received(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
}

describe('slow clients', () => {
  it('the JWT is refused before the body is read: a 401 arrives although the declared body was never sent', async () => {
    const socket = await open();
    const answer = received(socket);
    socket.write(`POST ${SERVICE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n{"hook":`);
    const first = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('utf8'))));
    socket.destroy();
    await answer;
    expect(first).toMatch(/^HTTP\/1\.1 401/);
    expect(first).toMatch(/OperationOutcome/);
  });
});

describe('heavy bodies', () => {
  /** As text: JSON.stringify itself cannot write 20,000 levels. */
  const deepParameters = (depth: number) =>
    `{"resourceType":"Parameters","parameter":[${'{"name":"p","part":['.repeat(depth)}{"name":"leaf","valueString":"x"}${']}'.repeat(depth)}]}`;

  it('a 20,000-deep Parameters is a 400 OperationOutcome, not a 500', async () => {
    const res = await h.post('/fhir/PlanDefinition/hysterosalpingography/$apply', undefined, {
      token: await h.client.sign(`${BASE_URL}/fhir`),
      rawBody: deepParameters(20_000),
    });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0]).toMatchObject({ code: 'structure', diagnostics: expect.stringMatching(/deeper than 100 levels/) });
  });

  it('the same as application/fhir+json, and a deep CDS request: 400', async () => {
    const fhir = await h.post('/fhir/PlanDefinition/$apply', undefined, {
      token: await h.client.sign(`${BASE_URL}/fhir`),
      rawBody: deepParameters(500),
      headers: { 'content-type': 'application/fhir+json' },
    });
    expect(fhir.status).toBe(400);
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const cds = await h.post(SERVICE, undefined, { rawBody: `{"hook":"patient-view","hookInstance":"x","context":{"userId":"u","patientId":"${PATIENT_ID}","deep":${deep}}}` });
    expect(cds.status).toBe(400);
    expect(cds.body.issue[0].code).toBe('structure');
  });

  it('nesting within the limit is parsed as before (brackets inside strings do not count)', async () => {
    const res = await h.post(
      '/fhir/PlanDefinition/$apply',
      { resourceType: 'Parameters', parameter: [{ name: 'subject', valueString: '[[[[[[{{{{{{'.repeat(50) }] },
      {
        token: await h.client.sign(`${BASE_URL}/fhir`),
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/subject/);
  });
});

describe('inline definitions posted to $apply', () => {
  const plan = (condition: string, actions = 1): PlanDefinition => ({
    resourceType: 'PlanDefinition',
    url: 'http://example.org/PlanDefinition/inline-test',
    status: 'draft',
    action: Array.from({ length: actions }, (_, i) => ({
      id: `a${i}`,
      title: 'Applies?',
      condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: condition } }],
    })),
  });
  const body = (p: PlanDefinition) => ({
    resourceType: 'Parameters',
    parameter: [
      { name: 'planDefinition', resource: p },
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient }] } },
    ],
  });
  const post = async (p: PlanDefinition) => h.post('/fhir/PlanDefinition/$apply', body(p), { token: await h.client.sign(`${BASE_URL}/fhir`) });

  it('a small inline plan is applied (in the worker) as before', async () => {
    const res = await post(plan("%patient.gender = 'female'"));
    expect(res.status, res.text).toBe(200);
    expect(res.body.resourceType).toBe('CarePlan');
  });

  it('over the expression-node budget: 422 too-costly, naming the budget, before anything is compiled', async () => {
    const huge = Array.from({ length: 600 }, (_, i) => `${i} = ${i}`).join(' and ');
    const res = await post(plan(huge));
    expect(res.status).toBe(422);
    expect(res.body.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: expect.stringMatching(/budget.*2000 FHIRPath expression nodes/) });
  });

  it('over the action budget: 422 too-costly', async () => {
    const res = await post(plan('true', 501));
    expect(res.status).toBe(422);
    expect(res.body.issue[0].diagnostics).toMatch(/501 actions/);
  });

  it('over the time budget: stopped and refused (422), while the server goes on answering other requests', async () => {
    const ten = '(1|2|3|4|5|6|7|8|9|10)';
    // 10^8 evaluations of a small expression: minutes of work, a few dozen nodes.
    const slow = `${ten}.select(${ten}.select(${ten}.select(${ten}.select(${ten}.select(${ten}.select(${ten}.select(${ten}.select($this + 1)))))))).count() > 0`;
    const order: string[] = [];
    const applying = post(plan(slow)).then((r) => {
      order.push('apply');
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    const health = await h.get('/healthz', { token: null });
    order.push('healthz');
    const res = await applying;
    expect(health.status).toBe(200);
    expect(order).toEqual(['healthz', 'apply']);
    expect(res.status).toBe(422);
    expect(res.body.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: expect.stringMatching(/1000 ms/) });
    // The runner starts a new worker for the next inline definition.
    const after = await post(plan('true'));
    expect(after.status, after.text).toBe(200);
  });
});
