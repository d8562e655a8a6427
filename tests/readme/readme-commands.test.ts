/**
 * Every fenced shell block of README.md and docs/*.md runs, in order, one bash session per document
 * (as a reader would type them), and every command must exit 0. What is substituted, and only this:
 * `npx infertility-protocols` runs this checkout's bin; the FHIR servers named in the text
 * (https://fhir.example.org/R4, http://127.0.0.1:44757/fhir/R4) are the fixture FHIR server holding
 * the example patient as Patient/123; the ports 8080/8089 are free ports; /tmp/ is a temporary
 * folder; `serve` is started in the background and the session goes on once it listens. A block
 * that cannot run here is marked `<!-- readme-test: skip: why -->` and listed below.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';
import { ROOT } from '../support/cli.ts';
import { shellBlocks, type ShellBlock } from './shell-blocks.ts';

const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const EXAMPLE_PATIENT = 'examples/hsg-infertility-day-6-all-ready.json';
const EXAMPLE_PATIENT_ID = 'hsg-infertility-day-6-all-ready-patient';

/** The blocks that do not run, and why: a change here is a visible decision. */
const SKIPPED: Record<string, string> = {
  'README.md: npm ci && npm run demo': 'npm ci reinstalls node_modules under the running tests; npm test is this suite',
  'docs/cds-hooks.md: curl -s -X POST -H \'content-type: application/fhir+json\' -H "authorization: Bearer $JWT" \\':
    'needs a JWT signed by a trusted issuer and a public host (cds.example.org)',
  'docs/cli.md: npx infertility-protocols load --server https://fhir.example.org/R4 \\':
    'needs a SMART backend-services client registered at a real FHIR server (tests/fhir-server covers SMART against the fixture)',
  'docs/conformance.md: TZ=UTC npx vitest run tests/conformance': 'runs a part of this test suite',
  'docs/profiles.md: npx node scripts/build-profiles.ts': 'rewrites the committed profiles and runs a part of this test suite (tests/validation checks they agree)',
  'docs/protocols.md: npm run build:protocols': 'rewrites the committed artifacts and cases and runs a part of this test suite (tests/protocols checks they agree)',
};

/** A block named by its document and its first command (line numbers move as the documents grow). */
const blockKey = (b: ShellBlock): string => {
  const first = b.text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  return `${b.file}: ${first.replace(/\s+#.*$/, '').trim()}`;
};

/** The session's helpers: `npx infertility-protocols` is this checkout's bin; `serve` goes to the background. */
const PRELUDE = String.raw`
set -o errexit
trap 'echo "FAILED (exit $?) in $BLOCK: $BASH_COMMAND" >&2' ERR
cleanup() { for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
npx() {
  if [ "$1" != infertility-protocols ]; then command npx "$@"; return; fi
  shift
  if [ "$1" != serve ]; then "$IP_NODE" "$IP_ROOT/bin/infertility-protocols.js" "$@"; return; fi
  local args=("$@") log="$IP_WORK/serve-$RANDOM.log" config="" prev=""
  for a in "$@"; do [ "$prev" = --config ] || [ "$prev" = -c ] && config="$a"; prev="$a"; done
  case " $* " in
    *" --port "*|*" -p "*) ;;
    *) local p; p=$(grep -o '"port": *[0-9]*' "$config" | grep -o '[0-9]*$' || true); args+=(--port "$(port_for "$p")") ;;
  esac
  "$IP_NODE" "$IP_ROOT/bin/infertility-protocols.js" "${'${'}args[@]}" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do
    if grep -q "CDS Hooks discovery" "$log"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; wait "$pid"; return $?; fi
    sleep 0.2
  done
  cat "$log" >&2
  return 124
}
`;

let fhir: FhirTestServer;
let work: string;
const ports = new Map<string, number>();

beforeAll(async () => {
  fhir = await startFhirTestServer();
  // The example patient as Patient/123 (the id the commands use), with its record.
  const bundle = JSON.parse(readFileSync(join(ROOT, EXAMPLE_PATIENT), 'utf8').replaceAll(EXAMPLE_PATIENT_ID, '123')) as {
    entry: { resource: { resourceType: string; id: string } }[];
  };
  for (const { resource } of bundle.entry) {
    const put = await fetch(`${fhir.baseUrl}/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(resource),
    });
    if (!put.ok) throw new Error(`fixture: PUT ${resource.resourceType}/${resource.id}: ${put.status} ${await put.text()}`);
  }
  work = mkdtempSync(join(tmpdir(), 'ip-readme-'));
  for (const entry of ['bin', 'docs', 'examples', 'node_modules', 'package.json', 'plandefinitions', 'profiles', 'scripts', 'src', 'tests']) {
    symlinkSync(join(ROOT, entry), join(work, entry));
  }
  mkdirSync(join(work, 'tmp'));
  for (const port of ['8080', '8089']) ports.set(port, await getPort({ host: '127.0.0.1' }));
}, 60_000);

afterAll(async () => {
  await fhir.close();
  rmSync(work, { recursive: true, force: true });
});

/** The block as it runs here (see the file comment for every substitution). */
function localise(block: ShellBlock): string {
  let text = block.text
    .replaceAll('https://fhir.example.org/R4', fhir.baseUrl)
    .replaceAll('http://127.0.0.1:44757/fhir/R4', fhir.baseUrl)
    .replaceAll('/tmp/', `${work}/tmp/`)
    // A backgrounded serve: the helper backgrounds it and waits until it listens.
    .replace(/^(.*infertility-protocols serve.*?)\s*&\s*$/gm, '$1');
  for (const [from, to] of ports) text = text.replace(new RegExp(`(127\\.0\\.0\\.1:|--port )${from}\\b`, 'g'), `$1${to}`);
  return `BLOCK=${block.file}:${block.line}\n${text}\n`;
}

const documents = DOCUMENTS.map((file) => ({ file, blocks: shellBlocks(file, readFileSync(join(ROOT, file), 'utf8')) })).filter((d) => d.blocks.length > 0);
const runnable = documents.filter((d) => d.blocks.some((b) => !b.skip));

describe('README and docs commands', () => {
  it('every block that does not run is marked in the markdown with its reason, and listed here', () => {
    const marked = Object.fromEntries(documents.flatMap((d) => d.blocks.filter((b) => b.skip).map((b) => [blockKey(b), b.skip])));
    expect(Object.keys(marked).sort()).toEqual(Object.keys(SKIPPED).sort());
  });

  it('the layout table names every top-level folder and every folder of src/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'));
    const table = layout.slice(layout.indexOf('```'), layout.indexOf('```', layout.indexOf('```') + 3));
    const folders = [
      ...readdirSync(ROOT, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        .map((e) => `${e.name}/`),
      ...readdirSync(join(ROOT, 'src'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => `src/${e.name}/`),
    ];
    expect(folders.filter((f) => !new RegExp(`(^|\\s)${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm').test(table))).toEqual([]);
  });

  it.each(runnable.map((d) => [d.file, d.blocks] as const))(
    '%s: every command exits 0',
    async (file, blocks) => {
      const portLookup = [...ports].map(([from, to]) => `${from}) echo ${to} ;;`).join(' ');
      const script = [PRELUDE, `port_for() { case "$1" in ${portLookup} *) echo "$1" ;; esac; }`, ...blocks.filter((b) => !b.skip).map(localise)].join('\n');
      const scriptFile = join(work, `${file.replaceAll('/', '_')}.sh`);
      writeFileSync(scriptFile, script);
      // Asynchronous: the fixture FHIR server answers from this process while the session runs.
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn('bash', [scriptFile], {
          cwd: work,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, IP_NODE: process.execPath, IP_ROOT: ROOT, IP_WORK: work, TZ: 'UTC', PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (status) => {
          resolve({ status, stderr });
        });
      });
      const failed = run.stderr.split('\n').filter((l) => l.startsWith('FAILED'));
      expect({ status: run.status, failed }, run.stderr.slice(-3000)).toEqual({ status: 0, failed: [] });
    },
    300_000,
  );
});
