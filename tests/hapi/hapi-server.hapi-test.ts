/** The integration suite (tests/hapi/support/server-suite.ts) against a real HAPI FHIR JPA server. */
import { inject } from 'vitest';
import { describeAgainstServer } from './support/server-suite.ts';

describeAgainstServer('HAPI FHIR (JPA, H2)', () => Promise.resolve({ baseUrl: inject('hapiBaseUrl'), close: () => Promise.resolve() }), {
  // HAPI accepts the loader's conditional updates (PUT Type?url=&version=) in one transaction.
  loadStyle: 'conditional',
  bulkExport: true,
});
