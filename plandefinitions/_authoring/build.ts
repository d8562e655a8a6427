/**
 * Writes the protocol artifacts as JSON: `npm run build:protocols`.
 * The same function feeds the sync test, so the committed JSON is exactly what these modules say.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { activityDefinitions } from './activities.ts';
import { hysterosalpingographyPlan } from './hysterosalpingography.ts';
import { hysteroscopyPlan } from './infertility-hysteroscopy.ts';
import { pathwayPlan } from './pathway.ts';
import { codeSystems, valueSets } from './terminology.ts';
import { tubalReanastomosisPlan } from './tubal-reanastomosis.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BuiltFile {
  /** Path relative to the project root. */
  path: string;
  resource: Resource;
}

export const PLANS = [tubalReanastomosisPlan, hysterosalpingographyPlan, hysteroscopyPlan, pathwayPlan];

export function buildArtifacts(): BuiltFile[] {
  const files: BuiltFile[] = [];
  for (const cs of codeSystems) files.push({ path: `profiles/CodeSystem-${cs.id}.json`, resource: cs });
  for (const vs of valueSets) files.push({ path: `profiles/ValueSet-${vs.id}.json`, resource: vs });
  for (const plan of PLANS) files.push({ path: `plandefinitions/${plan.id}/PlanDefinition-${plan.id}.json`, resource: plan });
  for (const { folder, resource } of activityDefinitions) {
    files.push({ path: `plandefinitions/${folder}/ActivityDefinition-${resource.id}.json`, resource });
  }
  return files;
}

export const serialize = (resource: Resource): string => `${JSON.stringify(resource, null, 2)}\n`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of buildArtifacts()) {
    const path = join(ROOT, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, serialize(file.resource));
  }
  process.stdout.write(`wrote ${buildArtifacts().length} artifacts\n`);
}
