/**
 * Which FHIR servers this service may call on a caller's behalf (a CDS client's `fhirServer`,
 * $apply's `dataEndpoint`). The caller's access token goes with every such call, so a server that
 * is not exactly one the operator configured must never receive a request (SSRF, token theft).
 *
 * Comparison is on the parsed WHATWG URL, never on the string: scheme, host and port must be
 * equal (so `http://localhost:1894` does not admit `http://localhost:18941`), the path must start
 * with the configured path segment by segment after the URL parser has removed dot segments (so
 * `/fhir` does not admit `/fhirx`, and `/fhir/../x` is `/x`). A URL with user info
 * (`http://allowed@other/`), a query, a fragment, an encoded slash or backslash in the path is
 * refused outright: none has a reason to be in a FHIR base URL, and each is a classic way of
 * making two parsers disagree about where a request goes.
 *
 * Allowed servers are bound to the trusted issuer that presented them
 * (`auth.trustedIssuers[].fhirServers`), plus an optional global list (`allowedFhirServers`).
 * With authentication on, nothing configured means nothing allowed: the service works from
 * prefetch (and $apply's `data`) only.
 */
import { forbidden } from '../errors/operation-outcome.ts';

/** A configured server, parsed once. */
interface AllowedServer {
  protocol: string;
  hostname: string;
  port: string;
  segments: string[];
}

/** Path segments without the empty ones a leading or trailing slash gives. */
function segmentsOf(pathname: string): string[] {
  const parts = pathname.split('/');
  if (parts[0] === '') parts.shift();
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Why `url` cannot be a FHIR base this service calls at all (whatever the list), or undefined. */
function unsafeShape(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http(s) URLs are called';
  if (url.username !== '' || url.password !== '') return 'a URL with user info (user@host) is not called';
  if (url.search !== '' || url.hash !== '') return 'a FHIR base URL has no query or fragment';
  if (/%2f|%5c|\\/i.test(url.pathname)) return 'an encoded slash or a backslash in the path is not called';
  return undefined;
}

/** Why a configured entry cannot be used (the config schema refuses it), or undefined. */
export function allowedEntryProblem(entry: string): string | undefined {
  try {
    return unsafeShape(new URL(entry));
  } catch {
    return 'not a URL';
  }
}

function parseAllowed(entry: string): AllowedServer {
  const url = new URL(entry);
  return { protocol: url.protocol, hostname: url.hostname, port: url.port, segments: segmentsOf(url.pathname) };
}

function matches(candidate: URL, allowed: AllowedServer): boolean {
  if (candidate.protocol !== allowed.protocol || candidate.hostname !== allowed.hostname || candidate.port !== allowed.port) return false;
  const segments = segmentsOf(candidate.pathname);
  return allowed.segments.every((s, i) => segments[i] === s);
}

export interface FhirServerPolicyOptions {
  /** Authentication is on: nothing configured then means nothing allowed. */
  authRequired: boolean;
  /** Allowed for every caller. */
  global: string[];
  /** Allowed for the callers authenticated as each issuer. */
  byIssuer: ReadonlyMap<string, string[]>;
}

export class FhirServerPolicy {
  private readonly global: AllowedServer[];
  private readonly byIssuer = new Map<string, AllowedServer[]>();
  private readonly authRequired: boolean;

  constructor(options: FhirServerPolicyOptions) {
    this.authRequired = options.authRequired;
    this.global = options.global.map(parseAllowed);
    for (const [iss, list] of options.byIssuer) this.byIssuer.set(iss, list.map(parseAllowed));
  }

  /** No server can ever be called (auth on, nothing configured): the service is prefetch-only. */
  get prefetchOnly(): boolean {
    return this.authRequired && this.global.length === 0 && [...this.byIssuer.values()].every((l) => l.length === 0);
  }

  /** Without authentication and without any list (development): any http(s) server. */
  private get openToAll(): boolean {
    return !this.authRequired && this.global.length === 0 && this.byIssuer.size === 0;
  }

  /** Whether `url` may be called for a caller authenticated as `issuer` (undefined: auth off). */
  allows(url: string, issuer: string | undefined): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (unsafeShape(parsed)) return false;
    if (this.openToAll) return true;
    const lists = [this.global, ...(issuer === undefined ? [] : [this.byIssuer.get(issuer) ?? []])];
    return lists.some((list) => list.some((a) => matches(parsed, a)));
  }

  /**
   * Refuses (403) a server this caller may not have called, naming the element it came from;
   * the answer does not say which servers are allowed.
   */
  assertAllowed(url: string, issuer: string | undefined, element: string): void {
    if (this.allows(url, issuer)) return;
    const why = this.prefetchOnly
      ? 'this service calls no FHIR server (none is configured): send the data in prefetch / data'
      : `${element} is not one of the FHIR servers this service may call for this client`;
    throw forbidden(why);
  }
}
