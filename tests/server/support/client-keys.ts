/**
 * A CDS client's identity for tests: an ES384 key pair generated per run, its JWK Set served by
 * a real HTTP server on loopback, and a signer producing CDS Hooks JWTs (iss, aud, exp, iat, jti).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestClient {
  iss: string;
  kid: string;
  jwksUrl: string;
  publicJwk: JWK & { kty: string };
  /** How many times the JWK Set was fetched. */
  jwksHits(): number;
  sign(aud: string | string[], overrides?: SignOverrides): Promise<string>;
  close(): Promise<void>;
}

export interface SignOverrides {
  payload?: JWTPayload;
  omit?: (keyof JWTPayload)[];
  /** Seconds relative to now. */
  expiresIn?: number;
  issuedAgo?: number;
  header?: Record<string, unknown>;
  /** Sign with another key than the published one (a forged token). */
  key?: CryptoKey;
}

export async function generateSigningKey(alg = 'ES384'): Promise<CryptoKey> {
  return (await generateKeyPair(alg)).privateKey;
}

export async function startTestClient(iss = 'https://ehr.test.example/'): Promise<TestClient> {
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const kid = `kid-${randomUUID()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kty: 'EC', kid, alg: 'ES384', use: 'sig' };
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;

  return {
    iss,
    kid,
    jwksUrl,
    publicJwk,
    jwksHits: () => hits,
    async sign(aud, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      const omitted = new Set(o.omit ?? []);
      const claims: JWTPayload = {
        iss,
        aud,
        iat: now - (o.issuedAgo ?? 0),
        exp: now + (o.expiresIn ?? 300),
        jti: randomUUID(),
        ...o.payload,
      };
      const payload = Object.fromEntries(Object.entries(claims).filter(([k]) => !omitted.has(k))) as JWTPayload;
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid, jku: jwksUrl, ...o.header }).sign(o.key ?? privateKey);
    },
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}
