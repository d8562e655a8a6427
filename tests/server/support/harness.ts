/**
 * The real server (buildServer: every plugin, hook, parser and error handler) with the fixture
 * protocol, a fixed clinical clock and a trusted test client, called through Fastify's `inject()`
 * - no socket on the server side. The JWTs are real (signed with the client's key, verified
 * against its JWK Set, which the test client serves over HTTP like an EHR would), and so are the
 * FHIR servers the service reads from. Tests of the socket itself (listening, shutdown) spawn
 * `serve` instead (tests/cli/serve.test.ts).
 */
import type { ServerConfigInput } from '../../../src/server/config.ts';
import { buildServer, type CdsServer } from '../../../src/server/app.ts';
import { NOW, fixtureKnowledge } from '../fixtures/hsg-fixture.ts';
import { startTestClient, type TestClient } from './client-keys.ts';

/** The externally visible URL (as behind a TLS proxy); JWT audiences name it. */
export const BASE_URL = 'https://cds.test.example';

export interface Harness {
  client: TestClient;
  server: CdsServer;
  logs: string[];
  /** POST JSON with a JWT whose aud is the matching public URL (unless a token is given). */
  post(path: string, body: unknown, options?: CallOptions): Promise<CallResult>;
  get(path: string, options?: CallOptions): Promise<CallResult>;
  /** Any method, no JWT unless given (e.g. a CORS preflight). */
  request(method: 'GET' | 'POST' | 'OPTIONS', path: string, options?: CallOptions): Promise<CallResult>;
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
  /** The parsed JSON body (tests assert on its shape). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON whose shape each test asserts; typing every probe would only add casts
  body: any;
  text: string;
}

export interface HarnessOptions {
  /** Further CDS clients the server trusts besides the harness's own. */
  alsoTrust?: TestClient[];
  /** FHIR servers the harness's own client may have the service call (its issuer's `fhirServers`). */
  fhirServers?: string[];
}

function toHeaders(raw: Record<string, string | string[] | number | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v));
  }
  return headers;
}

export async function startHarness(overrides: Partial<ServerConfigInput> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const client = await startTestClient();
  const logs: string[] = [];
  const trusted = [client, ...(options.alsoTrust ?? [])].map((c) => ({ iss: c.iss, jwksUrl: c.jwksUrl, ...(c === client ? { fhirServers: options.fhirServers ?? [] } : {}) }));
  let server: CdsServer;
  try {
    server = buildServer({
      baseUrl: BASE_URL,
      auth: { trustedIssuers: trusted },
      knowledge: fixtureKnowledge(),
      clock: () => new Date(NOW),
      logStream: { write: (line: string) => logs.push(line) },
      ...overrides,
    });
    await server.app.ready();
  } catch (err) {
    await client.close();
    throw err;
  }
  const call = async (method: 'GET' | 'POST' | 'OPTIONS', path: string, body: unknown, options: CallOptions = {}, sign: boolean): Promise<CallResult> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    const token = options.token === undefined ? (sign ? await client.sign(`${BASE_URL}${path}`) : null) : options.token;
    if (token) headers['authorization'] = `Bearer ${token}`;
    let payload: string | undefined;
    if (method === 'POST') {
      payload = options.rawBody ?? JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await server.app.inject({ method, url: path, headers, ...(payload === undefined ? {} : { payload }) });
    const text = response.body;
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.statusCode, headers: toHeaders(response.headers), body: parsed, text };
  };
  return {
    client,
    server,
    logs,
    post: (path, body, options) => call('POST', path, body, options, true),
    get: (path, options) => call('GET', path, undefined, options, true),
    request: (method, path, options) => call(method, path, undefined, options, false),
    async close() {
      await server.app.close();
      await client.close();
    },
  };
}
