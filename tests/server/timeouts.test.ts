/**
 * Slow clients against a listening server (issue #13 item 2): real sockets that send their headers
 * or their body a few bytes at a time. With small timeouts (set through INFERTILITY_* variables,
 * read as `serve` reads them) the server cuts such a client off: Node answers 408 with an
 * OperationOutcome and closes the connection, while a normal request on the same server passes.
 * With larger timeouts (set in the config object) the very same slow clients are served. An idle
 * socket that sends nothing is closed without an answer after connectionTimeoutMs.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import type { ServerConfigInput } from '../../src/server/config.ts';
import { withEnvironment } from '../../src/server/config-env.ts';
import { NOW, PATIENT_ID, fixtureKnowledge, patient } from './fixtures/hsg-fixture.ts';

const base: ServerConfigInput = {
  port: 0,
  baseUrl: 'http://localhost:8080',
  auth: { required: false },
  knowledge: fixtureKnowledge(),
  clock: () => new Date(NOW),
  logLevel: 'silent',
};

let tight: RunningServer;
let roomy: RunningServer;

beforeAll(async () => {
  tight = await startServer(
    withEnvironment(base, {
      INFERTILITY_HEADERS_TIMEOUT_MS: '300',
      INFERTILITY_REQUEST_TIMEOUT_MS: '800',
      INFERTILITY_CONNECTION_TIMEOUT_MS: '5000',
      INFERTILITY_KEEP_ALIVE_TIMEOUT_MS: '500',
    }),
  );
  roomy = await startServer({ ...base, headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, connectionTimeoutMs: 600 });
});
afterAll(async () => {
  await tight.close();
  await roomy.close();
});

interface Exchange {
  /** Everything the server sent until it closed the connection. */
  answer: string;
  /** How many of the client's pieces were written before the server closed the connection. */
  written: number;
}

/**
 * Opens a connection and writes `pieces` one by one, `gapMs` apart, stopping early when the server
 * closes the connection; resolves when the server has closed it.
 */
function exchange(server: RunningServer, pieces: string[], gapMs: number): Promise<Exchange> {
  const url = new URL(server.address);
  return new Promise((resolve, reject) => {
    let answer = '';
    let written = 0;
    let closed = false;
    const socket = connect(Number(url.port), url.hostname, () => {
      const next = () => {
        if (closed || socket.destroyed || written === pieces.length) return;
        socket.write(pieces[written++] ?? '');
        setTimeout(next, gapMs);
      };
      next();
    });
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it cut off while the client was writing: the answer is read on close.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
    socket.on('close', () => {
      closed = true;
      resolve({ answer, written });
    });
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { resourceType: string; issue: { code: string; diagnostics: string }[] };

/** A GET whose header lines arrive one at a time. */
function slowHeaders(lines: number): string[] {
  return ['GET /healthz HTTP/1.1\r\nHost: x\r\n', ...Array.from({ length: lines }, (_, i) => `X-Slow-${i}: a\r\n`), 'Connection: close\r\n\r\n'];
}

/** A POST $apply whose headers arrive at once and whose body arrives five bytes at a time. */
function slowBody(): string[] {
  const body = JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'subject', valueString: `Patient/${PATIENT_ID}` },
      { name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient }] } },
    ],
  });
  const head = `POST /fhir/PlanDefinition/hysterosalpingography/$apply HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  const chunks = body.match(/[\s\S]{1,5}/g) ?? [];
  return [head, ...chunks];
}

describe('small timeouts (from INFERTILITY_* variables): slow clients are cut off with 408', () => {
  it('headers trickling in past headersTimeoutMs: 408 OperationOutcome (timeout), connection closed before the headers end', async () => {
    const pieces = slowHeaders(40);
    const { answer, written } = await exchange(tight, pieces, 50);
    expect(written).toBeLessThan(pieces.length);
    expect(statusOf(answer)).toBe(408);
    expect(answer).toMatch(/\r\nContent-Type: application\/fhir\+json\r\n/i);
    expect(bodyOf(answer)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout', diagnostics: expect.stringMatching(/not received in time/) }] });
  });

  it('a body trickling in past requestTimeoutMs: 408 OperationOutcome, nothing applied', async () => {
    const pieces = slowBody();
    const { answer, written } = await exchange(tight, pieces, 40);
    expect(written).toBeLessThan(pieces.length);
    expect(statusOf(answer)).toBe(408);
    expect(bodyOf(answer).issue[0]?.code).toBe('timeout');
    expect(answer).not.toMatch(/CarePlan/);
  });

  it('a normal request on the same server passes', async () => {
    const headers = await exchange(tight, [slowHeaders(0).join('')], 0);
    expect(statusOf(headers.answer)).toBe(200);
    const apply = await exchange(tight, [slowBody().join('')], 0);
    expect(statusOf(apply.answer), apply.answer).toBe(200);
    expect(bodyOf(apply.answer).resourceType).toBe('CarePlan');
  });
});

describe('larger timeouts (from the config object): the same slow clients are served', () => {
  it('headers trickling in for about a second: 200', async () => {
    const pieces = slowHeaders(20);
    const { answer, written } = await exchange(roomy, pieces, 50);
    expect(written).toBe(pieces.length);
    expect(statusOf(answer)).toBe(200);
  });

  it('a body trickling in for about two seconds: $apply answers its CarePlan', async () => {
    const pieces = slowBody();
    const { answer, written } = await exchange(roomy, pieces, 40);
    expect(written).toBe(pieces.length);
    expect(statusOf(answer), answer).toBe(200);
    expect(bodyOf(answer).resourceType).toBe('CarePlan');
  });

  it('a connection that sends nothing is closed after connectionTimeoutMs, without an answer', async () => {
    const { answer, written } = await exchange(roomy, [], 0);
    expect(written).toBe(0);
    expect(answer).toBe('');
  });
});
