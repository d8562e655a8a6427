/**
 * Prefetch templates: the plan's data queries (../requirement-queries.ts) as CDS Hooks publishes
 * them in discovery, one key per query.
 */
import type { RequirementQuery } from '../requirement-queries.ts';

export { PATIENT_KEY, PATIENT_TOKEN, requirementQueries as prefetchQueriesFor, type Lookback, type RequirementQuery as PrefetchQuery } from '../requirement-queries.ts';

export function templatesOf(queries: RequirementQuery[]): Record<string, string> {
  return Object.fromEntries(queries.map((q) => [q.key, q.template]));
}
