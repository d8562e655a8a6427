import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { SmartBackendAuth, bearerFromEnv, readPrivateKey } from '../../src/fhir-server/auth.ts';
import { FhirClient } from '../../src/fhir-server/client.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'ip-auth-'));
let smartServer: FhirTestServer;
let bearerServer: FhirTestServer;
let pemFile: string;
let jwkFile: string;
let wrongPemFile: string;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS384', { extractable: true });
  const wrong = await generateKeyPair('RS384', { extractable: true });
  pemFile = join(dir, 'client.pem');
  writeFileSync(pemFile, await exportPKCS8(privateKey));
  jwkFile = join(dir, 'client.jwk.json');
  writeFileSync(jwkFile, JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'RS384', kid: 'k1' }));
  wrongPemFile = join(dir, 'wrong.pem');
  writeFileSync(wrongPemFile, await exportPKCS8(wrong.privateKey));
  smartServer = await startFhirTestServer({ smart: { clientId: 'ip-cli', publicJwk: { ...(await exportJWK(publicKey)), alg: 'RS384' } } });
  bearerServer = await startFhirTestServer({ bearerToken: 's3cret' });
});
afterAll(async () => {
  await smartServer.close();
  await bearerServer.close();
});

async function smartClient(keyFile: string, tokenUrl?: string): Promise<FhirClient> {
  const { key, alg, kid } = await readPrivateKey(keyFile, 'RS384');
  const auth = new SmartBackendAuth({
    baseUrl: smartServer.baseUrl,
    clientId: 'ip-cli',
    privateKey: key,
    alg,
    scope: 'system/*.read',
    ...(kid ? { kid } : {}),
    ...(tokenUrl ? { tokenUrl } : {}),
  });
  return new FhirClient({ baseUrl: smartServer.baseUrl, auth, maxRetries: 0 });
}

describe('SMART backend services', () => {
  it('gets a token with a signed client assertion (PEM key, token URL discovered) and uses it', async () => {
    const client = await smartClient(pemFile);
    const cs = await client.capabilities();
    expect(cs.resourceType).toBe('CapabilityStatement');
    const fhirCalls = smartServer.requests.filter((r) => r.url.endsWith('/metadata'));
    expect(fhirCalls.at(-1)?.authorization).toMatch(/^Bearer .{20,}/);
    expect(smartServer.requests.some((r) => r.url === '/fhir/R4/.well-known/smart-configuration')).toBe(true);
  });

  it('works with a JWK key file and an explicit token URL, and reuses the token', async () => {
    const client = await smartClient(jwkFile, smartServer.tokenUrl);
    smartServer.requests.length = 0;
    await client.request('GET', 'Patient');
    await client.request('GET', 'Observation');
    expect(smartServer.requests.filter((r) => r.url === '/auth/token')).toHaveLength(1);
  });

  it('a key the server does not know is refused with a login OperationOutcome', async () => {
    const client = await smartClient(wrongPemFile);
    const err = await client.capabilities().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationOutcomeError);
    expect((err as OperationOutcomeError).outcome.issue[0]).toMatchObject({ code: 'login' });
    expect((err as OperationOutcomeError).outcome.issue[0]?.diagnostics).toMatch(/refused \(HTTP 401\): invalid_client/);
  });

  it('a missing or unreadable key file is an input error', async () => {
    await expect(readPrivateKey(join(dir, 'nope.pem'), 'RS384')).rejects.toThrow(/cannot read the private key file/);
    const bad = join(dir, 'bad.pem');
    writeFileSync(bad, 'not a key');
    await expect(readPrivateKey(bad, 'RS384')).rejects.toThrow(/not a usable RS384 private key/);
  });

  it('without credentials the server answers 401 and the client says so', async () => {
    const client = new FhirClient({ baseUrl: smartServer.baseUrl, maxRetries: 0 });
    const err = (await client.request('GET', 'Patient').catch((e: unknown) => e)) as OperationOutcomeError;
    expect(err.outcome.issue[0]).toMatchObject({ code: 'login' });
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/HTTP 401/);
  });
});

describe('bearer token from the environment', () => {
  it('sends the token named by the variable', async () => {
    const client = new FhirClient({ baseUrl: bearerServer.baseUrl, auth: bearerFromEnv('IP_TEST_TOKEN', { IP_TEST_TOKEN: 's3cret' }) });
    expect((await client.request('GET', 'Patient')).status).toBe(200);
  });

  it('a wrong token gives a login OperationOutcome (not retried)', async () => {
    const client = new FhirClient({ baseUrl: bearerServer.baseUrl, auth: bearerFromEnv('T', { T: 'wrong' }) });
    bearerServer.requests.length = 0;
    const err = (await client.request('GET', 'Patient').catch((e: unknown) => e)) as OperationOutcomeError;
    expect(err.outcome.issue[0]?.code).toBe('login');
    expect(bearerServer.requests).toHaveLength(2); // the original and one re-ask after refreshing the token
  });

  it('an unset variable is an input error', () => {
    expect(() => bearerFromEnv('IP_UNSET_VARIABLE', {})).toThrow(/IP_UNSET_VARIABLE .* is empty or not set/);
  });
});
