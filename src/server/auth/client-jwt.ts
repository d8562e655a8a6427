/**
 * Authenticates the CDS client as CDS Hooks "Trusting CDS Clients" asks: a JWT in
 * `Authorization: Bearer`, signed with an asymmetric key the client publishes (JWK Set URL) or
 * shared out of band, from an allow-listed `iss`, with `aud` = the endpoint being called, not
 * expired, and a `jti` never seen before (replay).
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { unauthorized } from '../../errors/operation-outcome.ts';
import type { TrustedIssuer } from '../config.ts';
import { ReplayCache, type ReplayStore } from './replay-cache.ts';

/** Asymmetric algorithms only: the spec forbids `none` and every symmetric (HMAC) algorithm. */
export const ACCEPTED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

export interface VerifiedClient {
  iss: string;
  jti?: string;
  sub?: string;
  tenant?: string;
}

export interface ClientJwtVerifierOptions {
  trustedIssuers: TrustedIssuer[];
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number;
  clock: () => Date;
  /** Where used jtis are remembered: shared (Redis) when several instances serve; in process by default. */
  replayStore?: ReplayStore;
}

export interface VerifyRequest {
  authorization: string | undefined;
  /** Every value `aud` may take for this endpoint (e.g. the service URL). */
  audiences: string[];
  /** Refuse a `jti` already used (CDS Hooks calls); off for re-usable access tokens. */
  singleUse: boolean;
}

export { unauthorized };

export class ClientJwtVerifier {
  private readonly keys = new Map<string, JWTVerifyGetKey>();
  private readonly issuers = new Map<string, TrustedIssuer>();
  private readonly replay: ReplayStore;
  private readonly options: ClientJwtVerifierOptions;

  constructor(options: ClientJwtVerifierOptions) {
    this.options = options;
    for (const issuer of options.trustedIssuers) {
      this.issuers.set(issuer.iss, issuer);
      this.keys.set(
        issuer.iss,
        issuer.jwksUrl
          ? // jose caches the set and refetches on an unknown kid (key rotation), at most every 30 s.
            createRemoteJWKSet(new URL(issuer.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000 })
          : createLocalJWKSet(issuer.jwks as Parameters<typeof createLocalJWKSet>[0]),
      );
    }
    this.replay = options.replayStore ?? new ReplayCache(options.clock);
  }

  async verify(request: VerifyRequest): Promise<VerifiedClient> {
    const token = bearerToken(request.authorization);
    // The issuer is read before verification only to choose its keys; nothing else is trusted yet.
    let unverifiedIss: string | undefined;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
      unverifiedIss = decodeJwt(token).iss;
    } catch {
      throw unauthorized('the bearer token is not a JWT');
    }
    if (!unverifiedIss) throw unauthorized('the JWT has no iss claim');
    const issuer = this.issuers.get(unverifiedIss);
    const getKey = this.keys.get(unverifiedIss);
    if (!issuer || !getKey) throw unauthorized(`issuer '${unverifiedIss}' is not trusted`);
    if (!header.kid) throw unauthorized('the JWT header has no kid');
    if (header.jku !== undefined && issuer.jwksUrl && header.jku !== issuer.jwksUrl) {
      // Keys are never fetched from a URL the token names itself, only from the registered JWK Set;
      // with keys exchanged out of band, jku is ignored (nothing is fetched).
      throw unauthorized(`jku '${header.jku}' is not the JWK Set registered for issuer '${issuer.iss}'`);
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: ACCEPTED_ALGORITHMS,
        issuer: issuer.iss,
        audience: request.audiences,
        typ: 'JWT',
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
        clockTolerance: this.options.clockToleranceSeconds,
        maxTokenAge: this.options.maxTokenAgeSeconds,
        currentDate: this.options.clock(),
      }));
    } catch (err) {
      throw unauthorized(describeJoseError(err));
    }
    const jti = payload.jti as string;
    if (request.singleUse) {
      const iat = payload.iat as number;
      const exp = payload.exp as number;
      // Remember the jti as long as the token could still pass the exp and iat checks.
      const forgetAt = (Math.min(exp, iat + this.options.maxTokenAgeSeconds) + this.options.clockToleranceSeconds) * 1000;
      if (!(await this.replay.remember(`${issuer.iss}\u0000${jti}`, forgetAt))) {
        throw unauthorized('the JWT was already used (jti replay)');
      }
    }
    const verified: VerifiedClient = { iss: issuer.iss, jti };
    if (typeof payload.sub === 'string') verified.sub = payload.sub;
    if (typeof payload['tenant'] === 'string') verified.tenant = payload['tenant'];
    return verified;
  }
}

function bearerToken(authorization: string | undefined): string {
  if (!authorization) throw unauthorized('missing Authorization header (expected "Bearer <JWT>")');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw unauthorized('the Authorization header is not "Bearer <JWT>"');
  return match[1];
}

/** A short, safe reason: which check failed, never the token itself. */
function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the JWT has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `JWT claim check failed: ${err.claim} ${err.reason}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the JWT signature is not valid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the JWT kid/alg';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the JWT algorithm is not accepted (asymmetric algorithms only)';
  if (err instanceof joseErrors.JWKSTimeout) return "the issuer's JWK Set did not answer in time";
  if (err instanceof joseErrors.JOSEError) return `the JWT was refused (${err.code})`;
  return 'the JWT was refused';
}
