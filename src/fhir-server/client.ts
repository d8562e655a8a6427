/**
 * THE FHIR R4 REST client of this program, on global fetch: the CLI (apply --server, load,
 * write-back), the loader and the HTTP server's reads (CDS `fhirServer`, $apply `dataEndpoint`)
 * all go through it. Standard REST only (no vendor extensions), so it talks to HAPI, Medplum,
 * Azure, Google and the like.
 *
 * Failure policy (the part integration teams ask about):
 * - every attempt has a timeout (reading the body included);
 * - 429, 5xx, timeouts and network errors are retried with exponential backoff, honouring
 *   Retry-After - but only for requests that are safe to repeat (GET, PUT, conditional-update
 *   transactions). A request that may already have taken effect (POST of new resources) is
 *   retried only when the server certainly did not process it: 429, or a refused connection.
 *   The CDS service asks for no retries (a hook call has a second or two);
 * - credentials: a bearer token from an AccessTokenProvider (a fixed token, or SMART backend
 *   services); a 401 asks a renewable provider for a new token once;
 * - no redirects are followed and no next link to another origin: the token would go with them;
 * - searchset paging stops at `maxPages` pages and on a next link seen before; an answer larger
 *   than `maxResponseBytes` is not read: both are failures (too-costly), never a silently
 *   truncated record;
 * - everything that still fails becomes an OperationOutcomeError marked `upstream` (another
 *   server failed) whose first issue says, in one sentence, what was asked of which server and
 *   what came back, followed by the server's own OperationOutcome issues when it sent any.
 */
import type { Bundle, CapabilityStatement, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { issueCodeForStatus } from '../errors/http-status.ts';
import { OperationOutcomeError, issue, outcome, outcomeError, type IssueCode } from '../errors/operation-outcome.ts';

export interface AccessTokenProvider {
  /** A bearer token; `refresh` asks for a new one after the server rejected the current one. */
  token(refresh?: boolean): Promise<string>;
  /** false: the token cannot change, so a 401 is final (default: renewable, asked again once). */
  readonly renewable?: boolean;
}

/** A token given by someone else (e.g. a CDS client's fhirAuthorization): used as is, never renewed. */
export function fixedToken(token: string): AccessTokenProvider {
  return { token: () => Promise.resolve(token), renewable: false };
}

export interface FhirClientOptions {
  baseUrl: string;
  auth?: AccessTokenProvider;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  /** First backoff step; doubles per retry (with jitter). Default 500 ms. */
  backoffMs?: number;
  /** A Retry-After longer than this is not waited for: the request fails instead. Default 120 s. */
  maxRetryAfterMs?: number;
  /** Most pages one search follows. Default 10,000. */
  maxPages?: number;
  /** Largest response body read, bytes. Default 256 MiB. */
  maxResponseBytes?: number;
  /** Human progress messages (the CLI sends them to stderr). */
  log?: (message: string) => void;
  /**
   * Every URL requested (next links included) must lie under the base URL, path segment by
   * segment after normalisation - not only on its origin. The HTTP server's reads on a caller's
   * behalf set it: its allow-list admitted the base, not the rest of that host. Default false.
   */
  confineToBase?: boolean;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The request may be repeated without changing the outcome (GET/PUT are, POST is not). */
  idempotent?: boolean;
}

export interface FhirHttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const ResourceShape = z.looseObject({ resourceType: z.string() });

/** Searches one command runs against a server at once: quicker than one by one, gentle on the server (429s are retried anyway). */
export const SEARCH_CONCURRENCY = 8;

const sleep = (ms: number) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** Seconds or an HTTP date, per RFC 9110; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Path segments without the empty ones of a leading or trailing slash. */
function pathSegments(pathname: string): string[] {
  return pathname.split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));
}

/** Another server's failure, as the one error type (see OperationOutcomeError.upstream). */
function upstreamError(o: OperationOutcome, status?: number, cause?: unknown): OperationOutcomeError {
  return new OperationOutcomeError(o, { upstream: status === undefined ? {} : { status }, ...(cause === undefined ? {} : { cause }) });
}

function failed(code: IssueCode, diagnostics: string, status?: number): OperationOutcomeError {
  return upstreamError(outcome(issue('error', code, diagnostics)), status);
}

function isOperationOutcome(value: unknown): value is OperationOutcome {
  return typeof value === 'object' && value !== null && (value as Resource).resourceType === 'OperationOutcome';
}

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** The body as text, or undefined when it is larger than `limit` bytes (then it is not read further). */
async function readBody(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class FhirClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly baseSegments: string[];
  private readonly opts: Required<Omit<FhirClientOptions, 'auth' | 'log'>> & Pick<FhirClientOptions, 'auth' | 'log'>;
  private capabilityStatement: CapabilityStatement | undefined;

  constructor(options: FhirClientOptions) {
    const base = z.url({ protocol: /^https?$/ }).safeParse(options.baseUrl);
    if (!base.success) {
      throw outcomeError('invalid', `the FHIR server base must be an http(s) URL, got '${options.baseUrl}'`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.baseSegments = pathSegments(new URL(this.baseUrl).pathname);
    this.opts = {
      confineToBase: false,
      timeoutMs: 30_000,
      maxRetries: 4,
      backoffMs: 500,
      maxRetryAfterMs: 120_000,
      maxPages: 10_000,
      maxResponseBytes: 256 * 1024 * 1024,
      ...options,
      baseUrl: this.baseUrl,
    };
  }

  /** Whether an absolute URL is on this server's origin and, by path segments, under its base. */
  isWithinBase(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.origin !== this.origin || parsed.username !== '' || parsed.password !== '') return false;
    const segments = pathSegments(parsed.pathname);
    return this.baseSegments.every((s, i) => segments[i] === s);
  }

  /** Absolute URL for a path relative to the base; absolute URLs must stay on the server's origin (and under the base when confined). */
  resolve(pathOrUrl: string): string {
    const absolute = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}`;
    // A next link to another host would receive our bearer token: refuse it.
    const outside = this.opts.confineToBase ? !this.isWithinBase(absolute) : (URL.parse(absolute)?.origin ?? '') !== this.origin;
    if (outside) {
      const where = this.opts.confineToBase ? this.baseUrl : this.origin;
      throw failed('security', `refusing to follow ${absolute}: it is not on the server ${where} (the token is not sent elsewhere)`);
    }
    return absolute;
  }

  async request<T = Resource>(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<FhirHttpResponse<T>> {
    const url = this.resolve(pathOrUrl);
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'PUT' || method === 'DELETE');
    const what = `${method} ${url}`;
    const auth = this.opts.auth;
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/fhir+json', ...options.headers };
      if (options.body !== undefined) headers['content-type'] = 'application/fhir+json';
      if (auth) headers['authorization'] = `Bearer ${await auth.token()}`;
      let response: Response;
      let text: string | undefined;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: options.body === undefined ? null : JSON.stringify(options.body),
          // A redirect would carry the token to wherever it points: never followed.
          redirect: 'manual',
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        text = await readBody(response, this.opts.maxResponseBytes);
      } catch (err) {
        const timedOut = isTimeout(err);
        const cause = timedOut ? `no answer within ${this.opts.timeoutMs} ms` : networkCause(err);
        // A refused connection never reached the server, so even a POST is safe to repeat.
        const retryable = idempotent || cause === 'ECONNREFUSED';
        if (retryable && attempt < this.opts.maxRetries) {
          await this.backoff(attempt, undefined, `${what}: ${cause}`);
          continue;
        }
        const tries = attempt + 1;
        throw upstreamError(
          outcome(
            issue(
              'error',
              timedOut ? 'timeout' : 'transient',
              `FHIR server ${this.baseUrl} ${timedOut ? 'timed out' : 'unreachable'}: ${what}: ${cause} (${tries} attempt${tries > 1 ? 's' : ''})`,
            ),
          ),
          undefined,
          err,
        );
      }
      if (text === undefined) {
        throw failed('too-costly', `FHIR server ${this.baseUrl} answered ${what} with more than ${this.opts.maxResponseBytes} bytes; not read`, response.status);
      }
      if (response.status >= 300 && response.status < 400) {
        throw failed(
          'not-supported',
          `FHIR server ${this.baseUrl} answered ${what} with a redirect (HTTP ${response.status}) to ${response.headers.get('location') ?? 'nowhere'}; redirects are not followed (the token would go with them): use the final base URL`,
          response.status,
        );
      }
      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      if (response.status === 401 && auth && auth.renewable !== false && !refreshedToken) {
        refreshedToken = true;
        await auth.token(true);
        attempt--;
        continue;
      }
      if (response.status === 429 || response.status >= 500) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        const retryable = idempotent || response.status === 429;
        const tooLong = retryAfter !== undefined && retryAfter > this.opts.maxRetryAfterMs;
        if (retryable && !tooLong && attempt < this.opts.maxRetries) {
          await this.backoff(attempt, retryAfter, `${what}: HTTP ${response.status}`);
          continue;
        }
      }
      if (response.status >= 400) throw this.httpError(what, response, body, attempt + 1);
      if (text.length > 0 && body === undefined) {
        throw failed('exception', `FHIR server answered ${what} with HTTP ${response.status} but a body that is not JSON`, response.status);
      }
      return { status: response.status, headers: response.headers, body: body as T };
    }
  }

  private async backoff(attempt: number, retryAfterMs: number | undefined, why: string): Promise<void> {
    const exponential = this.opts.backoffMs * 2 ** attempt;
    // Jitter spreads the retries of many clients hit by the same outage.
    const delay = Math.max(retryAfterMs ?? 0, Math.round(exponential * (0.5 + Math.random() / 2)));
    this.opts.log?.(`${why}; retry ${attempt + 1}/${this.opts.maxRetries} in ${delay} ms`);
    await sleep(delay);
  }

  private httpError(what: string, response: Response, body: unknown, tries: number): OperationOutcomeError {
    const serverIssues: OperationOutcomeIssue[] = isOperationOutcome(body) ? body.issue : [];
    const detail = serverIssues
      .map((i) => i.diagnostics ?? i.details?.text)
      .filter(Boolean)
      .join('; ');
    const retried = tries > 1 ? ` after ${tries} attempts` : '';
    const first = issue(
      'error',
      issueCodeForStatus(response.status),
      `FHIR server ${this.baseUrl} answered ${what} with HTTP ${response.status} ${response.statusText}${retried}${detail ? `: ${detail}` : ''}`,
    );
    return upstreamError(outcome(first, ...serverIssues), response.status);
  }

  async capabilities(): Promise<CapabilityStatement> {
    if (!this.capabilityStatement) {
      const { body } = await this.request<CapabilityStatement | undefined>('GET', 'metadata');
      if (body?.resourceType !== 'CapabilityStatement') {
        throw failed('exception', `FHIR server ${this.baseUrl}/metadata did not return a CapabilityStatement`);
      }
      this.capabilityStatement = body;
    }
    return this.capabilityStatement;
  }

  /** Whether the server advertises `operation` on `type` (e.g. Patient everything). */
  async supportsOperation(type: string, operation: string): Promise<boolean> {
    const cs = await this.capabilities();
    return (cs.rest ?? []).some((rest) =>
      (rest.resource ?? []).some((r) => r.type === type && (r.operation ?? []).some((op) => op.name === operation || op.definition.endsWith(`/${type}-${operation}`))),
    );
  }

  async read<T extends Resource>(type: string, id: string): Promise<T> {
    const { body } = await this.request<T>('GET', `${type}/${encodeURIComponent(id)}`);
    const parsed = ResourceShape.safeParse(body);
    if (!parsed.success || parsed.data.resourceType !== type) {
      throw failed('exception', `FHIR server ${this.baseUrl} returned something other than a ${type} for ${type}/${id}`);
    }
    return body;
  }

  /** read, or undefined when the server says there is no such resource (404, 410). */
  async readIfExists<T extends Resource>(type: string, id: string): Promise<T | undefined> {
    try {
      return await this.read<T>(type, id);
    } catch (err) {
      const status = err instanceof OperationOutcomeError ? err.upstream?.status : undefined;
      if (status === 404 || status === 410) return undefined;
      throw err;
    }
  }

  /**
   * Every resource of a searchset, following Bundle.link next (same origin only) until the last
   * page; more than `maxPages` pages, or a next link seen before, is a failure (too-costly).
   * Included resources and OperationOutcome warnings are not returned.
   */
  async searchAll(pathWithQuery: string): Promise<Resource[]> {
    const found: Resource[] = [];
    const seen = new Set<string>();
    let next: string | undefined = pathWithQuery;
    for (let page = 0; next; page++) {
      if (page >= this.opts.maxPages) {
        throw failed('too-costly', `FHIR server ${this.baseUrl}: the search ${pathWithQuery} has more than ${this.opts.maxPages} pages; not read further`);
      }
      if (seen.has(next)) throw failed('too-costly', `FHIR server ${this.baseUrl}: paging ${pathWithQuery} did not end (page ${page} links back to ${next})`);
      seen.add(next);
      const { body }: { body: Bundle | undefined } = await this.request<Bundle | undefined>('GET', next);
      if (body?.resourceType !== 'Bundle') {
        throw failed('exception', `FHIR server ${this.baseUrl} answered ${next} with something other than a Bundle`);
      }
      for (const entry of body.entry ?? []) {
        if (entry.resource && entry.search?.mode !== 'outcome' && entry.resource.resourceType !== 'OperationOutcome') {
          found.push(entry.resource);
        }
      }
      next = body.link?.find((l) => l.relation === 'next')?.url;
    }
    return found;
  }

  /** POSTs a transaction Bundle; `idempotent` when every entry is a conditional/keyed update. */
  async transaction(bundle: Bundle, idempotent: boolean): Promise<Bundle> {
    const { body } = await this.request<Bundle | undefined>('POST', '', { body: bundle, idempotent });
    if (body?.resourceType !== 'Bundle' || body.type !== 'transaction-response') {
      throw failed('exception', `FHIR server ${this.baseUrl} did not answer the transaction with a transaction-response Bundle`);
    }
    return body;
  }
}
