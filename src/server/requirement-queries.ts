/**
 * The FHIR searches that read what a plan's logic reads: the Patient read plus one type-level search
 * per DataRequirement (`patient=<id>`, each codeFilter as a token parameter with equality or `:in`,
 * absolute date filters as ge/le). Parameters are the base specification's search parameters for
 * the filtered element (search-params.ts). Used by both readers of patient data over HTTP: the CDS
 * service (published as prefetch templates, run against the client's fhirServer when not
 * prefetched) and $apply with a dataEndpoint. Nothing here is specific to a hook or a protocol.
 *
 * The patient is written as the CDS Hooks token `{{context.patientId}}` (the published template);
 * a reader substitutes the id. Only what CDS Hooks allows in a template is used, so the same query
 * serves both.
 *
 * A dateFilter that is a Duration ("within the last 7 days") is relative to now, and CDS Hooks 2.0
 * defines no prefetch token for the current date (only `{{context.*}}` and the `{{user...Id}}`
 * tokens): it is left out of the template (the EHR sends the wider result, the engine applies the
 * look-back) and kept as `lookback`, which a reader adds as a concrete `ge` date when it reads the
 * FHIR server itself.
 */
import type { DataRequirement, Duration } from '@medplum/fhirtypes';
import { codeElementOf } from '../data/patient-data.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { searchParamFor } from './search-params.ts';

export const PATIENT_TOKEN = '{{context.patientId}}';
export const PATIENT_KEY = 'patient';

/** A look-back relative to now: `param >= now - the longest duration` (undefined: no bound). */
export interface Lookback {
  param: string;
  durations: Duration[];
}

export interface RequirementQuery {
  key: string;
  /** `Patient` for the read, else the searched type. */
  resourceType: string;
  kind: 'read' | 'search';
  /** Search parameters other than `patient`, in template order. */
  params: [string, string][];
  /** The query with the patient as `{{context.patientId}}` (a CDS prefetch template). */
  template: string;
  /** Applied to a reader's own searches only (not expressible in a template). */
  lookback?: Lookback;
}

/** Largest number of codes written into one template before falling back to `code:in`. */
const MAX_INLINE_CODES = 60;

function tokenParamFor(type: string, filter: NonNullable<DataRequirement['codeFilter']>[number]): string | undefined {
  if (filter.searchParam) return filter.searchParam;
  return searchParamFor(type, filter.path ?? codeElementOf(type) ?? 'code', 'token');
}

function tokenValues(filter: NonNullable<DataRequirement['codeFilter']>[number], knowledge: CompiledKnowledge): { modifier: string; values: string[] } | undefined {
  const codes = (filter.code ?? []).filter((c) => c.code).map((c) => (c.system ? `${c.system}|${c.code}` : (c.code as string)));
  if (filter.valueSet) {
    const keys = knowledge.valueSetKeys(filter.valueSet);
    if (keys && keys.size + codes.length <= MAX_INLINE_CODES) {
      for (const k of keys) codes.push(k.startsWith('|') ? k.slice(1) : k);
    } else {
      // Not enumerable here (filters) or too long for a URL: let the server expand it.
      return codes.length === 0 ? { modifier: ':in', values: [filter.valueSet] } : undefined;
    }
  }
  if (codes.length === 0) return undefined;
  return { modifier: '', values: [...new Set(codes)] };
}

/** A date value as written in a template: `+` of an offset must not read as a space. */
function templateValue(value: string): string {
  return value.replace(/\+/g, '%2B');
}

interface BuiltQuery {
  params: [string, string][];
  template: string;
  lookback?: Lookback;
}

function queryOf(requirement: DataRequirement, knowledge: CompiledKnowledge): BuiltQuery {
  const type = requirement.type;
  const params: [string, string][] = [];
  for (const filter of requirement.codeFilter ?? []) {
    const name = tokenParamFor(type, filter);
    const tokens = name ? tokenValues(filter, knowledge) : undefined;
    // A filter that cannot be expressed is dropped: the query widens, the engine still filters.
    if (name && tokens) params.push([`${name}${tokens.modifier}`, tokens.values.join(',')]);
  }
  let lookback: Lookback | undefined;
  for (const filter of requirement.dateFilter ?? []) {
    const path = filter.path;
    const name = filter.searchParam ?? (path ? searchParamFor(type, path, 'date') : undefined);
    if (!name) continue;
    // ge/le on a date parameter match by overlap, as the engine's filter does.
    if (filter.valueDateTime) params.push([name, `ge${filter.valueDateTime}`], [name, `le${filter.valueDateTime}`]);
    if (filter.valuePeriod?.start) params.push([name, `ge${filter.valuePeriod.start}`]);
    if (filter.valuePeriod?.end) params.push([name, `le${filter.valuePeriod.end}`]);
    if (filter.valueDuration && !lookback) lookback = { param: name, durations: [filter.valueDuration] };
  }
  const query = [`patient=${PATIENT_TOKEN}`, ...params.map(([n, v]) => `${n}=${templateValue(v)}`)].join('&');
  return lookback ? { params, template: `${type}?${query}`, lookback } : { params, template: `${type}?${query}` };
}

/** Two requirements read through one template: the service's read must cover both look-backs. */
function mergeLookbacks(a: Lookback | undefined, b: Lookback | undefined): Lookback | undefined {
  if (!a || !b || a.param !== b.param) return undefined;
  return { param: a.param, durations: [...a.durations, ...b.durations] };
}

function keyFor(requirement: DataRequirement, index: number, used: Set<string>): string {
  const base = requirement.id && /^[A-Za-z0-9_.-]+$/.test(requirement.id) ? requirement.id : `${requirement.type}-${index + 1}`;
  let key = base;
  for (let n = 2; used.has(key); n++) key = `${base}-${n}`;
  used.add(key);
  return key;
}

/** The read of the subject herself (all an ActivityDefinition's $apply needs from a data endpoint). */
export const PATIENT_READ: RequirementQuery = { key: PATIENT_KEY, resourceType: 'Patient', kind: 'read', params: [], template: `Patient/${PATIENT_TOKEN}` };

/** The queries for a plan: Patient first, then one per distinct DataRequirement search. */
export function requirementQueries(requirements: DataRequirement[], knowledge: CompiledKnowledge): RequirementQuery[] {
  const queries: RequirementQuery[] = [{ ...PATIENT_READ }];
  const used = new Set([PATIENT_KEY]);
  const byTemplate = new Map<string, RequirementQuery>();
  requirements.forEach((requirement, index) => {
    if (!requirement.type || requirement.type === 'Patient') return;
    const built = queryOf(requirement, knowledge);
    const same = byTemplate.get(built.template);
    if (same) {
      const lookback = mergeLookbacks(same.lookback, built.lookback);
      if (lookback) same.lookback = lookback;
      else delete same.lookback;
      return;
    }
    const query: RequirementQuery = { key: keyFor(requirement, index, used), resourceType: requirement.type, kind: 'search', params: built.params, template: built.template };
    if (built.lookback) query.lookback = built.lookback;
    byTemplate.set(built.template, query);
    queries.push(query);
  });
  return queries;
}
