/**
 * Builds a constraint StructureDefinition (differential + full snapshot) from a ProfileSpec and the
 * R4 base definition of its type. The snapshot is the base snapshot with the differential applied;
 * a differential may only narrow the base (cardinality inside the base range, types and target
 * profiles a subset of the base ones), anything else is rejected rather than silently written.
 */
import type { ElementDefinition, ElementDefinitionConstraint, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest } from '../../src/errors/operation-outcome.ts';
import { PROFILE_APPLIES_WHEN_EXTENSION } from '../../src/validation/profile-selector.ts';
import type { Invariant, ProfileSpec } from './profile-specs.ts';
import { PROFILE_VERSION, PUBLISHER, profileUrl } from './profile-specs.ts';

const FHIR_VERSION = '4.0.1';

const cardinality = (max: string | undefined): number => (max === undefined || max === '*' ? Number.POSITIVE_INFINITY : Number(max));

function toConstraint(inv: Invariant, source: string): ElementDefinitionConstraint {
  return { key: inv.key, severity: inv.severity ?? 'error', human: inv.human, expression: inv.expression, source };
}

function fail(spec: ProfileSpec, elementId: string, message: string): never {
  throw badRequest(`Profile ${spec.id}, element ${elementId}: ${message}`);
}

/** Inserts a copy of the sliced element's subtree for a new slice, after the last existing slice. */
function addSlice(snapshot: ElementDefinition[], spec: ProfileSpec, sliceId: string, sliceName: string): void {
  const slicedId = sliceId.slice(0, sliceId.lastIndexOf(':'));
  const start = snapshot.findIndex((e) => e.id === slicedId);
  if (start < 0) fail(spec, sliceId, `no element ${slicedId} to slice`);
  const inSubtree = (id: string | undefined): boolean => !!id && (id === slicedId || id.startsWith(`${slicedId}.`) || id.startsWith(`${slicedId}:`));
  let end = start;
  while (end + 1 < snapshot.length && inSubtree(snapshot[end + 1]?.id)) end++;
  const template = snapshot.slice(start, end + 1).filter((e) => e.id === slicedId || e.id?.startsWith(`${slicedId}.`));
  const copies = template.map((e) => {
    const copy = structuredClone(e);
    copy.id = sliceId + (e.id ?? '').slice(slicedId.length);
    delete copy.slicing;
    return copy;
  });
  const root = copies[0];
  if (root) {
    root.sliceName = sliceName;
    // A slice starts from the base cardinality, not from the (possibly narrowed) sliced element's.
    root.min = root.base?.min ?? 0;
  }
  snapshot.splice(end + 1, 0, ...copies);
}

/**
 * Lists the children of a complex-typed element (e.g. the url and value of a sub-extension) in the
 * snapshot, from the definition of its type, so the differential can constrain them.
 */
function unfold(snapshot: ElementDefinition[], spec: ProfileSpec, id: string, resolveType: TypeResolver): boolean {
  const parentId = id.slice(0, id.lastIndexOf('.'));
  const at = snapshot.findIndex((e) => e.id === parentId);
  const parent = snapshot[at];
  if (!parent || parent.type?.length !== 1 || snapshot.some((e) => e.id?.startsWith(`${parentId}.`))) return false;
  const typeDef = resolveType(parent.type[0]?.code ?? '');
  const [typeRoot, ...children] = typeDef.snapshot?.element ?? [];
  if (!typeRoot?.path) fail(spec, id, `type ${typeDef.type} has no snapshot`);
  const rootPath = typeRoot.path;
  const copies = children.map((e) => {
    const copy = structuredClone(e);
    copy.id = parentId + (e.id ?? '').slice(rootPath.length);
    copy.path = parent.path + e.path.slice(rootPath.length);
    return copy;
  });
  snapshot.splice(at + 1, 0, ...copies);
  return true;
}

export type TypeResolver = (type: string) => StructureDefinition;

/** Applies one differential element to its snapshot element, refusing anything that widens the base. */
function narrow(target: ElementDefinition, diff: ElementDefinition, spec: ProfileSpec): void {
  const id = diff.id ?? '';
  const { id: _id, path, constraint, type, min, max, ...rest } = diff;
  if (path !== target.path) fail(spec, id, `path ${path} does not match snapshot path ${target.path}`);
  if (min !== undefined) {
    if (min < (target.min ?? 0)) fail(spec, id, `min ${min} is below the base min ${target.min}`);
    target.min = min;
  }
  if (max !== undefined) {
    if (cardinality(max) > cardinality(target.max)) fail(spec, id, `max ${max} exceeds the base max ${target.max}`);
    if (cardinality(max) < (target.min ?? 0)) fail(spec, id, `max ${max} is below min ${target.min}`);
    target.max = max;
  }
  if (type) {
    for (const t of type) {
      const baseType = target.type?.find((b) => b.code === t.code);
      if (!baseType) fail(spec, id, `type ${t.code} is not allowed by the base`);
      const allowed = baseType.targetProfile;
      // Reference(Resource) admits any resource type, so it can narrow to any of them.
      const anyResource = !allowed || allowed.includes('http://hl7.org/fhir/StructureDefinition/Resource');
      for (const tp of t.targetProfile ?? []) {
        if (!anyResource && !allowed.includes(tp)) fail(spec, id, `target profile ${tp} is not allowed by the base`);
      }
    }
    target.type = structuredClone(type);
  }
  if (constraint) target.constraint = [...(target.constraint ?? []), ...structuredClone(constraint)];
  Object.assign(target, structuredClone(rest));
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
  const snapshot = structuredClone(base.snapshot.element);
  for (const diff of differential) {
    const id = diff.id ?? '';
    if (diff.sliceName && !snapshot.some((e) => e.id === id)) addSlice(snapshot, spec, id, diff.sliceName);
    let target = snapshot.find((e) => e.id === id);
    if (!target && resolveType && unfold(snapshot, spec, id, resolveType)) target = snapshot.find((e) => e.id === id);
    if (!target) fail(spec, id, 'no such element in the base snapshot');
    narrow(target, diff, spec);
  }
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
