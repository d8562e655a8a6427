/**
 * A deep copy of JSON data (plain objects, arrays, primitives), for elements taken from the
 * knowledge into an output. Outputs are edited after they are built (dynamic values, references
 * left out, ids rewritten); an element shared with a loaded definition would carry one patient's
 * values into every later apply. The knowledge is JSON as read from the artifacts, so a plain
 * recursive copy suffices (and is several times faster than structuredClone on small elements).
 */
export function copyJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => copyJson(item)) as T;
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = copyJson((value as Record<string, unknown>)[key]);
  return out as T;
}
