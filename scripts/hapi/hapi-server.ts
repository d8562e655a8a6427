/**
 * Starts and stops our HAPI FHIR reference server (interop/hapi) for tests and benches: built once
 * (scripts/hapi/build.sh, Maven cache in ~/.m2), run on a free loopback port with a modest heap,
 * ready when GET /fhir/metadata answers; its pid is kept in interop/hapi/target/hapi-server-<port>.pid and
 * the JVM is killed when this process exits, so no server outlives the run.
 *
 *   node scripts/hapi/hapi-server.ts start   # prints the base URL, serves until Ctrl-C
 *   node scripts/hapi/hapi-server.ts stop    # stops servers killed runs left behind (pid files)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';

const HAPI_DIR = join(PROJECT_ROOT, 'interop', 'hapi');
/** One pid file per server (port), so runs side by side (tests, bench) never stop each other's server. */
const pidFile = (port: number): string => join(HAPI_DIR, 'target', `hapi-server-${String(port)}.pid`);
/** HAPI creates its schema in H2 and starts ~300 Spring beans: ~80 s on a busy 2-core machine. */
const READY_TIMEOUT_MS = 400_000;

export interface HapiServer {
  /** e.g. http://127.0.0.1:41234/fhir */
  baseUrl: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export function buildHapi(): void {
  const build = spawnSync(join(PROJECT_ROOT, 'scripts', 'hapi', 'build.sh'), { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building interop/hapi failed (exit ${String(build.status)})`);
}

export function hapiClasspath(): string {
  return `${join(HAPI_DIR, 'target', 'classes')}:${readFileSync(join(HAPI_DIR, 'target', 'classpath.txt'), 'utf8').trim()}`;
}

async function waitForMetadata(baseUrl: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the HAPI server exited (${String(child.exitCode ?? child.signalCode)}) before it was ready; log: ${logFile}\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    try {
      const response = await fetch(`${baseUrl}/metadata`, { signal: AbortSignal.timeout(5000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(1000);
  }
  throw new Error(`the HAPI server did not answer ${baseUrl}/metadata within ${String(READY_TIMEOUT_MS / 1000)} s; log: ${logFile}`);
}

export async function startHapiServer(): Promise<HapiServer> {
  buildHapi();
  const port = await getPort({ host: '127.0.0.1' });
  const logFile = join(tmpdir(), `hapi-server-${String(port)}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(
    'java',
    ['-Xmx1g', '-XX:+UseSerialGC', '-cp', hapiClasspath(), 'org.infertilityprotocols.hapi.server.ReferenceServerApplication', `--server.port=${String(port)}`],
    {
      cwd: HAPI_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start java');
  writeFileSync(pidFile(port), String(pid));
  const killOnExit = () => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) child.kill('SIGKILL');
    }
    rmSync(pidFile(port), { force: true });
  };
  const baseUrl = `http://127.0.0.1:${String(port)}/fhir`;
  try {
    await waitForMetadata(baseUrl, child, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return { baseUrl, pid, logFile, stop };
}

/** Stops the servers whose pid files previous runs left (those runs were killed before their exit hook). */
export function stopLeftoverServers(): number {
  const dir = join(HAPI_DIR, 'target');
  if (!existsSync(dir)) return 0;
  let stopped = 0;
  for (const file of readdirSync(dir).filter((f) => /^hapi-server-\d+\.pid$/.test(f))) {
    const pid = Number(readFileSync(join(dir, file), 'utf8'));
    rmSync(join(dir, file), { force: true });
    try {
      process.kill(pid, 'SIGTERM');
      stopped += 1;
    } catch {
      // already gone
    }
  }
  return stopped;
}

if (import.meta.main) {
  const command = process.argv[2];
  if (command === 'start') {
    const server = await startHapiServer();
    console.log(server.baseUrl);
    const shutdown = () => {
      void server.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  } else if (command === 'stop') {
    console.log(`stopped ${String(stopLeftoverServers())} server(s)`);
  } else {
    console.error('usage: node scripts/hapi/hapi-server.ts start|stop');
    process.exitCode = 2;
  }
}
