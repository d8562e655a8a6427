/**
 * Builds a constraint StructureDefinition (differential + full snapshot) from a ProfileSpec and the
 * R4 base definition of its type. The snapshot is the base snapshot with the differential applied
 * (src/validation/snapshot.ts, which also fills it in at load when the npm package ships none).
 */
import type { ElementDefinition, ElementDefinitionConstraint, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest } from '../../src/errors/operation-outcome.ts';
import { PROFILE_APPLIES_WHEN_EXTENSION } from '../../src/validation/profile-selector.ts';
import { snapshotElements, type TypeResolver } from '../../src/validation/snapshot.ts';
import type { Invariant, ProfileSpec } from './profile-specs.ts';
import { PROFILE_VERSION, PUBLISHER, profileUrl } from './profile-specs.ts';

const FHIR_VERSION = '4.0.1';

function toConstraint(inv: Invariant, source: string): ElementDefinitionConstraint {
  return { key: inv.key, severity: inv.severity ?? 'error', human: inv.human, expression: inv.expression, source };
}

function narrative(spec: ProfileSpec): { status: 'generated'; div: string } {
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    status: 'generated',
    div: `<div xmlns="http://www.w3.org/1999/xhtml"><p><b>${escape(spec.title)}</b></p><p>${escape(spec.description)}</p></div>`,
  };
}

/** The differential as written into the StructureDefinition: root invariants first, then the elements. */
export function differentialOf(spec: ProfileSpec): ElementDefinition[] {
  const url = profileUrl(spec);
  const root: ElementDefinition = { id: spec.type, path: spec.type };
  if (spec.invariants.length > 0) root.constraint = spec.invariants.map((inv) => toConstraint(inv, url));
  return [root, ...spec.elements.map((e) => structuredClone(e))];
}

export function buildProfile(spec: ProfileSpec, base: StructureDefinition, resolveType?: TypeResolver): StructureDefinition {
  if (base.type !== spec.type || !base.snapshot?.element.length) {
    throw badRequest(`Profile ${spec.id}: base ${base.url} is not a ${spec.type} definition with a snapshot`);
  }
  const differential = differentialOf(spec);
  const snapshot = snapshotElements(spec.id, base, differential, resolveType);
  const sd: StructureDefinition = {
    resourceType: 'StructureDefinition',
    id: spec.id,
    text: narrative(spec),
    // The validator picks the profile for resources that do not declare it by this selector.
    ...(spec.appliesWhen ? { extension: [{ url: PROFILE_APPLIES_WHEN_EXTENSION, valueString: spec.appliesWhen }] } : {}),
    url: profileUrl(spec),
    version: PROFILE_VERSION,
    name: spec.name,
    title: spec.title,
    status: 'draft',
    experimental: true,
    publisher: PUBLISHER,
    description: spec.description,
    purpose: `Input or output read by clinical rules ${spec.ruleIds.join(', ')} (see clinical-rules.md).`,
    fhirVersion: FHIR_VERSION,
    ...(base.mapping ? { mapping: structuredClone(base.mapping) } : {}),
    kind: spec.type === 'Extension' ? 'complex-type' : 'resource',
    abstract: false,
    ...(spec.context ? { context: structuredClone(spec.context) } : {}),
    type: spec.type,
    baseDefinition: base.url,
    derivation: 'constraint',
    snapshot: { element: snapshot },
    differential: { element: differential },
  };
  return sd;
}

/** The file content for a profile: 2-space JSON with a final newline, byte-stable for equal input. */
export function serializeProfile(sd: StructureDefinition): string {
  return `${JSON.stringify(sd, null, 2)}\n`;
}
