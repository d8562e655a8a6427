/**
 * The page plays the EHR in CDS Hooks 2.0 prefetch: each template is a FHIR query, and the EHR
 * sends what that query returns - the resource for a read (`Patient/{{context.patientId}}`, null
 * when absent), a searchset Bundle of the matches for a search (`Observation?patient=..&code=..`).
 * The "server" here is the patient's Bundle: a search is evaluated against it by @medplum/core's
 * in-memory matcher (parseSearchRequest + matchesSearchRequest, what Medplum's MemoryRepository
 * searches with) over the R4 SearchParameters the page was built with (vite.config.ts keeps those
 * of the Patient-compartment types).
 *
 * Limits, said rather than guessed: a filter the matcher does not evaluate (a modifier such as
 * `:in` / `:below` that needs terminology, `:text`, a chained or unknown parameter) and
 * `_include` / `_revinclude` leave that key out of the prefetch, as CDS Hooks allows a client to do;
 * the key is named in `notPrefetched`. Result parameters (`_count`, `_sort`, `_elements`) do not
 * narrow what an EHR sends (all pages merged), so they are not applied.
 */
import { getSearchParameter, indexSearchParameterBundle, matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';

export interface Prefetch {
  prefetch: Record<string, Resource | null>;
  /** Templates the page could not evaluate, and why (left out of the prefetch). */
  notPrefetched: { key: string; why: string }[];
}

/** Operators the matcher evaluates as the FHIR search specification defines them. */
const EVALUATED = new Set(['eq', 'ne', 'not', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'missing', 'present']);
const EVALUATED_TYPES = new Set(['token', 'reference', 'date', 'string', 'uri']);

/** Makes the R4 search parameters known to the matcher (once, when the page starts, or in a test). */
export function loadSearchParameters(bundle: Bundle<SearchParameter>): void {
  indexSearchParameterBundle(bundle);
}

/** `{{context.x}}` tokens filled from the hook context (CDS Hooks 2.0 prefetch tokens). */
function fill(template: string, context: Record<string, string>): string {
  return template.replace(/\{\{\s*context\.([A-Za-z]+)\s*\}\}/g, (_m, name: string) => encodeURIComponent(context[name] ?? ''));
}

/**
 * The Bundle's resources with each reference to another entry's fullUrl (urn:uuid, as
 * transaction Bundles from Synthea and EHR exports write them) as `Type/id`, the form a FHIR
 * server stores and searches.
 */
function asStored(bundle: Bundle): Resource[] {
  const byFullUrl = new Map<string, string>();
  for (const e of bundle.entry ?? []) if (e.fullUrl && e.resource?.id) byFullUrl.set(e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`);
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'reference' && typeof v === 'string' ? (byFullUrl.get(v) ?? v) : rewrite(v)]));
  };
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [rewrite(e.resource) as Resource] : []));
}

/** Why the matcher cannot answer this search as a FHIR server would, or undefined when it can. */
function unevaluated(query: string): string | undefined {
  const request = parseSearchRequest(query);
  if (request.include?.length || request.revInclude?.length) return '_include / _revinclude are not evaluated here';
  for (const filter of request.filters ?? []) {
    const param = getSearchParameter(request.resourceType, filter.code);
    if (!param) return `search parameter '${filter.code}' is not one of ${request.resourceType}'s (or is chained)`;
    if (!EVALUATED_TYPES.has(param.type)) return `'${filter.code}' is a ${param.type} parameter, not evaluated here`;
    if (!EVALUATED.has(filter.operator)) return `the ':${filter.operator}' modifier of '${filter.code}' needs a terminology service`;
  }
  return undefined;
}

export function prefetchFromBundle(templates: Record<string, string>, bundle: Bundle, context: Record<string, string>): Prefetch {
  const record = asStored(bundle);
  const result: Prefetch = { prefetch: {}, notPrefetched: [] };
  for (const [key, template] of Object.entries(templates)) {
    const query = fill(template, context);
    if (!query.includes('?')) {
      const [type, id] = query.split('/');
      result.prefetch[key] = record.find((r) => r.resourceType === type && r.id === decodeURIComponent(id ?? '')) ?? null;
      continue;
    }
    const why = unevaluated(query);
    if (why) {
      result.notPrefetched.push({ key, why });
      continue;
    }
    const request = parseSearchRequest(query);
    const entry = record.filter((r) => matchesSearchRequest(r, request)).map((resource) => ({ resource, search: { mode: 'match' as const } }));
    result.prefetch[key] = { resourceType: 'Bundle', type: 'searchset', total: entry.length, ...(entry.length ? { entry } : {}) };
  }
  return result;
}
