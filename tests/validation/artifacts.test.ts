/**
 * Every example and every patient bundle of the protocol tests must be valid R4 and conform to the
 * module profiles that apply to its resources (declared in meta.profile or matched by code).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { validateResources } from '../../src/validation/validate.ts';

function jsonFilesUnder(dir: string): string[] {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? jsonFilesUnder(path) : path.endsWith('.json') ? [path] : [];
    });
}

/** Protocol test folders also hold expected outputs; the patient records there are the Bundles. */
function isBundleFile(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { resourceType?: unknown }).resourceType === 'Bundle';
  } catch {
    return true; // let readArtifacts report the malformed file
  }
}

const files = [...jsonFilesUnder(join(PROJECT_ROOT, 'examples')), ...jsonFilesUnder(join(PROJECT_ROOT, 'tests', 'protocols')).filter(isBundleFile)].map((file) => ({
  name: relative(PROJECT_ROOT, file),
  file,
}));

describe('examples/ and tests/protocols/** bundles', () => {
  it('are found and parse as JSON (none yet is fine)', () => {
    for (const { file } of files) expect(() => readArtifacts([file])).not.toThrow();
  });

  it.each(files)('$name is valid R4 and conforms to the module profiles', ({ file }) => {
    const resources = readArtifacts([file]).map((a) => a.resource);
    const problems = validateResources(resources).flatMap(({ resource, outcome }) =>
      outcome.issue
        .filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map(
          (i) => `${resource.resourceType}/${resource.id ?? '?'}: ${i.details?.text ?? i.diagnostics} @ ${i.expression?.join(', ')}${i.diagnostics ? ` (${i.diagnostics})` : ''}`,
        ),
    );
    expect(problems).toEqual([]);
  });
});
