/**
 * Reads from the CDS client's FHIR server when prefetch did not bring the data: the same queries
 * as the templates, bearer token from `fhirAuthorization` (never anything else), a per-request
 * timeout, searchset paging on the same origin only, no redirects (the token must not leak).
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { issue, outcome, type IssueCode } from '../../errors/operation-outcome.ts';
import { addDuration } from '../../engine/dates.ts';
import type { Lookback, PrefetchQuery } from './prefetch-templates.ts';

export interface FhirFetchOptions {
  baseUrl: string;
  accessToken?: string;
  timeoutMs: number;
  maxPages: number;
  /** The clinical now (with offset): sets the date bound of look-back queries. */
  now?: string;
}

/** The data could not be read: why, as an issue code + sentence (no token, no body). */
export class FhirFetchError extends Error {
  readonly code: IssueCode;
  constructor(code: IssueCode, message: string) {
    super(message);
    this.code = code;
  }
  toOutcome(): OperationOutcome {
    return outcome(issue('error', this.code, this.message));
  }
}

const DAY_MS = 864e5;

/**
 * The earliest day a look-back reaches, one day early: a date-only search value is read in the
 * server's time zone, which may differ from the clinic's by up to a day. A wider read is harmless
 * (the engine applies the exact look-back); a narrower one would hide data.
 */
export function lookbackStart(lookback: Lookback, now: string): string | undefined {
  let earliest: number | undefined;
  for (const duration of lookback.durations) {
    const from = addDuration(now, duration, -1);
    if (!from) return undefined;
    const day = Date.parse(`${from.slice(0, 10)}T00:00:00Z`);
    if (Number.isNaN(day)) return undefined;
    earliest = earliest === undefined ? day : Math.min(earliest, day);
  }
  return earliest === undefined ? undefined : new Date(earliest - DAY_MS).toISOString().slice(0, 10);
}

export function queryUrl(base: string, query: PrefetchQuery, patientId: string, now?: string): string {
  if (query.kind === 'read') return `${base}/Patient/${encodeURIComponent(patientId)}`;
  const params: [string, string][] = [['patient', patientId], ...query.params];
  const since = query.lookback && now ? lookbackStart(query.lookback, now) : undefined;
  if (query.lookback && since) params.push([query.lookback.param, `ge${since}`]);
  return `${base}/${query.resourceType}?${new URLSearchParams(params).toString()}`;
}

async function getJson(url: string, options: FhirFetchOptions): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/fhir+json' };
  if (options.accessToken) headers['authorization'] = `Bearer ${options.accessToken}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new FhirFetchError('timeout', `the FHIR server did not answer within ${options.timeoutMs} ms`);
    }
    throw new FhirFetchError('transient', 'the FHIR server could not be reached');
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Runs one query; a read that finds nothing gives null, a search gives the matching resources. */
export async function runQuery(query: PrefetchQuery, patientId: string, options: FhirFetchOptions, startUrl?: string): Promise<Resource[] | null> {
  let url: string | undefined = startUrl ?? queryUrl(options.baseUrl, query, patientId, options.now);
  const found: Resource[] = [];
  for (let page = 0; url && page < options.maxPages; page++) {
    const { status, body } = await getJson(url, options);
    if (query.kind === 'read' && (status === 404 || status === 410)) return null;
    if (status === 401 || status === 403) throw new FhirFetchError('security', `the FHIR server refused the request (${status})`);
    if (status < 200 || status >= 300) throw new FhirFetchError('transient', `the FHIR server answered ${status} to a ${query.resourceType} ${query.kind}`);
    const resource = body as Resource | undefined;
    if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
      throw new FhirFetchError('structure', `the FHIR server answered a ${query.resourceType} ${query.kind} with something that is not a FHIR resource`);
    }
    if (query.kind === 'read') return [resource];
    if (resource.resourceType !== 'Bundle') throw new FhirFetchError('structure', `the ${query.resourceType} search did not return a Bundle`);
    const bundle = resource;
    for (const entry of bundle.entry ?? []) {
      // Searchset `include`/`outcome` entries are not the requested data.
      if (entry.resource && entry.search?.mode !== 'outcome') found.push(entry.resource);
    }
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    // A page we will not follow would leave the record silently incomplete: refuse instead.
    if (next && !sameOrigin(next, options.baseUrl)) {
      throw new FhirFetchError('security', `the ${query.resourceType} search pages to another server than fhirServer; the token is not sent there`);
    }
    url = next;
  }
  if (url) throw new FhirFetchError('too-costly', `the ${query.resourceType} search has more than ${options.maxPages} pages`);
  return found;
}
