/**
 * A small FHIR R4 REST client on global fetch: standard REST only (no vendor extensions), so it
 * talks to HAPI, Medplum, Azure, Google and the like.
 *
 * Failure policy (the part integration teams ask about):
 * - every attempt has a timeout;
 * - 429, 5xx, timeouts and network errors are retried with exponential backoff, honouring
 *   Retry-After - but only for requests that are safe to repeat (GET, PUT, conditional-update
 *   transactions). A request that may already have taken effect (POST of new resources) is
 *   retried only when the server certainly did not process it: 429, or a refused connection;
 * - everything that still fails becomes an OperationOutcomeError whose first issue says, in one
 *   sentence, what was asked of which server and what came back, followed by the server's own
 *   OperationOutcome issues when it sent any.
 */
import type { Bundle, CapabilityStatement, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { OperationOutcomeError, issue, outcome, type IssueCode } from '../errors/operation-outcome.ts';

export interface AccessTokenProvider {
  /** A bearer token; `refresh` asks for a new one after the server rejected the current one. */
  token(refresh?: boolean): Promise<string>;
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
  /** Human progress messages (the CLI sends them to stderr). */
  log?: (message: string) => void;
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
const MAX_PAGES = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds or an HTTP date, per RFC 9110; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The server answered with an HTTP error status (after any retries); `status` says which. */
export class FhirHttpError extends OperationOutcomeError {
  readonly status: number;
  constructor(status: number, found: OperationOutcome) {
    super(found);
    this.status = status;
  }
}

function issueCodeForStatus(status: number): IssueCode {
  if (status === 401) return 'login';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 422) return 'processing';
  if (status === 429) return 'throttled';
  if (status >= 500) return status === 503 || status === 502 ? 'transient' : 'exception';
  return 'invalid';
}

function isOperationOutcome(value: unknown): value is OperationOutcome {
  return typeof value === 'object' && value !== null && (value as Resource).resourceType === 'OperationOutcome';
}

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export class FhirClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly opts: Required<Omit<FhirClientOptions, 'auth' | 'log'>> & Pick<FhirClientOptions, 'auth' | 'log'>;
  private capabilityStatement: CapabilityStatement | undefined;

  constructor(options: FhirClientOptions) {
    const base = z.url({ protocol: /^https?$/ }).safeParse(options.baseUrl);
    if (!base.success) {
      throw new OperationOutcomeError(outcome(issue('error', 'invalid', `--server must be an http(s) URL, got '${options.baseUrl}'`)));
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.opts = {
      timeoutMs: 30_000,
      maxRetries: 4,
      backoffMs: 500,
      maxRetryAfterMs: 120_000,
      ...options,
      baseUrl: this.baseUrl,
    };
  }

  /** Absolute URL for a path relative to the base; absolute URLs must stay on the server's origin. */
  resolve(pathOrUrl: string): string {
    if (!/^https?:\/\//.test(pathOrUrl)) return `${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}`;
    // A next link to another host would receive our bearer token: refuse it.
    if (new URL(pathOrUrl).origin !== this.origin) {
      throw new OperationOutcomeError(outcome(issue('error', 'security', `refusing to follow ${pathOrUrl}: it is not on the server ${this.origin}`)));
    }
    return pathOrUrl;
  }

  async request<T = Resource>(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<FhirHttpResponse<T>> {
    const url = this.resolve(pathOrUrl);
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'PUT' || method === 'DELETE');
    const what = `${method} ${url}`;
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/fhir+json', ...options.headers };
      if (options.body !== undefined) headers['content-type'] = 'application/fhir+json';
      if (this.opts.auth) headers['authorization'] = `Bearer ${await this.opts.auth.token()}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError';
        const cause = timedOut ? `no answer within ${this.opts.timeoutMs} ms` : networkCause(err);
        // A refused connection never reached the server, so even a POST is safe to repeat.
        const retryable = idempotent || cause === 'ECONNREFUSED';
        if (retryable && attempt < this.opts.maxRetries) {
          await this.backoff(attempt, undefined, `${what}: ${cause}`);
          continue;
        }
        const tries = attempt + 1;
        throw new OperationOutcomeError(
          outcome(
            issue(
              'error',
              timedOut ? 'timeout' : 'transient',
              `FHIR server ${this.baseUrl} ${timedOut ? 'timed out' : 'unreachable'}: ${what}: ${cause} (${tries} attempt${tries > 1 ? 's' : ''})`,
            ),
          ),
          err,
        );
      }
      const text = await response.text();
      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      if (response.status === 401 && this.opts.auth && !refreshedToken) {
        refreshedToken = true;
        await this.opts.auth.token(true);
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
        throw new OperationOutcomeError(outcome(issue('error', 'exception', `FHIR server answered ${what} with HTTP ${response.status} but a body that is not JSON`)));
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

  private httpError(what: string, response: Response, body: unknown, tries: number): FhirHttpError {
    const serverIssues: OperationOutcomeIssue[] = isOperationOutcome(body) ? (body.issue ?? []) : [];
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
    return new FhirHttpError(response.status, outcome(first, ...serverIssues.map((i) => ({ ...i, severity: i.severity ?? 'error' }))));
  }

  async capabilities(): Promise<CapabilityStatement> {
    if (!this.capabilityStatement) {
      const { body } = await this.request<CapabilityStatement>('GET', 'metadata');
      if (body?.resourceType !== 'CapabilityStatement') {
        throw new OperationOutcomeError(outcome(issue('error', 'exception', `FHIR server ${this.baseUrl}/metadata did not return a CapabilityStatement`)));
      }
      this.capabilityStatement = body;
    }
    return this.capabilityStatement;
  }

  /** Whether the server advertises `operation` on `type` (e.g. Patient everything). */
  async supportsOperation(type: string, operation: string): Promise<boolean> {
    const cs = await this.capabilities();
    return (cs.rest ?? []).some((rest) =>
      (rest.resource ?? []).some((r) => r.type === type && (r.operation ?? []).some((op) => op.name === operation || op.definition?.endsWith(`/${type}-${operation}`))),
    );
  }

  async read<T extends Resource>(type: string, id: string): Promise<T> {
    const { body } = await this.request<T>('GET', `${type}/${encodeURIComponent(id)}`);
    const parsed = ResourceShape.safeParse(body);
    if (!parsed.success || parsed.data.resourceType !== type) {
      throw new OperationOutcomeError(outcome(issue('error', 'exception', `FHIR server returned something other than a ${type} for ${type}/${id}`)));
    }
    return body;
  }

  /** Every resource of a searchset, following Bundle.link next until the last page. */
  async searchAll(pathWithQuery: string): Promise<Resource[]> {
    const found: Resource[] = [];
    const seen = new Set<string>();
    let next: string | undefined = pathWithQuery;
    for (let page = 0; next; page++) {
      if (page >= MAX_PAGES || seen.has(next)) {
        throw new OperationOutcomeError(outcome(issue('error', 'too-costly', `paging ${pathWithQuery} did not end (page ${page}, next ${next})`)));
      }
      seen.add(next);
      const { body }: { body: Bundle } = await this.request<Bundle>('GET', next);
      if (body?.resourceType !== 'Bundle') {
        throw new OperationOutcomeError(outcome(issue('error', 'exception', `FHIR server answered ${next} with something other than a Bundle`)));
      }
      for (const entry of body.entry ?? []) {
        // Included resources and OperationOutcome warnings are not the patient's data.
        if (entry.resource && entry.search?.mode !== 'outcome' && entry.resource.resourceType !== 'OperationOutcome') {
          found.push(entry.resource);
        }
      }
      next = body.link?.find((l: { relation?: string }) => l.relation === 'next')?.url;
    }
    return found;
  }

  /** POSTs a transaction Bundle; `idempotent` when every entry is a conditional/keyed update. */
  async transaction(bundle: Bundle, idempotent: boolean): Promise<Bundle> {
    const { body } = await this.request<Bundle>('POST', '', { body: bundle, idempotent });
    if (body?.resourceType !== 'Bundle' || body.type !== 'transaction-response') {
      throw new OperationOutcomeError(outcome(issue('error', 'exception', `FHIR server did not answer the transaction with a transaction-response Bundle`)));
    }
    return body;
  }
}
