/** The integration suite (tests/hapi/support/server-suite.ts) against the Medplum-based fixture server. */
import { startFhirTestServer } from '../support/fhir-test-server.ts';
import { describeAgainstServer } from './support/server-suite.ts';

describeAgainstServer('the Medplum fixture server', () => startFhirTestServer({ everything: false }), {
  // It refuses ~90 conditional entries in one transaction: the loader falls back (any style is fine here).
  bulkExport: false,
});
