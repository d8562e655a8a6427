/**
 * Running the server as a process: listen, and on SIGTERM / SIGINT stop accepting connections,
 * let in-flight requests finish (bounded), then exit.
 */
import type { ServerConfigInput } from './config.ts';
import { buildServer, type CdsServer } from './app.ts';

export interface RunningServer extends CdsServer {
  /** The address actually bound, e.g. http://127.0.0.1:8080. */
  address: string;
  close(): Promise<void>;
}

export async function startServer(input: ServerConfigInput): Promise<RunningServer> {
  const server = buildServer(input);
  const address = await server.app.listen({ host: server.config.host, port: server.config.port });
  server.app.log.info({ address, baseUrl: server.config.baseUrl }, 'listening');
  return { ...server, address, close: () => server.app.close() };
}

/** Installs the signal handlers of a long-running process (the CLI `serve` command). */
export function closeOnSignals(server: RunningServer, graceMs = 10_000): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    server.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      server.app.log.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    server
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
