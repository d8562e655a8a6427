/** Starts our HAPI FHIR reference server once for `npm run test:hapi` and stops it afterwards. */
import type { TestProject } from 'vitest/node';
import { startHapiServer } from '../../scripts/hapi/hapi-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    hapiBaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startHapiServer();
  project.provide('hapiBaseUrl', server.baseUrl);
  return () => server.stop();
}
