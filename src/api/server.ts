/** `infertility-protocols/server`: the CDS Hooks 2.0 service and FHIR $apply endpoint, embeddable. */
export { buildServer, parseServerConfig, type CdsServer } from '../server/app.ts';
export { closeOnSignals, startServer, type RunningServer } from '../server/start.ts';
export type { ServerConfig, ServerConfigInput } from '../server/config.ts';
