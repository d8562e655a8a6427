/**
 * Collects the patient's data for one hook call: prefetch first, then the client's FHIR server
 * for every template the client did not satisfy. CDS Hooks semantics:
 * - key absent (or an OperationOutcome in its place): not provided -> read it from `fhirServer`;
 * - key null: the client has no data for it -> an empty result (a null Patient is an error);
 * - data that cannot be obtained -> 412 Precondition Failed with an OperationOutcome.
 */
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { issue, outcome } from '../../errors/operation-outcome.ts';
import { HttpOutcomeError } from '../http-errors.ts';
import { FhirFetchError, runQuery, type FhirFetchOptions } from './fhir-fetch.ts';
import type { HookRequest } from './hook-request.ts';
import type { PrefetchQuery } from './prefetch-templates.ts';

export interface GatheredData {
  patient: Patient;
  resources: Resource[];
  /** Keys read from the FHIR server because prefetch did not carry them. */
  fetched: string[];
}

export interface GatherOptions {
  timeoutMs: number;
  maxPages: number;
  allowedFhirServers: string[];
}

function preconditionFailed(diagnostics: string, code: 'required' | 'timeout' | 'transient' | 'security' | 'structure' | 'not-found' = 'required'): HttpOutcomeError {
  return new HttpOutcomeError(412, outcome(issue('error', code, diagnostics)));
}

function badPrefetch(diagnostics: string, key: string): HttpOutcomeError {
  return new HttpOutcomeError(400, outcome(issue('error', 'invalid', diagnostics, [`prefetch.${key}`])));
}

function hasErrors(o: OperationOutcome): boolean {
  return (o.issue ?? []).some((i) => i.severity === 'error' || i.severity === 'fatal');
}

type Prefetched = { state: 'provided'; resources: Resource[]; next?: string } | { state: 'absent' };

function readPrefetch(value: Resource | null | undefined, query: PrefetchQuery): Prefetched {
  if (value === undefined) return { state: 'absent' };
  if (value === null) return { state: 'provided', resources: [] };
  // The client could not run the query and said why: treat as not provided, read it ourselves.
  if (value.resourceType === 'OperationOutcome') return { state: 'absent' };
  if (query.kind === 'read') {
    if (value.resourceType !== query.resourceType) throw badPrefetch(`prefetch '${query.key}' must be a ${query.resourceType}, got ${value.resourceType}`, query.key);
    return { state: 'provided', resources: [value] };
  }
  if (value.resourceType !== 'Bundle') throw badPrefetch(`prefetch '${query.key}' must be a searchset Bundle, got ${value.resourceType}`, query.key);
  const bundle = value as Bundle;
  const resources: Resource[] = [];
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (!r) continue;
    if (r.resourceType === 'OperationOutcome') {
      if (hasErrors(r)) return { state: 'absent' };
      continue;
    }
    resources.push(r);
  }
  const next = bundle.link?.find((l) => l.relation === 'next')?.url;
  return next ? { state: 'provided', resources, next } : { state: 'provided', resources };
}

/** The patient a resource is about, when it says so in `subject` or `patient`. */
function patientReferenceOf(resource: Resource): string | undefined {
  const r = resource as { subject?: { reference?: string }; patient?: { reference?: string } };
  const ref = r.subject?.reference ?? r.patient?.reference;
  return ref?.startsWith('Patient/') || ref?.includes('/Patient/') ? ref : undefined;
}

function assertAboutPatient(resources: Resource[], patientId: string, key: string): void {
  for (const resource of resources) {
    const ref = patientReferenceOf(resource);
    if (ref && !ref.endsWith(`Patient/${patientId}`)) {
      throw badPrefetch(`prefetch '${key}' holds a ${resource.resourceType} of another patient than context.patientId`, key);
    }
  }
}

function assertAllowedServer(fhirServer: string, allowed: string[]): void {
  if (allowed.length > 0 && !allowed.some((prefix) => fhirServer.startsWith(prefix.replace(/\/+$/, '')))) {
    throw new HttpOutcomeError(403, outcome(issue('error', 'forbidden', 'fhirServer is not one of the FHIR servers this service may call')));
  }
}

/** `now`: the clinical now of the call (bounds the look-back queries read from fhirServer). */
export async function gatherData(queries: PrefetchQuery[], request: HookRequest, options: GatherOptions, now: string): Promise<GatheredData> {
  const patientId = request.context.patientId;
  const byKey = new Map<string, Resource[]>();
  const missing: PrefetchQuery[] = [];
  const pending: { query: PrefetchQuery; next: string }[] = [];
  for (const query of queries) {
    const prefetched = readPrefetch(request.prefetch[query.key], query);
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
      throw preconditionFailed(
        `prefetch does not carry ${keys.map((k) => `'${k}'`).join(', ')} and the request has no fhirServer to read them from`,
      );
    }
    assertAllowedServer(request.fhirServer, options.allowedFhirServers);
    const fetchOptions: FhirFetchOptions = { baseUrl: request.fhirServer, timeoutMs: options.timeoutMs, maxPages: options.maxPages, now };
    if (request.accessToken) fetchOptions.accessToken = request.accessToken;
    try {
      const results = await Promise.all(missing.map((q) => runQuery(q, patientId, fetchOptions)));
      missing.forEach((q, i) => {
        byKey.set(q.key, results[i] ?? []);
        fetched.push(q.key);
      });
      for (const { query, next } of pending) {
        if (!next.startsWith(request.fhirServer)) throw new FhirFetchError('security', `prefetch '${query.key}' pages from another server than fhirServer`);
        const rest = await runQuery({ ...query, kind: 'search' }, patientId, { ...fetchOptions, baseUrl: request.fhirServer }, next);
        byKey.get(query.key)?.push(...(rest ?? []));
      }
    } catch (err) {
      if (err instanceof FhirFetchError) throw preconditionFailed(`could not read the patient's data from fhirServer: ${err.message}`, err.code as never);
      throw err;
    }
  }

  const patient = byKey.get('patient')?.[0] as Patient | undefined;
  if (!patient) throw preconditionFailed(`Patient/${patientId} is not available (prefetch 'patient' is null and fhirServer has no such patient)`, 'not-found');
  if (patient.id && patient.id !== patientId) throw badPrefetch(`prefetch 'patient' is Patient/${patient.id}, context.patientId is ${patientId}`, 'patient');

  const seen = new Set<string>();
  const resources: Resource[] = [];
  for (const [key, list] of byKey) {
    if (key === 'patient') continue;
    assertAboutPatient(list, patientId, key);
    for (const r of list) {
      const id = r.id ? `${r.resourceType}/${r.id}` : undefined;
      if (id && seen.has(id)) continue;
      if (id) seen.add(id);
      resources.push(r);
    }
  }
  return { patient: { ...patient, id: patient.id ?? patientId }, resources, fetched };
}
