import { defineConfig } from 'vitest/config';

/**
 * `npm run test:hapi`: the integration suite against a real HAPI FHIR JPA server (interop/hapi),
 * started once for the run by tests/hapi/global-setup.ts and stopped after it.
 */
export default defineConfig({
  test: {
    include: ['tests/hapi/**/*.hapi-test.ts'],
    globalSetup: ['tests/hapi/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
