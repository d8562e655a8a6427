/**
 * Starts the real server on 127.0.0.1:<random port> with the fixture protocol, a fixed clinical
 * clock and a trusted test client whose JWK Set is served over HTTP; calls it with real fetch.
 */
import type { ServerConfigInput } from '../../../src/server/config.ts';
import { startServer, type RunningServer } from '../../../src/server/start.ts';
import { NOW, fixtureKnowledge } from '../fixtures/hsg-fixture.ts';
import { startTestClient, type TestClient } from './client-keys.ts';

/** The externally visible URL (as behind a TLS proxy); the socket address differs. */
export const BASE_URL = 'https://cds.test.example';

export interface Harness {
  client: TestClient;
  server: RunningServer;
  logs: string[];
  /** POST JSON with a JWT whose aud is the matching public URL (unless a token is given). */
  post(path: string, body: unknown, options?: CallOptions): Promise<CallResult>;
  get(path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  token?: string | null;
  headers?: Record<string, string>;
  rawBody?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface HarnessOptions {
  /** Further CDS clients the server trusts besides the harness's own. */
  alsoTrust?: TestClient[];
}

export async function startHarness(overrides: Partial<ServerConfigInput> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const client = await startTestClient();
  const logs: string[] = [];
  const trusted = [client, ...(options.alsoTrust ?? [])].map((c) => ({ iss: c.iss, jwksUrl: c.jwksUrl }));
  const server = await startServer({
    port: 0,
    baseUrl: BASE_URL,
    auth: { trustedIssuers: trusted },
    knowledge: fixtureKnowledge(),
    clock: () => new Date(NOW),
    logStream: { write: (line: string) => logs.push(line) },
    ...overrides,
  });
  const call = async (method: string, path: string, body: unknown, options: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    const token = options.token === undefined ? await client.sign(`${BASE_URL}${path}`) : options.token;
    if (token) headers['authorization'] = `Bearer ${token}`;
    let payload: string | undefined;
    if (method === 'POST') {
      payload = options.rawBody ?? JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${server.address}${path}`, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    client,
    server,
    logs,
    post: (path, body, options) => call('POST', path, body, options),
    get: (path, options) => call('GET', path, undefined, options),
    async close() {
      await server.close();
      await client.close();
    },
  };
}
