/**
 * `npm run docs:protocols`: writes docs/protocols.md and docs/diagrams/*.svg from the artifacts
 * (src/diagram/protocol-docs.ts). `--check` only compares and exits 1 when a file is stale.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DOCS_PATH, protocolDocs } from '../src/diagram/protocol-docs.ts';
import { loadKnowledge, PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';

const check = process.argv.includes('--check');
const files = await protocolDocs(loadKnowledge(), readFileSync(join(PROJECT_ROOT, DOCS_PATH), 'utf8'));
let stale = 0;
for (const [path, content] of files) {
  const target = join(PROJECT_ROOT, path);
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  stale++;
  if (check) {
    console.error(`stale: ${path}`);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${path}`);
  }
}
if (check && stale > 0) process.exitCode = 1;
