/**
 * Rules of the source tree that review alone does not keep true (issue #12): protocol facts live in
 * the artifacts, so no clinical code is written in `src/`; and what the engine reuses between applies
 * lives in the compiled knowledge, so the engine keeps no memo table of its own at module level.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const SRC = join(PROJECT_ROOT, 'src');
const files = sourceFiles(SRC).map((file) => ({ name: relative(PROJECT_ROOT, file), text: readFileSync(file, 'utf8') }));

/** SNOMED CT identifiers (6-18 digits) and LOINC codes (NNNN-N / NNNNN-N) written as string literals. */
const CODE_LITERAL = /['"`](\d{6,18}|\d{4,5}-\d)['"`]/g;

/**
 * Where a code literal is not clinical content: the generated copy of FHIR's patient compartment
 * definition, and the codes the R4 specification itself fixes for a resource mapping.
 */
const SPEC_FILES = new Set(['src/data/patient-compartment-links.ts', 'src/engine/activity/r4-terminology.ts']);

describe('source rules', () => {
  it('no clinical code literal under src/ (protocol facts come from the artifacts)', () => {
    const found = files.filter((f) => !SPEC_FILES.has(f.name)).flatMap((f) => [...f.text.matchAll(CODE_LITERAL)].map((m) => `${f.name}: ${m[0]}`));
    expect(found).toEqual([]);
  });

  it('the engine and the FHIRPath layer keep no module-level memo table (they live in the compiled knowledge)', () => {
    const MEMO = /^(?:const|let) \w+(?::[^=]+)? = new (?:WeakMap|BoundedCache)\b/m;
    const offenders = files.filter((f) => (f.name.startsWith('src/engine/') || f.name.startsWith('src/fhirpath/')) && MEMO.test(f.text)).map((f) => f.name);
    // These two memoise lookups in the R4 specification's model (element infos, parsed dynamicValue
    // paths): the model is immutable and the same for every knowledge, and the tables are bounded.
    expect(offenders).toEqual(['src/engine/dynamic-value/element-model.ts', 'src/engine/dynamic-value/resolve-path.ts']);
  });
});
