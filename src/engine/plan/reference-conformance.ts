/**
 * Every Reference the engine emits points at a resource type its R4 element allows
 * (ServiceRequest.reasonReference: Condition | Observation | DiagnosticReport | DocumentReference;
 * a server such as HAPI answers 422 otherwise). The allowed types come from the R4 definitions'
 * targetProfile through a table generated once (reference-targets.ts), so the walk is one property
 * look-up per element and only enters elements that can lead to a restricted Reference.
 *
 * A reference's type is read from its literal (`Condition/1`, `http://x/fhir/Condition/1`,
 * `Condition/1/_history/2`), from `#id` (the resources of the same apply, or the resource's own
 * contained ones) and from `Reference.type`. A reference whose type cannot be known (`urn:uuid:`,
 * identifier only) is not judged: the check never refuses what it cannot decide.
 */
import type { Resource } from '@medplum/fhirtypes';
import { REFERENCE_TARGETS } from './reference-targets.ts';

/** A Reference whose target type R4 does not allow where it stands. */
export interface ReferenceViolation {
  /** FHIRPath-like location, e.g. `ServiceRequest.reasonReference[1]`. */
  expression: string;
  reference: string;
  targetType: string;
  allowed: readonly string[];
  /** Removes the reference from the resource (the list item, or the element when single). */
  leaveOut: () => void;
}

const RESOURCE_STEP = 'Resource';
/** `Type/id`, optionally versioned, at the end of a relative or absolute literal reference. */
const LITERAL = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const TYPE_URL_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * The generated table as lists, built once when the module loads (R4 data, the same for every
 * knowledge): the walk looks up the few elements that can lead to a restricted Reference on each
 * object instead of enumerating the object's own keys.
 */
const STEPS: ReadonlyMap<string, readonly (readonly [string, string | readonly string[]])[]> = new Map(
  Object.entries(REFERENCE_TARGETS).map(([owner, steps]) => [owner, Object.entries(steps)]),
);

interface Walk {
  /** Resource type by local id (`#id`): the apply's resources, then each root's contained ones. */
  localTypes: ReadonlyMap<string, string>;
  contained: Map<string, string> | undefined;
  /** The path to the value being walked (`ServiceRequest`, `reasonReference`, 1), joined only for a violation. */
  at: (string | number)[];
  found: ReferenceViolation[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function expressionOf(at: readonly (string | number)[]): string {
  const [root, ...rest] = at;
  return `${String(root)}${rest.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')}`;
}

function targetTypeOf(reference: Record<string, unknown>, walk: Walk): { type: string; text: string } | undefined {
  const literal = reference['reference'];
  const declared = typeof reference['type'] === 'string' ? reference['type'] : undefined;
  const declaredType = declared?.startsWith(TYPE_URL_PREFIX) ? declared.slice(TYPE_URL_PREFIX.length) : declared;
  if (typeof literal === 'string') {
    if (literal.startsWith('#')) {
      const id = literal.slice(1);
      const type = walk.contained?.get(id) ?? walk.localTypes.get(id);
      if (type) return { type, text: literal };
    } else {
      const type = LITERAL.exec(literal)?.[1];
      if (type) return { type, text: literal };
    }
  }
  return declaredType && /^[A-Z][A-Za-z]+$/.test(declaredType) ? { type: declaredType, text: typeof literal === 'string' ? literal : `(type ${declaredType})` } : undefined;
}

/** Checks one Reference (`object[key]`, or its item `index`); a violation learns how to leave itself out. */
function checkReference(object: Record<string, unknown>, key: string, index: number | undefined, allowed: readonly string[], walk: Walk): void {
  const value = index === undefined ? object[key] : (object[key] as unknown[])[index];
  if (!isObject(value)) return; // a malformed element is the shape check's to report
  const target = targetTypeOf(value, walk);
  if (!target || allowed.includes(target.type)) return;
  const leaveOut =
    index === undefined
      ? () => Reflect.deleteProperty(object, key)
      : () => {
          const list = object[key] as unknown[];
          const at = list.indexOf(value);
          if (at >= 0) list.splice(at, 1);
          if (list.length === 0) Reflect.deleteProperty(object, key);
        };
  walk.found.push({ expression: expressionOf(walk.at), reference: target.text, targetType: target.type, allowed, leaveOut });
}

function walkObject(object: Record<string, unknown>, owner: string, walk: Walk): void {
  const steps = STEPS.get(owner);
  if (!steps) return;
  for (const [key, step] of steps) {
    const value = object[key];
    if (value === undefined) continue;
    walk.at.push(key);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        walk.at.push(i);
        if (typeof step === 'string') walkValue(value[i], step, walk);
        else checkReference(object, key, i, step, walk);
        walk.at.pop();
      }
    } else if (typeof step === 'string') {
      walkValue(value, step, walk);
    } else {
      checkReference(object, key, undefined, step, walk);
    }
    walk.at.pop();
  }
}

function walkValue(value: unknown, step: string, walk: Walk): void {
  if (!isObject(value)) return;
  if (step === RESOURCE_STEP) walkResource(value, walk);
  else walkObject(value, step, walk);
}

function walkResource(resource: Record<string, unknown>, walk: Walk): void {
  const type = resource['resourceType'];
  if (typeof type !== 'string') return;
  const outer = walk.contained;
  const outerAt = walk.at;
  const contained = resource['contained'];
  if (Array.isArray(contained)) {
    walk.contained = new Map();
    for (const c of contained) if (isObject(c) && typeof c['id'] === 'string' && typeof c['resourceType'] === 'string') walk.contained.set(c['id'], c['resourceType']);
  }
  // A nested resource's locations start at its own type (as the shape check names them).
  walk.at = [type];
  walkObject(resource, type, walk);
  walk.at = outerAt;
  walk.contained = outer;
}

/**
 * The references in `resources` whose target type R4 does not allow where they stand, in order,
 * each with the index of its resource. `#id` references resolve against these resources.
 */
export function findReferenceViolations(resources: readonly Resource[]): { index: number; violation: ReferenceViolation }[] {
  const localTypes = new Map<string, string>();
  for (const r of resources) if (r.id) localTypes.set(r.id, r.resourceType);
  const walk: Walk = { localTypes, contained: undefined, at: [], found: [] };
  const all: { index: number; violation: ReferenceViolation }[] = [];
  resources.forEach((resource, index) => {
    walkResource(resource as unknown as Record<string, unknown>, walk);
    for (const violation of walk.found) all.push({ index, violation });
    walk.found.length = 0;
  });
  return all;
}
