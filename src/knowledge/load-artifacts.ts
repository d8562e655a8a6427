/**
 * Reads the module's knowledge artifacts from disk: every JSON resource under `plandefinitions/`
 * and `profiles/` (or the folders given). I/O lives here, at the edge; the CompiledKnowledge is pure.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../errors/operation-outcome.ts';
import { withGeneratedSnapshot } from '../validation/snapshot.ts';
import { compileKnowledge, type CompiledKnowledge, type KnowledgeOptions } from './compiled-knowledge.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
let version: string | undefined;
/** The version in the module's own package.json: one source for the CLI, the server, the web page and the FHIR package. */
export function projectVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
export const DEFAULT_ARTIFACT_DIRS = [join(PROJECT_ROOT, 'profiles'), join(PROJECT_ROOT, 'plandefinitions')];

export interface LoadedArtifact {
  file: string;
  resource: Resource;
}

function jsonFiles(path: string): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return [];
  if (stat.isFile()) return path.endsWith('.json') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => jsonFiles(join(path, name)));
}

/** Every resource in the JSON files under `paths` (a Bundle contributes its entries). */
export function readArtifacts(paths: string[] = DEFAULT_ARTIFACT_DIRS): LoadedArtifact[] {
  const found: LoadedArtifact[] = [];
  for (const file of paths.flatMap(jsonFiles)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw badRequest(`${relative(PROJECT_ROOT, file)}: malformed JSON (${(err as Error).message})`);
    }
    // A file's JSON is untrusted in shape until checked: null, a scalar or an object without resourceType is skipped.
    const resource = parsed as (Resource & { entry?: { resource?: Resource }[] }) | null;
    if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') continue;
    // A profile shipped without its snapshot (the npm package, scripts/pack.ts) gets it generated here.
    if (resource.resourceType === 'Bundle') {
      for (const entry of resource.entry ?? []) if (entry.resource) found.push({ file, resource: withGeneratedSnapshot(entry.resource) });
    } else {
      found.push({ file, resource: withGeneratedSnapshot(resource) });
    }
  }
  return found;
}

export function loadKnowledge(paths: string[] = DEFAULT_ARTIFACT_DIRS, options: KnowledgeOptions = {}): CompiledKnowledge {
  return compileKnowledge(
    readArtifacts(paths).map((a) => a.resource),
    options,
  );
}
