/**
 * Credentials for --server: a bearer token taken from an environment variable (never from the
 * command line, where `ps` would show it), or SMART Backend Services - OAuth client_credentials
 * with a private_key_jwt client assertion signed by the client's own key.
 * https://hl7.org/fhir/smart-app-launch/backend-services.html
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import { outcomeError } from '../errors/operation-outcome.ts';
import type { AccessTokenProvider } from './client.ts';

const authError = (code: 'login' | 'invalid', text: string) => outcomeError(code, text);

export function bearerFromEnv(variable: string, env: NodeJS.ProcessEnv = process.env): AccessTokenProvider {
  const token = env[variable];
  if (!token) throw authError('invalid', `environment variable ${variable} (named by --bearer-env) is empty or not set`);
  return { token: () => Promise.resolve(token) };
}

export const SMART_ALGORITHMS = ['RS384', 'ES384'] as const;
export type SmartAlgorithm = (typeof SMART_ALGORITHMS)[number];

export interface SmartBackendConfig {
  baseUrl: string;
  clientId: string;
  privateKey: CryptoKey;
  alg: SmartAlgorithm;
  kid?: string;
  /** Discovered from {base}/.well-known/smart-configuration when absent. */
  tokenUrl?: string;
  scope: string;
  timeoutMs?: number;
}

/** Reads a private key file: PKCS#8 PEM or a JWK (JSON); a JWK's own alg and kid win. */
export async function readPrivateKey(file: string, alg: SmartAlgorithm): Promise<{ key: CryptoKey; alg: SmartAlgorithm; kid?: string }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw authError('invalid', `cannot read the private key file ${file}: ${(err as Error).message}`);
  }
  try {
    if (text.trimStart().startsWith('{')) {
      const jwk = JSON.parse(text) as JWK;
      const jwkAlg = z.enum(SMART_ALGORITHMS).safeParse(jwk.alg);
      const useAlg = jwkAlg.success ? jwkAlg.data : alg;
      const key = (await importJWK(jwk, useAlg)) as CryptoKey;
      return jwk.kid ? { key, alg: useAlg, kid: jwk.kid } : { key, alg: useAlg };
    }
    return { key: await importPKCS8(text, alg), alg };
  } catch (err) {
    throw authError('invalid', `${file} is not a usable ${alg} private key (PKCS#8 PEM or JWK): ${(err as Error).message}`);
  }
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().positive().optional(),
});

const SmartConfiguration = z.looseObject({ token_endpoint: z.url() });

export class SmartBackendAuth implements AccessTokenProvider {
  private readonly config: SmartBackendConfig;
  private cached: { token: string; expiresAtMs: number } | undefined;

  constructor(config: SmartBackendConfig) {
    this.config = config;
  }

  async token(refresh = false): Promise<string> {
    // Renew a little early so a token does not expire between being read and being used.
    if (!refresh && this.cached && this.cached.expiresAtMs - 30_000 > Date.now()) return this.cached.token;
    const tokenUrl = this.config.tokenUrl ?? (await this.discoverTokenUrl());
    const nowSeconds = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: this.config.alg, typ: 'JWT', ...(this.config.kid ? { kid: this.config.kid } : {}) })
      .setIssuer(this.config.clientId)
      .setSubject(this.config.clientId)
      .setAudience(tokenUrl)
      .setJti(randomUUID())
      .setExpirationTime(nowSeconds + 240)
      .sign(this.config.privateKey);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.config.scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    const body = await this.post(tokenUrl, form);
    const parsed = TokenResponse.safeParse(body);
    if (!parsed.success) throw authError('login', `token endpoint ${tokenUrl} returned no usable bearer access_token`);
    this.cached = { token: parsed.data.access_token, expiresAtMs: Date.now() + (parsed.data.expires_in ?? 300) * 1000 };
    return this.cached.token;
  }

  private async discoverTokenUrl(): Promise<string> {
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`;
    const body = await this.get(url);
    const parsed = SmartConfiguration.safeParse(body);
    if (!parsed.success) throw authError('login', `${url} names no token_endpoint; pass --smart-token-url`);
    return parsed.data.token_endpoint;
  }

  private async get(url: string): Promise<unknown> {
    return this.exchange(url, { method: 'GET', headers: { accept: 'application/json' } });
  }

  private async post(url: string, form: URLSearchParams): Promise<unknown> {
    return this.exchange(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
  }

  private async exchange(url: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw outcomeError('transient', `authorization server ${url} unreachable: ${cause}`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const oauth = z.object({ error: z.string(), error_description: z.string().optional() }).safeParse(body);
      const why = oauth.success ? `${oauth.data.error}${oauth.data.error_description ? `: ${oauth.data.error_description}` : ''}` : text.slice(0, 200);
      throw authError('login', `authorization server ${url} refused (HTTP ${response.status}): ${why}`);
    }
    return body;
  }
}
