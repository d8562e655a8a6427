/**
 * Schema-driven fuzz of the HTTP API with schemathesis (issue #13): starts the server (real
 * protocols, auth off, `now` fixed) on a free loopback port, runs schemathesis against its served
 * OpenAPI document with every check on (5xx, status codes and content types the document does
 * not declare, schema-valid requests refused, undeclared methods not answered 405...), and exits
 * non-zero on any finding. Prints the requests sent and the statuses seen (from the HAR report).
 *
 * schemathesis comes from PyPI, pinned, into a virtualenv under the user cache folder (created
 * once, reused when present). Usage: `npm run fuzz:schemathesis [-- --max-examples N]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server/start.ts';

const SCHEMATHESIS = 'schemathesis==4.32.5';
const venv = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'infertility-protocols', 'schemathesis-4.32.5');
const st = join(venv, 'bin', 'st');

function run(command: string, args: string[]): number {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (!existsSync(st)) {
  if (run('python3', ['-m', 'venv', venv]) !== 0) throw new Error(`could not create the virtualenv ${venv} (Debian: apt-get install python3-venv)`);
  if (run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', SCHEMATHESIS]) !== 0) throw new Error(`pip install ${SCHEMATHESIS} failed`);
}

const maxExamples = process.argv.includes('--max-examples') ? (process.argv[process.argv.indexOf('--max-examples') + 1] ?? '350') : '350';
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  baseUrl: 'http://127.0.0.1',
  auth: { required: false },
  now: '2026-03-01T09:00:00Z',
  logLevel: 'silent',
});
const reportDir = mkdtempSync(join(tmpdir(), 'schemathesis-'));
const har = join(reportDir, 'requests.har');
let status: number;
try {
  // Asynchronously: the server answers from this same event loop.
  const child = spawn(
    st,
    [
      '--config-file',
      join(import.meta.dirname, 'schemathesis.toml'),
      'run',
      `${server.address}/openapi.json`,
      '--url',
      server.address,
      '--max-examples',
      maxExamples,
      '--checks',
      'all',
      '--continue-on-failure',
      '--seed',
      '13',
      '--workers',
      '1',
      '--report',
      'har',
      '--report-har-path',
      har,
    ],
    // Its cache (.schemathesis/) goes to the temporary folder, not into the checkout.
    { stdio: 'inherit', cwd: reportDir },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  status = code ?? 1;
} finally {
  await server.close();
}

interface HarEntry {
  response: { status: number };
}
const entries = existsSync(har) ? (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries : [];
const statuses = new Map<number, number>();
for (const entry of entries) statuses.set(entry.response.status, (statuses.get(entry.response.status) ?? 0) + 1);
const serverErrors = entries.filter((e) => e.response.status >= 500).length;
console.log(
  `schemathesis: ${entries.length} requests; statuses ${[...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s} (${n})`)
    .join(', ')}; ${serverErrors} x 5xx; exit ${status}`,
);
rmSync(reportDir, { recursive: true, force: true });
process.exit(status === 0 && serverErrors === 0 ? 0 : 1);
