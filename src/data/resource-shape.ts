/**
 * The shape of a patient's resources, checked against the R4 base definitions before the engine
 * reads them: `coding: [null]`, a string where an object belongs, an object where a list belongs,
 * a string integer or a date on a day that does not exist are refused here with the element named,
 * instead of surfacing as a TypeError (or a silently unmatched date) inside the engine.
 *
 * Why not @medplum/core's validateResource: it also evaluates every invariant (ele-1 on each
 * element), ~0.1 ms per resource, which would double the batch's time per patient; this walk reads
 * the same indexed definitions (types, cardinality) and checks the structure only. Invariants and
 * profiles stay with `validate` (src/validation).
 */
import type { InternalTypeSchema } from '@medplum/core';
import { tryGetDataType } from '@medplum/core';
import { ensureR4BaseLoaded } from '../validation/r4-definitions.ts';
import { isCalendarValue } from './calendar.ts';

export interface ShapeProblem {
  /** Which resource of the list checked. */
  index: number;
  /** FHIRPath-like location, e.g. `Observation.code.coding[0]`. */
  expression: string;
  message: string;
}

/** Deeper than this is refused rather than walked (a recursion bomb, not a record). */
const MAX_DEPTH = 64;

const STRING_TYPES: ReadonlySet<string> = new Set([
  'string',
  'code',
  'id',
  'uri',
  'url',
  'canonical',
  'oid',
  'uuid',
  'markdown',
  'base64Binary',
  'xhtml',
  'time',
  'http://hl7.org/fhirpath/System.String',
]);
const INTEGER_RANGES: Readonly<Record<string, number>> = { integer: -(2 ** 31), unsignedInt: 0, positiveInt: 1 };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}` : typeof value;
}

interface Walk {
  problems: Omit<ShapeProblem, 'index'>[];
  /** Also report elements the definitions require (min >= 1) that are absent (for what we emit). */
  required: boolean;
  elements: Map<InternalTypeSchema, Map<string, ElementShape | undefined>>;
  schemas: Map<string, InternalTypeSchema | undefined>;
}

function schemaOf(type: string, walk: Walk): InternalTypeSchema | undefined {
  if (walk.schemas.has(type)) return walk.schemas.get(type);
  const schema = tryGetDataType(type);
  walk.schemas.set(type, schema);
  return schema;
}

function checkPrimitive(type: string, value: unknown, path: string, walk: Walk): void {
  const fail = (expected: string) => walk.problems.push({ expression: path, message: `expected ${expected} (${type}), got ${describe(value)}` });
  if (type === 'boolean') {
    if (typeof value !== 'boolean') fail('true or false');
  } else if (type in INTEGER_RANGES) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < INTEGER_RANGES[type]! || value > 2 ** 31 - 1) fail('an integer number');
  } else if (type === 'decimal' || type === 'http://hl7.org/fhirpath/System.Decimal' || type === 'http://hl7.org/fhirpath/System.Integer') {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
  } else if (type === 'date' || type === 'dateTime' || type === 'instant') {
    if (typeof value !== 'string' || !isCalendarValue(value, type)) fail(`a ${type} on a real calendar day`);
  } else if (type === 'http://hl7.org/fhirpath/System.Boolean') {
    if (typeof value !== 'boolean') fail('true or false');
  } else if (STRING_TYPES.has(type) || type.startsWith('http://hl7.org/fhirpath/System.')) {
    if (typeof value !== 'string') fail('a string');
  }
}

interface ElementShape {
  isArray: boolean;
  type: string;
}

/** The element `key` names in `schema`, and the type it carries (a choice element by its suffix). */
function findElement(schema: InternalTypeSchema, key: string): ElementShape | undefined {
  const direct = schema.elements[key];
  if (direct) return direct.type.length === 1 ? { isArray: direct.isArray === true, type: direct.type[0]!.code } : undefined;
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]')) continue;
    const base = name.slice(0, -3);
    if (!key.startsWith(base)) continue;
    const suffix = key.slice(base.length);
    const type = element.type.find((t) => t.code.charAt(0).toUpperCase() + t.code.slice(1) === suffix);
    if (type) return { isArray: element.isArray === true, type: type.code };
  }
  return undefined;
}

/** Looks elements up once per (type, key) within one walk: a record repeats the same few types. */
function elementFor(schema: InternalTypeSchema, key: string, walk: Walk): ElementShape | undefined {
  let byKey = walk.elements.get(schema);
  if (!byKey) {
    byKey = new Map();
    walk.elements.set(schema, byKey);
  }
  if (byKey.has(key)) return byKey.get(key);
  const found = findElement(schema, key);
  byKey.set(key, found);
  return found;
}

function checkValue(type: string, value: unknown, path: string, depth: number, walk: Walk): void {
  if (value === null) {
    walk.problems.push({ expression: path, message: 'null is not a FHIR value (leave the element out)' });
    return;
  }
  if (type === 'Resource') {
    checkResource(value, path, depth + 1, walk);
    return;
  }
  // R4 primitive types are spelt lower-case; the System.* types are the primitives' inner values.
  const schema = /^[a-z]/.test(type) || type.startsWith('http://') ? undefined : schemaOf(type, walk);
  if (!schema) {
    checkPrimitive(type, value, path, walk);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    walk.problems.push({ expression: path, message: `expected an object (${type}), got ${describe(value)}` });
    return;
  }
  checkObject(schema, value as Record<string, unknown>, path, depth + 1, walk);
}

function checkRequired(schema: InternalTypeSchema, object: Record<string, unknown>, path: string, walk: Walk): void {
  for (const [name, element] of Object.entries(schema.elements)) {
    if (element.min < 1) continue;
    const present = name.endsWith('[x]') ? Object.keys(object).some((k) => k.startsWith(name.slice(0, -3))) : object[name] !== undefined;
    if (!present) walk.problems.push({ expression: `${path}.${name}`, message: `${name} is required (min ${element.min})` });
  }
}

function checkObject(schema: InternalTypeSchema, object: Record<string, unknown>, path: string, depth: number, walk: Walk): void {
  if (depth > MAX_DEPTH) {
    walk.problems.push({ expression: path, message: `nested more than ${MAX_DEPTH} levels deep` });
    return;
  }
  if (walk.required) checkRequired(schema, object, path, walk);
  for (const [key, value] of Object.entries(object)) {
    if (key === 'resourceType' || key === 'fhir_comments') continue;
    const at = `${path}.${key}`;
    // `_element` carries a primitive's id and extensions; its shape is an Element (or a list of them).
    if (key.startsWith('_')) {
      const items: unknown[] = Array.isArray(value) ? value : [value];
      items.forEach((item, i) => {
        if (item !== null) checkValue('Element', item, Array.isArray(value) ? `${at}[${i}]` : at, depth, walk);
      });
      continue;
    }
    const found = elementFor(schema, key, walk);
    if (!found) {
      walk.problems.push({ expression: at, message: `'${key}' is not an element of ${schema.name}` });
      continue;
    }
    if (found.isArray) {
      if (!Array.isArray(value)) {
        walk.problems.push({ expression: at, message: `expected a list, got ${describe(value)}` });
        continue;
      }
      value.forEach((item: unknown, i) => {
        checkValue(found.type, item, `${at}[${i}]`, depth, walk);
      });
    } else if (Array.isArray(value)) {
      walk.problems.push({ expression: at, message: 'expected one value, got a list' });
    } else {
      checkValue(found.type, value, at, depth, walk);
    }
  }
}

function checkResource(value: unknown, path: string, depth: number, walk: Walk): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    walk.problems.push({ expression: path, message: `expected a resource, got ${describe(value)}` });
    return;
  }
  const type = (value as { resourceType?: unknown }).resourceType;
  const schema = typeof type === 'string' ? schemaOf(type, walk) : undefined;
  if (!schema || schema.kind !== 'resource') {
    walk.problems.push({ expression: `${path}.resourceType`, message: `${describe(type)} is not an R4 resource type` });
    return;
  }
  checkObject(schema, value as Record<string, unknown>, path, depth, walk);
}

/**
 * Every structural problem of each resource (empty when all are R4 in shape), in order. One call
 * per record: the element look-ups are shared by its resources.
 */
export function recordShapeProblems(resources: readonly unknown[], options: { required?: boolean } = {}): ShapeProblem[] {
  ensureR4BaseLoaded();
  const walk: Walk = { problems: [], required: options.required === true, elements: new Map(), schemas: new Map() };
  const found: ShapeProblem[] = [];
  resources.forEach((resource, index) => {
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    checkResource(resource, typeof type === 'string' && /^[A-Za-z]+$/.test(type) ? type : 'Resource', 0, walk);
    for (const p of walk.problems) found.push({ index, ...p });
    walk.problems.length = 0;
  });
  return found;
}
