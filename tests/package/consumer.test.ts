/**
 * The packages as a user gets them: `npm run pack:npm` (a fresh build, packed from staged copies with
 * JSON minified and profiles without snapshots, scripts/pack.ts) writes the library and the web page
 * (`infertility-protocols-web`, an optional package of its own); both are installed into a new project
 * from the local npm cache where it can, the library imported by name in JavaScript and in a strict
 * TypeScript file, a plan applied, the bin run and its `serve` answering `/` with the page. A second
 * project installs the library alone: `/` says how to install the page. The packaged engine must
 * answer exactly what the source engine answers.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, spawnCli } from '../support/cli.ts';

const EXAMPLE = join(ROOT, 'examples/hsg-ci-iodine-allergy-hycosy.json');
const NOW = '2026-03-10T09:00:00Z';
const PLAN = 'http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography|0.1.0';
/**
 * Packed size budget of the library: issue #14's < 300 kB. It packs to ~286 kB (bundled, minified
 * JS; reachable .d.ts only; JSON minified; profiles without snapshots; the web page in a package of
 * its own). docs/content-package.md ("npm package size") gives the measured share of each part.
 */
const PACKED_BUDGET = 300_000;
/** The web page's package (~80 kB packed: one bundled script, its CSS, index.html): guards growth. */
const WEB_PACKED_BUDGET = 100_000;
const WEB_PACKAGE = 'infertility-protocols-web';

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

let work: string;
let packed: PackResult;
let webPacked: PackResult;
let consumer: string;

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ip-consumer-'));
  const packJson = run('npm', ['run', 'pack:npm', '--', '--json', '--pack-destination', work], ROOT);
  // npm prints the scripts' headers and the build's output before the JSON array: the library, then the page.
  [packed, webPacked] = JSON.parse(packJson.slice(packJson.indexOf('\n[') + 1)) as [PackResult, PackResult];
  consumer = newProject('consumer', [packed.filename, webPacked.filename]);
}, 300_000);

/** A new npm project under `work` with the given tarballs installed. */
function newProject(name: string, tarballs: string[]): string {
  const folder = join(work, name);
  mkdirSync(folder);
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((t) => join(work, t))], folder);
  return folder;
}

/** `serve` of the bin installed in `project`, once it listens; `stop` ends it and gives its exit code. */
async function startServe(project: string): Promise<{ base: string; stop: () => Promise<number | null> }> {
  const port = await getPort({ host: '127.0.0.1' });
  const bin = join(project, 'node_modules/infertility-protocols/bin/infertility-protocols.js');
  const child = spawn(process.execPath, [bin, 'serve', '--port', String(port), '--log-level', 'silent', '--no-auth', '--now', NOW], { cwd: project });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const stop = () => {
    child.kill('SIGTERM');
    return exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', () => {
        if (stderr.includes('CDS Hooks discovery')) resolve();
      });
      child.on('exit', (code) => {
        reject(new Error(`serve exited with ${code}: ${stderr}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { base: `http://127.0.0.1:${port}`, stop };
}

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the build, the bin, the artifacts, README and LICENSE; no tests, bench, sources or authoring', () => {
    const paths = packed.files.map((f) => f.path);
    for (const wanted of [
      'dist/api/index.js',
      'dist/api/index.d.ts',
      'dist/api/cli.js',
      // Started by URL as siblings of the chunk that starts them (worker-pool.ts, inline-runner.ts).
      'dist/api/shard-worker.js',
      'dist/api/inline-worker.js',
      'bin/infertility-protocols.js',
      'README.md',
      'LICENSE',
      'package.json',
    ]) {
      expect(paths).toContain(wanted);
    }
    expect(paths.some((p) => p.startsWith('plandefinitions/hysterosalpingography/') && p.endsWith('.json'))).toBe(true);
    expect(paths.some((p) => p.startsWith('profiles/StructureDefinition-'))).toBe(true);
    // Source maps stay in dist/ for the checkout: they point at src/, which the package does not ship.
    const forbidden = paths.filter((p) => /^(tests|bench|src|scripts|node_modules)\/|\/_authoring\/|\.test\.|(^|\/)\.ci\/|\.map$/.test(p));
    expect(forbidden).toEqual([]);
    // The page is the other package.
    expect(paths.filter((p) => p.startsWith('web/'))).toEqual([]);
    expect(packed.size).toBeLessThan(PACKED_BUDGET);
  });

  it("ships the web page as infertility-protocols-web: the built files, at the library's version, no dependencies", () => {
    const paths = webPacked.files.map((f) => f.path).sort();
    expect(paths.filter((p) => !p.startsWith('dist/assets/'))).toEqual(['LICENSE', 'README.md', 'dist/index.html', 'package.json']);
    expect(paths.some((p) => /^dist\/assets\/[^/]+\.js$/.test(p))).toBe(true);
    expect(webPacked.size).toBeLessThan(WEB_PACKED_BUDGET);
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const web = JSON.parse(readFileSync(join(consumer, 'node_modules', WEB_PACKAGE, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(web).toMatchObject({ name: WEB_PACKAGE, version: root.version, type: 'module' });
    expect(web.dependencies).toBeUndefined();
    // The library does not depend on the page: an optional peer, so npm refuses only a page of another version.
    const library = JSON.parse(readFileSync(join(consumer, 'node_modules/infertility-protocols/package.json'), 'utf8')) as Record<string, unknown>;
    expect(library.dependencies).not.toHaveProperty(WEB_PACKAGE);
    expect(library.peerDependencies).toEqual({ [WEB_PACKAGE]: root.version });
    expect(library.peerDependenciesMeta).toEqual({ [WEB_PACKAGE]: { optional: true } });
  });

  it('ships JSON without indentation, profiles without snapshot, a manifest without scripts', () => {
    const installed = join(consumer, 'node_modules/infertility-protocols');
    const profile = readFileSync(join(installed, 'profiles/StructureDefinition-ip-pregnancy-test.json'), 'utf8');
    expect(profile).not.toContain('\n');
    const sd = JSON.parse(profile) as { snapshot?: unknown; differential?: { element: unknown[] } };
    expect(sd.snapshot).toBeUndefined();
    expect(sd.differential?.element.length).toBeGreaterThan(0);
    const { snapshot: _snapshot, ...committed } = JSON.parse(readFileSync(join(ROOT, 'profiles/StructureDefinition-ip-pregnancy-test.json'), 'utf8')) as Record<string, unknown>;
    expect(sd).toEqual(committed);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.scripts).toBeUndefined();
    expect(manifest.exports).toEqual((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>).exports);
  });
});

describe('installed by name', () => {
  it('JavaScript: imports the package by name, loads its knowledge, applies a plan; same CarePlan as the source engine', async () => {
    writeFileSync(
      join(consumer, 'apply.mjs'),
      `import { readFileSync } from 'node:fs';
import { applyPlanDefinition, buildPatientData, loadKnowledge, validateResources } from 'infertility-protocols';
import { loadKnowledge as fromSubpath } from 'infertility-protocols/knowledge';
import { buildServer } from 'infertility-protocols/server';
import { runCli } from 'infertility-protocols/cli';
const knowledge = loadKnowledge();
const plan = knowledge.resolve(${JSON.stringify(PLAN)});
const bundle = JSON.parse(readFileSync(${JSON.stringify(EXAMPLE)}, 'utf8'));
const record = bundle.entry.map((e) => e.resource);
const subject = record.find((r) => r.resourceType === 'Patient');
const result = applyPlanDefinition(plan, { subject, data: buildPatientData(record) }, { now: ${JSON.stringify(NOW)} }, knowledge);
const profiles = knowledge.all().filter((r) => r.resourceType === 'StructureDefinition');
const validation = validateResources(record).map((v) => v.outcome);
process.stdout.write(JSON.stringify({ carePlan: result.carePlan, profiles, validation, subpaths: [typeof fromSubpath, typeof buildServer, typeof runCli], digest: knowledge.digest }));
`,
    );
    const out = JSON.parse(run(process.execPath, ['apply.mjs'], consumer)) as { carePlan: unknown; profiles: unknown[]; validation: unknown[]; subpaths: string[]; digest: string };
    expect(out.subpaths).toEqual(['function', 'function', 'function']);

    const { applyPlanDefinition, buildPatientData, loadKnowledge, validateResources } = await import('../../src/api/index.ts');
    const knowledge = loadKnowledge();
    const bundle = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { entry: { resource: { resourceType: string } }[] };
    const record = bundle.entry.map((e) => e.resource) as never[];
    const subject = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === 'Patient') as never;
    const expected = applyPlanDefinition(knowledge.resolve(PLAN)!, { subject, data: buildPatientData(record) }, { now: NOW }, knowledge);
    expect((out.carePlan as { resourceType: string }).resourceType).toBe('CarePlan');
    expect(out.carePlan).toEqual(JSON.parse(JSON.stringify(expected.carePlan)));
    // The package ships the profiles without snapshot: loaded, they are the checkout's, and validate alike.
    const profiles = knowledge.all().filter((r) => r.resourceType === 'StructureDefinition');
    expect(out.profiles.length).toBeGreaterThan(5);
    expect(JSON.stringify(out.profiles)).toBe(JSON.stringify(profiles));
    expect(out.validation).toEqual(JSON.parse(JSON.stringify(validateResources(record).map((v) => v.outcome))));
    // The distributed batch's workers compare it with the coordinator's: installed and checkout must agree.
    expect(out.digest).toBe(knowledge.digest);
  });

  it('strict TypeScript: the declarations type-check and are real types (a wrong call is an error)', () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          lib: ['es2023'],
          types: [],
          skipLibCheck: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
        },
        files: ['check.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'check.ts'),
      `import { applyPlanDefinition, buildPatientData, loadKnowledge, type ApplyResult, type CompiledKnowledge } from 'infertility-protocols';
import { startServer, type ServerConfigInput } from 'infertility-protocols/server';
import { runCli, EXIT, type ExitCode } from 'infertility-protocols/cli';
import { lintArtifacts } from 'infertility-protocols/knowledge';

const knowledge: CompiledKnowledge = loadKnowledge();
const plan = knowledge.resolve<Parameters<typeof applyPlanDefinition>[0]>(${JSON.stringify(PLAN)});
if (plan) {
  const subject = { resourceType: 'Patient' as const, id: 'p1', birthDate: '1990-01-01' };
  const result: ApplyResult = applyPlanDefinition(plan, { subject, data: buildPatientData([subject]) }, { now: ${JSON.stringify(NOW)} }, knowledge);
  const status: string | undefined = result.carePlan?.status;
  void status;
  // @ts-expect-error the clock is required: a call without options must not type-check
  applyPlanDefinition(plan, { subject, data: buildPatientData([subject]) });
}
const config: ServerConfigInput = { baseUrl: 'http://127.0.0.1:8089', auth: { required: false } };
const code: ExitCode = EXIT.ok;
void [config, code, startServer, runCli, lintArtifacts];
`,
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});

describe('the installed bin', () => {
  const bin = () => join(consumer, 'node_modules/infertility-protocols/bin/infertility-protocols.js');

  it('runs the built JavaScript: apply gives the same CarePlan and exit code as the source checkout', async () => {
    const args = ['apply', '--plan', 'hysterosalpingography', '--data', EXAMPLE, '--now', NOW];
    const installed = spawnSync(process.execPath, [bin(), ...args], { cwd: consumer, encoding: 'utf8' });
    const source = await spawnCli(args);
    expect(installed.status).toBe(source.code);
    expect(JSON.parse(installed.stdout)).toEqual(source.json);
    expect(spawnSync(join(consumer, 'node_modules/.bin/infertility-protocols'), ['--version'], { cwd: consumer, encoding: 'utf8' }).stdout.trim()).toBe('0.1.0');
  });

  it('serve answers / with the built web page and its assets, from the installed infertility-protocols-web', async () => {
    const server = await startServe(consumer);
    try {
      const page = await fetch(`${server.base}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      // The built app of the page's package, not the "not installed" page.
      expect(html).toBe(readFileSync(join(consumer, 'node_modules', WEB_PACKAGE, 'dist/index.html'), 'utf8'));
      const script = /<script type="module"[^>]* src="([^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${server.base}${script!}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);

      // An inline PlanDefinition is applied in a worker thread, which must start from dist/ too.
      const inline = await fetch(`${server.base}/fhir/PlanDefinition/$apply`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'planDefinition',
              resource: {
                resourceType: 'PlanDefinition',
                url: 'http://example.org/PlanDefinition/inline-consumer',
                status: 'draft',
                action: [
                  { id: 'a', title: 'Female?', condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: "%patient.gender = 'female'" } }] },
                ],
              },
            },
            { name: 'subject', valueString: 'Patient/p1' },
            { name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'p1', gender: 'female' } }] } },
          ],
        }),
      });
      const answer = await inline.text();
      expect(inline.status, answer).toBe(200);
      expect((JSON.parse(answer) as { resourceType: string }).resourceType).toBe('CarePlan');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('with the library alone, serve answers / with the page that says to install infertility-protocols-web (200), diagrams still served', async () => {
    const alone = newProject('library-alone', [packed.filename]);
    expect(existsSync(join(alone, 'node_modules', WEB_PACKAGE))).toBe(false);
    const server = await startServe(alone);
    try {
      const page = await fetch(`${server.base}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain(`npm install ${WEB_PACKAGE}@0.1.0`);
      expect(html).toContain('href="/diagrams"');
      expect(html).not.toContain('<script');
      const diagrams = await fetch(`${server.base}/diagrams/hysterosalpingography.svg`);
      expect(diagrams.status).toBe(200);
      expect(await diagrams.text()).toContain('<svg');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);

  it('batch starts its worker threads from dist/', () => {
    const out = join(work, 'batch-out');
    const batch = spawnSync(
      process.execPath,
      [bin(), 'batch', '--in', join(ROOT, 'examples/bulk'), '--out', out, '--now', NOW, '--workers', '1', '--plan', 'hysterosalpingography'],
      { cwd: consumer, encoding: 'utf8' },
    );
    expect(batch.stderr).not.toMatch(/ERR_|Cannot find module/);
    expect(batch.status).toBe(0);
    expect(readFileSync(join(out, 'CarePlan.ndjson'), 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(0);
  });

  it('package writes the FHIR package with full snapshots: the same files as the source checkout writes', async () => {
    const installedOut = join(work, 'fhir-package-installed');
    const sourceOut = join(work, 'fhir-package-source');
    const installed = spawnSync(process.execPath, [bin(), 'package', '--out', installedOut], { cwd: consumer, encoding: 'utf8' });
    expect(installed.status, installed.stderr).toBe(0);
    expect((await spawnCli(['package', '--out', sourceOut])).code).toBe(0);
    const contents = (dir: string) =>
      Object.fromEntries(
        readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => [join(e.parentPath, e.name).slice(dir.length), readFileSync(join(e.parentPath, e.name), 'utf8')]),
      );
    const fromInstalled = contents(installedOut);
    const profile = Object.entries(fromInstalled).find(([name]) => name.includes('StructureDefinition-ip-pregnancy-test'));
    expect((JSON.parse(profile![1]) as { snapshot?: { element: unknown[] } }).snapshot?.element.length).toBeGreaterThan(10);
    expect(fromInstalled).toEqual(contents(sourceOut));
  });

  it('under an unsupported Node prints one line naming the Node it needs, exit 3, no stack trace', () => {
    const old = spawnSync(process.execPath, ['--import', 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.11.1"})', bin(), '--version'], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect(old.status).toBe(3);
    expect(old.stdout).toBe('');
    expect(old.stderr).toBe('infertility-protocols needs Node ^22.18.0 || >=24.2.0; this is Node 20.11.1.\n');
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(old.stderr).toContain(`Node ${engines};`);
  });
});
