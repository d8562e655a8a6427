/**
 * Prefetch templates from a plan's data requirements: the Patient read plus one search per
 * DataRequirement, restricted to what CDS Hooks allows in templates (type-level search,
 * `patient={{context.patientId}}`, token equality / `:in`). Each template is kept as structured
 * parts too, so the service can run exactly the same query against the client's FHIR server.
 */
import type { DataRequirement } from '@medplum/fhirtypes';
import { codeElementOf } from '../../data/patient-data.ts';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.ts';

export const PATIENT_TOKEN = '{{context.patientId}}';
export const PATIENT_KEY = 'patient';

export interface PrefetchQuery {
  key: string;
  /** `Patient` for the read, else the searched type. */
  resourceType: string;
  kind: 'read' | 'search';
  /** Search parameters other than `patient`, in template order. */
  params: [string, string][];
  /** The template string published in discovery. */
  template: string;
}

/** Largest number of codes written into one template before falling back to `code:in`. */
const MAX_INLINE_CODES = 60;

function searchParamFor(type: string, path: string | undefined, searchParam: string | undefined): string | undefined {
  if (searchParam) return searchParam;
  if (!path || path === 'code' || path === codeElementOf(type)) return 'code';
  // Simple element names map onto same-named search parameters (status, category...).
  return /^[a-z]+$/.test(path) ? path : undefined;
}

function tokenValues(filter: NonNullable<DataRequirement['codeFilter']>[number], knowledge: KnowledgeBase): { modifier: string; values: string[] } | undefined {
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

function queryOf(key: string, requirement: DataRequirement, knowledge: KnowledgeBase): PrefetchQuery {
  const type = requirement.type;
  const params: [string, string][] = [];
  for (const filter of requirement.codeFilter ?? []) {
    const name = searchParamFor(type, filter.path, filter.searchParam);
    const tokens = name ? tokenValues(filter, knowledge) : undefined;
    // A filter that cannot be expressed is dropped: the query widens, the engine still filters.
    if (name && tokens) params.push([`${name}${tokens.modifier}`, tokens.values.join(',')]);
  }
  const query = [`patient=${PATIENT_TOKEN}`, ...params.map(([n, v]) => `${n}=${v}`)].join('&');
  return { key, resourceType: type, kind: 'search', params, template: `${type}?${query}` };
}

function keyFor(requirement: DataRequirement, index: number, used: Set<string>): string {
  const base = requirement.id && /^[A-Za-z0-9_.-]+$/.test(requirement.id) ? requirement.id : `${requirement.type}-${index + 1}`;
  let key = base;
  for (let n = 2; used.has(key); n++) key = `${base}-${n}`;
  used.add(key);
  return key;
}

/** The queries for a plan: Patient first, then one per distinct DataRequirement search. */
export function prefetchQueriesFor(requirements: DataRequirement[], knowledge: KnowledgeBase): PrefetchQuery[] {
  const queries: PrefetchQuery[] = [
    { key: PATIENT_KEY, resourceType: 'Patient', kind: 'read', params: [], template: `Patient/${PATIENT_TOKEN}` },
  ];
  const used = new Set([PATIENT_KEY]);
  const byTemplate = new Set<string>();
  requirements.forEach((requirement, index) => {
    if (!requirement.type || requirement.type === 'Patient') return;
    const query = queryOf('', requirement, knowledge);
    if (byTemplate.has(query.template)) return;
    byTemplate.add(query.template);
    queries.push({ ...query, key: keyFor(requirement, index, used) });
  });
  return queries;
}

export function templatesOf(queries: PrefetchQuery[]): Record<string, string> {
  return Object.fromEntries(queries.map((q) => [q.key, q.template]));
}
