/**
 * Collects the patient's data for one hook call: prefetch first, then the client's FHIR server
 * for every template the client did not satisfy. CDS Hooks semantics:
 * - key absent (or an OperationOutcome in its place): not provided -> read it from `fhirServer`;
 * - key null: the client has no data for it -> an empty result (a null Patient is an error);
 * - data that cannot be obtained -> 412 Precondition Failed with an OperationOutcome.
 * SAFE-1: every resource of every key passes the Patient-compartment check
 * (data/patient-compartment.ts): one of another patient -> 400 naming the key and the resource;
 * one whose patient cannot be established is not used, and a warning card says so.
 */
import type { OperationOutcome, OperationOutcomeIssue, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { selectPatientCompartment, type EntryInfo } from '../../data/patient-compartment.ts';
import { OperationOutcomeError, preconditionFailed, badRequest } from '../../errors/operation-outcome.ts';
import type { FhirServerPolicy } from '../allow-list.ts';
import { footer, sourceOf } from './card-parts.ts';
import type { CdsCard } from './card-types.ts';
import { readerFor, runQueryWith } from './fhir-fetch.ts';
import type { HookRequest } from './hook-request.ts';
import type { PrefetchQuery } from './prefetch-templates.ts';
import { bulletList, escapeMarkdown, truncateSummary } from './render.ts';

export interface GatheredData {
  patient: Patient;
  resources: Resource[];
  /** Keys read from the FHIR server because prefetch did not carry them. */
  fetched: string[];
  /** Resources left out because their patient cannot be established (SAFE-1), one warning each. */
  notUsed: OperationOutcomeIssue[];
}

export interface GatherOptions {
  timeoutMs: number;
  maxPages: number;
  /** Largest answer read from fhirServer, bytes. */
  maxResponseBytes?: number;
  /** Which FHIR servers may be called, for whom (allow-list.ts). */
  fhirServers: FhirServerPolicy;
  /** The authenticated caller's issuer (undefined: auth off): allowed servers are bound to it. */
  issuer?: string | undefined;
}

function badPrefetch(diagnostics: string, key: string): OperationOutcomeError {
  return badRequest(diagnostics, [`prefetch.${key}`]);
}

function hasErrors(o: OperationOutcome): boolean {
  return o.issue.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

type Prefetched = { state: 'provided'; resources: Resource[]; next?: string } | { state: 'absent' };

/** Where each prefetched resource sits, and its entry's fullUrl (references may use it). */
type Entries = Map<Resource, EntryInfo>;

function readPrefetch(value: Resource | null | undefined, query: PrefetchQuery, entries: Entries): Prefetched {
  if (value === undefined) return { state: 'absent' };
  if (value === null) return { state: 'provided', resources: [] };
  // The client could not run the query and said why: treat as not provided, read it ourselves.
  if (value.resourceType === 'OperationOutcome') return { state: 'absent' };
  if (query.kind === 'read') {
    if (value.resourceType !== query.resourceType) throw badPrefetch(`prefetch '${query.key}' must be a ${query.resourceType}, got ${value.resourceType}`, query.key);
    return { state: 'provided', resources: [value] };
  }
  if (value.resourceType !== 'Bundle') throw badPrefetch(`prefetch '${query.key}' must be a searchset Bundle, got ${value.resourceType}`, query.key);
  const bundle = value;
  const resources: Resource[] = [];
  for (const [i, entry] of (bundle.entry ?? []).entries()) {
    const r = entry.resource;
    if (!r) continue;
    if (r.resourceType === 'OperationOutcome') {
      if (hasErrors(r)) return { state: 'absent' };
      continue;
    }
    resources.push(r);
    const info: EntryInfo = { location: `prefetch '${query.key}' entry[${i}]`, expression: `prefetch.${query.key}` };
    if (entry.fullUrl) info.fullUrl = entry.fullUrl;
    entries.set(r, info);
  }
  const next = bundle.link?.find((l) => l.relation === 'next')?.url;
  return next ? { state: 'provided', resources, next } : { state: 'provided', resources };
}

/**
 * The part of one key's resources that is the patient's record. Another patient's resource is a
 * client error (400) rather than something to drop quietly: the client sent the wrong chart.
 */
function patientsOwn(
  list: Resource[],
  patient: Patient,
  key: string,
  fetched: boolean,
  entries: Entries,
  fhirServer: string | undefined,
  notUsed: OperationOutcomeIssue[],
): Resource[] {
  const bases = fhirServer ? [fhirServer] : [];
  const checked = selectPatientCompartment(list, patient, { entries, bases });
  checked.dropped.forEach((d, i) => {
    const label = `${d.resource.resourceType}/${d.resource.id ?? '(no id)'}`;
    if (d.kind === 'other-patient') {
      const what = fetched ? `fhirServer's answer for prefetch '${key}'` : `prefetch '${key}'`;
      throw badPrefetch(`${what} holds ${label} of another patient than context.patientId: ${d.reason}`, key);
    }
    // The subject's own Patient repeated (an _include): the 'patient' key's one is used.
    if (d.kind === 'unknown-patient') notUsed.push(checked.issues[i]!);
  });
  return checked.resources.filter((r) => r !== patient);
}

/** Records left out because their patient could not be established: the clinician must know. */
export function notUsedDataCard(plan: PlanDefinition, title: string, notUsed: OperationOutcomeIssue[]): CdsCard | undefined {
  if (notUsed.length === 0) return undefined;
  const n = notUsed.length;
  return {
    summary: truncateSummary(`${title}: ${n} record${n > 1 ? 's' : ''} not used - patient could not be established`),
    detail:
      `The advice below does not take ${n > 1 ? 'these records' : 'this record'} into account; ${n > 1 ? 'they name' : 'it names'} no patient that is this one:\n\n` +
      bulletList(notUsed.map((i) => escapeMarkdown(i.diagnostics ?? ''))) +
      footer(plan),
    indicator: 'warning',
    source: sourceOf(plan),
  };
}

/** `now`: the clinical now of the call (bounds the look-back queries read from fhirServer). */
export async function gatherData(queries: PrefetchQuery[], request: HookRequest, options: GatherOptions, now: string): Promise<GatheredData> {
  const patientId = request.context.patientId;
  const byKey = new Map<string, Resource[]>();
  const missing: PrefetchQuery[] = [];
  const pending: { query: PrefetchQuery; next: string }[] = [];
  const entries: Entries = new Map();
  for (const query of queries) {
    const prefetched = readPrefetch(request.prefetch[query.key], query, entries);
    if (prefetched.state === 'absent') {
      missing.push(query);
      continue;
    }
    byKey.set(query.key, prefetched.resources);
    if (prefetched.next) pending.push({ query, next: prefetched.next });
  }

  const fetched: string[] = [];
  if (missing.length > 0 || pending.length > 0) {
    if (!request.fhirServer) {
      const keys = [...missing.map((q) => q.key), ...pending.map((p) => `${p.query.key} (further pages)`)];
      throw preconditionFailed('required', `prefetch does not carry ${keys.map((k) => `'${k}'`).join(', ')} and the request has no fhirServer to read them from`);
    }
    const fhirServer = request.fhirServer;
    options.fhirServers.assertAllowed(fhirServer, options.issuer, 'fhirServer');
    const reader = readerFor({
      baseUrl: fhirServer,
      timeoutMs: options.timeoutMs,
      maxPages: options.maxPages,
      ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
      ...(request.accessToken ? { accessToken: request.accessToken } : {}),
    });
    const unobtainable = (why: string) => `could not read the patient's data from fhirServer: ${why}`;
    try {
      const results = await Promise.all(missing.map((q) => runQueryWith(reader, q, patientId, now)));
      missing.forEach((q, i) => {
        byKey.set(q.key, results[i] ?? []);
        fetched.push(q.key);
      });
      for (const { query, next } of pending) {
        if (!reader.isWithinBase(next)) throw preconditionFailed('security', unobtainable(`prefetch '${query.key}' pages from another server than fhirServer`));
        const rest = await runQueryWith(reader, { ...query, kind: 'search' }, patientId, now, next);
        byKey.get(query.key)?.push(...(rest ?? []));
      }
    } catch (err) {
      // Whatever the FHIR server did (down, slow, refused, too much), the data cannot be had: 412.
      if (err instanceof OperationOutcomeError && err.upstream) throw preconditionFailed(err.code, unobtainable(err.summary));
      throw err;
    }
  }

  const patient = byKey.get('patient')?.[0] as Patient | undefined;
  if (!patient) throw preconditionFailed('not-found', `Patient/${patientId} is not available (prefetch 'patient' is null and fhirServer has no such patient)`);
  if (patient.id && patient.id !== patientId) throw badPrefetch(`prefetch 'patient' is Patient/${patient.id}, context.patientId is ${patientId}`, 'patient');

  const subject: Patient = { ...patient, id: patient.id ?? patientId };
  const seen = new Set<string>();
  const resources: Resource[] = [];
  const notUsed: OperationOutcomeIssue[] = [];
  for (const [key, list] of byKey) {
    if (key === 'patient') continue;
    for (const r of patientsOwn(list, subject, key, fetched.includes(key), entries, request.fhirServer, notUsed)) {
      const id = r.id ? `${r.resourceType}/${r.id}` : undefined;
      if (id && seen.has(id)) continue;
      if (id) seen.add(id);
      resources.push(r);
    }
  }
  return { patient: subject, resources, fetched, notUsed };
}
