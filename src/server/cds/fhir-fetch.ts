/**
 * The server's reads from a FHIR server it is pointed at (a CDS client's `fhirServer` when
 * prefetch did not bring the data, $apply's `dataEndpoint`): the prefetch templates' queries run
 * through THE FHIR client (src/fhir-server/client.ts) - bearer token as given (never renewed,
 * never anything else), a per-request timeout, no retries (a hook call has a second or two), no
 * redirects, paging on the same origin only and at most `maxPages` pages, a size limit.
 */
import type { Resource } from '@medplum/fhirtypes';
import { addDuration } from '../../engine/dates.ts';
import { FhirClient, fixedToken } from '../../fhir-server/client.ts';
import type { Lookback, PrefetchQuery } from './prefetch-templates.ts';

export interface FhirFetchOptions {
  baseUrl: string;
  accessToken?: string;
  timeoutMs: number;
  maxPages: number;
  /** Largest answer read, bytes (default: the client's). */
  maxResponseBytes?: number;
  /** The clinical now (with offset): sets the date bound of look-back queries. */
  now?: string;
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

/** A search query's path relative to the FHIR base (`Type?patient=...`). */
export function queryPath(query: PrefetchQuery, patientId: string, now?: string): string {
  if (query.kind === 'read') return `Patient/${encodeURIComponent(patientId)}`;
  const params: [string, string][] = [['patient', patientId], ...query.params];
  const since = query.lookback && now ? lookbackStart(query.lookback, now) : undefined;
  if (query.lookback && since) params.push([query.lookback.param, `ge${since}`]);
  return `${query.resourceType}?${new URLSearchParams(params).toString()}`;
}

export function queryUrl(base: string, query: PrefetchQuery, patientId: string, now?: string): string {
  return `${base}/${queryPath(query, patientId, now)}`;
}

/** The one client for reads on behalf of a request. */
export function readerFor(options: FhirFetchOptions): FhirClient {
  return new FhirClient({
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxRetries: 0,
    maxPages: options.maxPages,
    // The allow-list admitted this base, not the rest of its host: next links stay under it.
    confineToBase: true,
    ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
    ...(options.accessToken ? { auth: fixedToken(options.accessToken) } : {}),
  });
}

/**
 * Runs one query; a read that finds nothing gives null, a search gives the matching resources.
 * `startUrl`: continue a search at this (absolute, same-origin) page instead.
 */
export async function runQuery(query: PrefetchQuery, patientId: string, options: FhirFetchOptions, startUrl?: string): Promise<Resource[] | null> {
  return runQueryWith(readerFor(options), query, patientId, options.now, startUrl);
}

/** runQuery with a client already made (one per request). */
export async function runQueryWith(client: FhirClient, query: PrefetchQuery, patientId: string, now: string | undefined, startUrl?: string): Promise<Resource[] | null> {
  if (query.kind === 'read' && startUrl === undefined) {
    const found = await client.readIfExists('Patient', patientId);
    return found ? [found] : null;
  }
  return client.searchAll(startUrl ?? queryPath(query, patientId, now));
}
