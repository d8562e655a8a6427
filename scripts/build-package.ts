/**
 * `npm run build`: dist/ for the npm package.
 *
 * JavaScript: one minified ES module per entry point (rolldown; the dependencies stay external,
 * npm installs them), plus the chunks the entries share. Every output file lands in dist/api/, so
 * the paths our code resolves from `import.meta.url` hold in the bundle as they do in src/:
 *  - `new URL('../..', import.meta.url)` (PROJECT_ROOT: profiles/, plandefinitions/, web/dist in a checkout,
 *    package.json) is the package root from dist/api/ as from src/knowledge/;
 *  - the worker threads are started by URL as siblings (`./shard-worker.js`, `./inline-worker.js`),
 *    so they are entry points of their own in the same folder as the chunk that starts them;
 *  - `createRequire(import.meta.url)` (fhirpath internals) resolves from the package folder.
 * Function and class names are minified too (`keepNames` would cost ~5 kB packed): nothing reads
 * them (errors carry an explicit `name` where one is reported; no Fastify plugin is looked up by name).
 *
 * Declarations: tsc's `.d.ts` files, only those reachable from dist/api/*.d.ts (the exports map);
 * the rest describe internals no import can reach. Source maps: a separate `tsc` build is not made
 * (the package does not ship src/, so maps would point nowhere).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'rolldown';
import { PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';

const DIST = join(PROJECT_ROOT, 'dist');

/** Output name (under dist/) -> source. The four `exports` entries, then the worker-thread modules. */
const BUNDLE_ENTRIES: Readonly<Record<string, string>> = {
  'api/index': 'src/api/index.ts',
  'api/knowledge': 'src/api/knowledge.ts',
  'api/server': 'src/api/server.ts',
  'api/cli': 'src/api/cli.ts',
  // src/batch/worker-pool.ts: new URL('./shard-worker.js', import.meta.url)
  'api/shard-worker': 'src/batch/shard-worker.ts',
  // src/server/fhir/inline-runner.ts: new URL('./inline-worker.js', import.meta.url)
  'api/inline-worker': 'src/server/fhir/inline-worker.ts',
};

/** Our own modules are bundled; a bare specifier (a dependency or a Node builtin) stays an import. */
const isDependency = (id: string): boolean => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0') && !/^[A-Za-z]:[\\/]/.test(id);

async function bundleJavaScript(): Promise<void> {
  await build({
    cwd: PROJECT_ROOT,
    input: Object.fromEntries(Object.entries(BUNDLE_ENTRIES).map(([name, file]) => [name, join(PROJECT_ROOT, file)])),
    platform: 'node',
    external: isDependency,
    logLevel: 'warn',
    output: {
      dir: DIST,
      format: 'esm',
      minify: true,
      keepNames: false,
      entryFileNames: '[name].js',
      chunkFileNames: 'api/[name]-[hash].js',
      sourcemap: false,
      comments: false,
    },
  });
}

const SPECIFIER = /(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g;

/** The declaration files reachable from the entry points' `.d.ts`; the rest are deleted. */
function pruneDeclarations(): number {
  const reachable = new Set<string>();
  const pending = readdirSync(join(DIST, 'api'))
    .filter((f) => f.endsWith('.d.ts'))
    .map((f) => join(DIST, 'api', f));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (reachable.has(file)) continue;
    reachable.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      pending.push(resolve(dirname(file), specifier!.replace(/\.(ts|js)$/, '.d.ts')));
    }
  }
  let removed = 0;
  for (const entry of readdirSync(DIST, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && path.endsWith('.d.ts') && !reachable.has(path)) {
      rmSync(path);
      removed++;
    }
  }
  // Folders left empty by the pruning.
  for (const entry of readdirSync(DIST, { withFileTypes: true })) {
    const path = join(DIST, entry.name);
    if (entry.isDirectory() && readdirSync(path, { recursive: true }).every((f) => !String(f).endsWith('.ts') && !String(f).endsWith('.js'))) rmSync(path, { recursive: true });
  }
  return removed;
}

rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(PROJECT_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
await bundleJavaScript();
const removed = pruneDeclarations();
console.log(`dist/: ${Object.keys(BUNDLE_ENTRIES).length} entry points bundled; ${removed} unreachable declaration files dropped (${relative(PROJECT_ROOT, DIST)}/)`);
