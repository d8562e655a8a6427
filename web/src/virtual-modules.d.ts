/** Built by vite.config.ts: the R4 SearchParameters of the Patient-compartment types (prefetch.ts). */
declare module 'virtual:patient-search-parameters' {
  import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
  const bundle: Bundle<SearchParameter>;
  export default bundle;
}
