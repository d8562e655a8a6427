/**
 * `serve --redis <url>` from the command line: two spawned service processes on one real
 * redis-server share the issued-card memory, so feedback sent to the instance that did not issue
 * the card is accepted (without --redis it is refused: each process knows only its own cards).
 * A URL that is not a Redis URL is refused with an OperationOutcome and exit 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.ts';
import { NOW, REAL_PATIENT_ID, hsgCandidate, prefetchFromRecord } from '../server/fixtures/real-patients.ts';
import { startRedis, type RedisProcess } from '../queue/redis-process.ts';

const SERVICE = 'hysterosalpingography-patient-view';
const CLI = join(ROOT, 'bin/infertility-protocols.js');

interface Instance {
  base: string;
  child: ChildProcess;
}

async function serve(extra: string[]): Promise<Instance> {
  const port = await getPort({ host: '127.0.0.1' });
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--log-level', 'silent', '--no-auth', '--now', NOW, ...extra], {
    cwd: ROOT,
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serve did not start: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('CDS Hooks discovery')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
  return { base: `http://127.0.0.1:${port}`, child };
}

async function stop(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  await exited;
}

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** Calls patient-view on `issuer` and sends feedback on its first card to `receiver`. */
async function feedbackAcross(issuer: Instance, receiver: Instance, hookInstance: string) {
  // An HSG candidate's record as prefetch, shaped by the templates the real service publishes.
  const discovery = (await (await fetch(`${issuer.base}/cds-services`)).json()) as { services: { id: string; prefetch?: Record<string, string> }[] };
  const prefetch = prefetchFromRecord(discovery.services.find((s) => s.id === SERVICE)?.prefetch ?? {}, hsgCandidate);
  const hook = await post(`${issuer.base}/cds-services/${SERVICE}`, {
    hook: 'patient-view',
    hookInstance,
    context: { userId: 'Practitioner/doc-1', patientId: REAL_PATIENT_ID },
    prefetch,
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(200);
  const card = (hook.body.cards as { uuid: string }[])[0];
  expect(card).toBeDefined();
  const feedback = await post(`${receiver.base}/cds-services/${SERVICE}/feedback`, {
    feedback: [{ card: card!.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-23T09:05:31Z' }],
  });
  return { card: card!.uuid, status: feedback.status };
}

let redis: RedisProcess;
let a: Instance | undefined;
let b: Instance | undefined;

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await stop(a);
  await stop(b);
  await redis.stop();
});

describe('serve --redis <url>', () => {
  it('two processes on one Redis share the cards they issued: feedback to the other instance is accepted', async () => {
    [a, b] = await Promise.all([serve(['--redis', redis.url]), serve(['--redis', redis.url])]);
    const across = await feedbackAcross(a, b, '5d0c7a52-2f3e-4a7b-9d61-5a0f2e3c4d11');
    expect(across.status).toBe(200);
    // The state is in this Redis, under the default key prefix.
    const client = new Redis(redis.url);
    try {
      expect((await client.keys('ip:cds:*')).some((k) => k.includes(across.card))).toBe(true);
    } finally {
      client.disconnect();
    }
  }, 120_000);

  it('without --redis each process knows only its own cards (the same feedback is refused)', async () => {
    const [c, d] = await Promise.all([serve([]), serve([])]);
    try {
      expect((await feedbackAcross(c, d, '5d0c7a52-2f3e-4a7b-9d61-5a0f2e3c4d12')).status).toBe(400);
    } finally {
      await Promise.all([stop(c), stop(d)]);
    }
  }, 120_000);

  it('refuses a URL that is not a Redis URL with an OperationOutcome and exit 2', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--no-auth', '--port', '0', '--redis', 'http://127.0.0.1:6379'], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    const outcome = JSON.parse(stdout) as { resourceType: string; issue: { diagnostics: string }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]!.diagnostics).toMatch(/redis/);
  }, 60_000);
});
