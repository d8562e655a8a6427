/**
 * The snapshot of a constraint StructureDefinition: the base snapshot with the differential
 * applied. A differential may only narrow the base (cardinality inside the base range, types and
 * target profiles a subset of the base ones); anything else is rejected rather than silently written.
 *
 * Used twice, so that both give the same elements: profiles/_authoring/build-profile.ts writes the
 * snapshot into profiles/ in the checkout, and readArtifacts fills it in when a profile comes
 * without one (the npm package ships profiles without snapshots, scripts/pack.ts, to stay small).
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest } from '../errors/operation-outcome.ts';
import { r4BaseDefinition } from './r4-definitions.ts';

export type TypeResolver = (type: string) => StructureDefinition;

const cardinality = (max: string | undefined): number => (max === undefined || max === '*' ? Number.POSITIVE_INFINITY : Number(max));

function fail(profileId: string, elementId: string, message: string): never {
  throw badRequest(`Profile ${profileId}, element ${elementId}: ${message}`);
}

/** Inserts a copy of the sliced element's subtree for a new slice, after the last existing slice. */
function addSlice(snapshot: ElementDefinition[], profileId: string, sliceId: string, sliceName: string): void {
  const slicedId = sliceId.slice(0, sliceId.lastIndexOf(':'));
  const start = snapshot.findIndex((e) => e.id === slicedId);
  if (start < 0) fail(profileId, sliceId, `no element ${slicedId} to slice`);
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
function unfold(snapshot: ElementDefinition[], profileId: string, id: string, resolveType: TypeResolver): boolean {
  const parentId = id.slice(0, id.lastIndexOf('.'));
  const at = snapshot.findIndex((e) => e.id === parentId);
  const parent = snapshot[at];
  if (!parent || parent.type?.length !== 1 || snapshot.some((e) => e.id?.startsWith(`${parentId}.`))) return false;
  const typeDef = resolveType(parent.type[0]?.code ?? '');
  const [typeRoot, ...children] = typeDef.snapshot?.element ?? [];
  if (!typeRoot?.path) fail(profileId, id, `type ${typeDef.type} has no snapshot`);
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

/** Applies one differential element to its snapshot element, refusing anything that widens the base. */
function narrow(target: ElementDefinition, diff: ElementDefinition, profileId: string): void {
  const id = diff.id ?? '';
  const { id: _id, path, constraint, type, min, max, ...rest } = diff;
  if (path !== target.path) fail(profileId, id, `path ${path} does not match snapshot path ${target.path}`);
  if (min !== undefined) {
    if (min < (target.min ?? 0)) fail(profileId, id, `min ${min} is below the base min ${target.min}`);
    target.min = min;
  }
  if (max !== undefined) {
    if (cardinality(max) > cardinality(target.max)) fail(profileId, id, `max ${max} exceeds the base max ${target.max}`);
    if (cardinality(max) < (target.min ?? 0)) fail(profileId, id, `max ${max} is below min ${target.min}`);
    target.max = max;
  }
  if (type) {
    for (const t of type) {
      const baseType = target.type?.find((b) => b.code === t.code);
      if (!baseType) fail(profileId, id, `type ${t.code} is not allowed by the base`);
      const allowed = baseType.targetProfile;
      // Reference(Resource) admits any resource type, so it can narrow to any of them.
      const anyResource = !allowed || allowed.includes('http://hl7.org/fhir/StructureDefinition/Resource');
      for (const tp of t.targetProfile ?? []) {
        if (!anyResource && !allowed.includes(tp)) fail(profileId, id, `target profile ${tp} is not allowed by the base`);
      }
    }
    target.type = structuredClone(type);
  }
  if (constraint) target.constraint = [...(target.constraint ?? []), ...structuredClone(constraint)];
  Object.assign(target, structuredClone(rest));
}

/** The snapshot elements: `base`'s snapshot with `differential` applied, in order. */
export function snapshotElements(profileId: string, base: StructureDefinition, differential: ElementDefinition[], resolveType?: TypeResolver): ElementDefinition[] {
  const snapshot = structuredClone(base.snapshot?.element ?? []);
  for (const diff of differential) {
    const id = diff.id ?? '';
    if (diff.sliceName && !snapshot.some((e) => e.id === id)) addSlice(snapshot, profileId, id, diff.sliceName);
    let target = snapshot.find((e) => e.id === id);
    if (!target && resolveType && unfold(snapshot, profileId, id, resolveType)) target = snapshot.find((e) => e.id === id);
    if (!target) fail(profileId, id, 'no such element in the base snapshot');
    narrow(target, diff, profileId);
  }
  return snapshot;
}

/**
 * `sd` with its snapshot generated from its differential and its R4 base definition, when it is a
 * constraint on an R4 type that comes without one; any other resource is returned as it is. The
 * snapshot takes its place before `differential`, as profiles/ writes it.
 */
export function withGeneratedSnapshot<T extends { resourceType: string }>(resource: T): T {
  const sd = resource as unknown as StructureDefinition;
  if (resource.resourceType !== 'StructureDefinition' || sd.snapshot || sd.derivation !== 'constraint' || !sd.differential?.element.length || !sd.type) return resource;
  const base = r4BaseDefinition(sd.type);
  if (sd.baseDefinition !== base.url) return resource;
  const snapshot = { element: snapshotElements(sd.id ?? sd.url, base, sd.differential.element, r4BaseDefinition) };
  const filled: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sd)) {
    if (key === 'differential') filled.snapshot = snapshot;
    filled[key] = value;
  }
  return filled as unknown as T;
}
