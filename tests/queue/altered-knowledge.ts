/**
 * Knowledge that differs from the real one in one ValueSet code only - same canonicals, same
 * versions - the change a worker's plan-version check cannot see and its knowledge digest must.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource, ValueSet } from '@medplum/fhirtypes';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';

/** The artifacts under `paths`, the first enumerated ValueSet with one code more. */
export function artifactsWithOneMoreCode(paths: string[]): Resource[] {
  let altered = false;
  return readArtifacts(paths).map(({ resource }) => {
    const include = resource.resourceType === 'ValueSet' ? resource.compose?.include.find((i) => i.concept?.length) : undefined;
    if (altered || !include) return resource;
    altered = true;
    const copy = structuredClone(resource) as ValueSet;
    copy.compose!.include.find((i) => i.concept?.length)!.concept!.push({ code: 'digest-test-extra-code', display: 'added by the test' });
    return copy;
  });
}

/** The same, written as a folder of JSON files (for `worker --knowledge <folder>`). */
export function folderWithOneMoreCode(paths: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'ip-altered-knowledge-'));
  artifactsWithOneMoreCode(paths).forEach((resource, i) => {
    writeFileSync(join(dir, `${String(i).padStart(4, '0')}-${resource.resourceType}.json`), JSON.stringify(resource));
  });
  return dir;
}
