/**
 * Read and search over the knowledge artifacts, FHIR REST style: searchset Bundles for
 * `url`, `version`, `_id`, `name` (string: case-insensitive prefix) and `status`, comma = OR.
 * Unknown parameters are refused rather than ignored, so a filter is never silently dropped.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';

export const SEARCH_PARAMS = ['url', 'version', '_id', 'name', 'status'] as const;
/** Accepted and without effect on the result: JSON is the only format served. */
const IGNORED_PARAMS = new Set(['_format', '_pretty']);

type Artifact = Resource & { url?: string; version?: string; name?: string; status?: string };

function matches(artifact: Artifact, param: string, values: string[]): boolean {
  switch (param) {
    case 'url':
      return values.includes(artifact.url ?? '\u0000');
    case 'version':
      return values.includes(artifact.version ?? '\u0000');
    case '_id':
      return values.includes(artifact.id ?? '\u0000');
    case 'status':
      return values.includes(artifact.status ?? '\u0000');
    case 'name': {
      const name = (artifact.name ?? '').toLowerCase();
      return values.some((v) => name.startsWith(v.toLowerCase()));
    }
    default:
      return false;
  }
}

export function searchArtifacts(knowledge: CompiledKnowledge, type: string, query: Record<string, string | string[] | undefined>, fhirBase: string): Bundle {
  const filters: [string, string[]][] = [];
  for (const [param, raw] of Object.entries(query)) {
    if (raw === undefined || IGNORED_PARAMS.has(param)) continue;
    if (!(SEARCH_PARAMS as readonly string[]).includes(param)) {
      throw badRequest(`unsupported search parameter '${param}' for ${type} (supported: ${SEARCH_PARAMS.join(', ')})`);
    }
    // Repeated parameters are ANDed, comma-separated values ORed.
    for (const value of Array.isArray(raw) ? raw : [raw]) filters.push([param, value.split(',').filter(Boolean)]);
  }
  const found = (knowledge.all() as Artifact[])
    .filter((r) => r.resourceType === type)
    .filter((r) => filters.every(([param, values]) => matches(r, param, values)))
    .sort((a, b) => (a.id ?? '').localeCompare(b.id ?? '') || (a.version ?? '').localeCompare(b.version ?? ''));
  const search = new URLSearchParams(filters.map(([p, v]): [string, string] => [p, v.join(',')]));
  const qs = search.toString();
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: found.length,
    link: [{ relation: 'self', url: `${fhirBase}/${type}${qs ? `?${qs}` : ''}` }],
    entry: found.map((resource) => ({ fullUrl: `${fhirBase}/${type}/${resource.id}`, resource, search: { mode: 'match' } })),
  };
}
