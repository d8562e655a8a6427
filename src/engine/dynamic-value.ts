/**
 * dynamicValue: evaluate an expression and write its result into a generated resource at a
 * Simple FHIRPath (http://build.fhir.org/simplefhirpath.html) path.
 *
 * The setter is type-aware: it reads the R4 model shipped with fhirpath.js to know each element's
 * type, whether it repeats and which choice types it allows, so it can create intermediate
 * objects, pick `occurrencePeriod` for `occurrence.ofType(Period)`, append to lists and convert
 * FHIRPath results (resources, Codings, quantity strings, ISO date strings) to the target type.
 * Anything it cannot place correctly is rejected with a DynamicValuePathError rather than written
 * in a shape a FHIR server would refuse.
 */
import type { Expression, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { R4_MODEL } from '../fhirpath/fhirpath-engine.ts';
import { BoundedCache } from '../util/bounded-cache.ts';
import { issue, outcome, OperationOutcomeError } from '../errors/operation-outcome.ts';
import { evaluateExpression, expressionText, type Variables } from './expression.ts';
import type { ExpressionEvaluator } from './types.ts';

export class DynamicValuePathError extends Error {}

// ---------------------------------------------------------------------------------------------
// Path parsing

type Step = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'ofType'; type: string } | { kind: 'extension'; url: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Splits a Simple FHIRPath into steps; anything outside the subset is a DynamicValuePathError. */
export function parseSimplePath(path: string): Step[] {
  const steps: Step[] = [];
  let rest = path;
  const fail = (why: string): never => {
    throw new DynamicValuePathError(`'${path}' is not a Simple FHIRPath path: ${why}`);
  };
  if (rest.length === 0) fail('it is empty');
  let expectName = true;
  while (rest.length > 0) {
    if (expectName) {
      const quoted = /^`([^`]+)`/.exec(rest);
      const match = quoted ?? IDENTIFIER.exec(rest);
      if (!match) fail(`expected an element name at '${rest}'`);
      const name = quoted ? quoted[1]! : match![0];
      rest = rest.slice(match![0].length);
      if (rest.startsWith('(')) {
        if (name !== 'ofType' && name !== 'extension' && name !== 'resolve') {
          fail(`the function ${name}() is not allowed (only ofType(Type) and extension('url'))`);
        }
        const call = /^\(\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_.]*))?\s*\)/.exec(rest);
        if (!call) fail(`cannot read the arguments of ${name}()`);
        rest = rest.slice(call![0].length);
        // extension('url') may open the path: it reads as the element `extension` filtered by url.
        if (steps.length === 0 && name !== 'extension') fail(`it must start with an element name, not the function ${name}()`);
        if (name === 'ofType' && call![3]) steps.push({ kind: 'ofType', type: call![3] });
        else if (name === 'extension' && (call![1] ?? call![2])) steps.push({ kind: 'extension', url: (call![1] ?? call![2])! });
        else if (name === 'resolve') fail('resolve() navigates to another resource and cannot be the target of a value');
        else fail(`the function ${name}() is not allowed (only ofType(Type) and extension('url'))`);
      } else {
        steps.push({ kind: 'name', name });
      }
      expectName = false;
      continue;
    }
    const index = /^\[(\d+)\]/.exec(rest);
    if (index) {
      steps.push({ kind: 'index', index: Number(index[1]) });
      rest = rest.slice(index[0].length);
      continue;
    }
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      expectName = true;
      continue;
    }
    fail(`unexpected '${rest}' (operators, spaces and other functions are not allowed)`);
  }
  if (expectName) fail('it ends with a dot');
  return steps;
}

// ---------------------------------------------------------------------------------------------
// The R4 model

interface ElementInfo {
  /** JSON property name, e.g. `occurrencePeriod`. */
  jsonName: string;
  /** FHIR type name (`Period`, `dateTime`) or, for backbone elements, their path (`Timing.repeat`). */
  type: string;
  repeating: boolean;
  /** For a choice element named without its type: the allowed type suffixes (`DateTime`, `Period`). */
  choiceTypes?: string[];
  /** For a choice element (typed or not): its base name, e.g. `occurrence`. */
  choiceBase?: string;
  /** The owner type path the element was found on (for finding sibling choice variants). */
  owner: string;
}

const model = R4_MODEL;

function parentOf(type: string): string | undefined {
  if (type.includes('.')) return 'BackboneElement';
  return model.type2Parent[type];
}

/** typed choice name path (e.g. `ServiceRequest.occurrencePeriod`) -> its base and types. */
const TYPED_CHOICES = new Map<string, { base: string; types: string[] }>();
for (const [path, types] of Object.entries(model.choiceTypePaths)) {
  const base = path.slice(path.lastIndexOf('.') + 1);
  for (const t of types) TYPED_CHOICES.set(`${path}${t}`, { base, types });
}

const elementInfos = new BoundedCache<string, ElementInfo | null>(20_000);

/** The model's element `owner.name` (searching the owner's ancestors); memoised, the model never changes. */
function lookupElement(owner: string, name: string): ElementInfo | undefined {
  const key = `${owner} ${name}`;
  let info = elementInfos.get(key);
  if (info === undefined) elementInfos.set(key, (info = lookupElementInModel(owner, name) ?? null));
  return info ?? undefined;
}

function lookupElementInModel(owner: string, name: string): ElementInfo | undefined {
  for (let t: string | undefined = owner; t; t = parentOf(t)) {
    const key = `${t}.${name}`;
    const elsewhere = model.pathsDefinedElsewhere[key];
    if (elsewhere) {
      return { jsonName: name, type: elsewhere, repeating: Boolean(model.path2Repeating[key] ?? model.path2Repeating[elsewhere]), owner: t };
    }
    const choiceTypes = model.choiceTypePaths[key];
    if (choiceTypes) {
      return { jsonName: name, type: '', repeating: Boolean(model.path2Repeating[key]), choiceTypes, choiceBase: name, owner: t };
    }
    const type = model.path2Type[key];
    if (type) {
      const typed = TYPED_CHOICES.get(key);
      const info: ElementInfo = {
        jsonName: name,
        type: type === 'BackboneElement' || type === 'Element' ? key : type,
        repeating: Boolean(model.path2Repeating[key]),
        owner: t,
      };
      if (typed) info.choiceBase = typed.base;
      return info;
    }
  }
  return undefined;
}

/** `ofType(FHIR.Period)` / `ofType(dateTime)` -> the matching suffix in `types` (`Period`, `DateTime`). */
function choiceSuffix(typeName: string, types: readonly string[]): string | undefined {
  const bare = typeName.replace(/^(FHIR|System)\./, '').toLowerCase();
  return types.find((t) => t.toLowerCase() === bare);
}

function typedChoice(info: ElementInfo, suffix: string): ElementInfo {
  const typedName = `${info.choiceBase}${suffix}`;
  const resolved = lookupElement(info.owner, typedName);
  if (!resolved) throw new DynamicValuePathError(`the R4 model has no element ${info.owner}.${typedName}`);
  return resolved;
}

function isPrimitiveType(type: string): boolean {
  return type.startsWith('System.') || /^[a-z]/.test(type);
}

// ---------------------------------------------------------------------------------------------
// Resolving a path against the model (no mutation)

interface Segment {
  info: ElementInfo;
  index?: number;
  /** Set for `extension('url')` segments. */
  extensionUrl?: string;
  /** Printable model path up to and including this segment. */
  modelPath: string;
}

const resolvedPaths = new BoundedCache<string, readonly Segment[] | DynamicValuePathError>(20_000);

/**
 * The segments of `path` below `baseType`, or the DynamicValuePathError it raises; memoised because
 * each dynamicValue of each apply resolves its path (twice: check, then write). Segments are never
 * mutated after resolution.
 */
function resolvePath(baseType: string, path: string): readonly Segment[] {
  const key = `${baseType} ${path}`;
  let resolved = resolvedPaths.get(key);
  if (resolved === undefined) {
    try {
      resolved = resolvePathInModel(baseType, path);
    } catch (err) {
      if (!(err instanceof DynamicValuePathError)) throw err;
      resolved = err;
    }
    resolvedPaths.set(key, resolved);
  }
  if (resolved instanceof DynamicValuePathError) throw resolved;
  return resolved;
}

function resolvePathInModel(baseType: string, path: string): Segment[] {
  const steps = parseSimplePath(path);
  const segments: Segment[] = [];
  let owner = baseType;
  let printable = baseType;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    let segment: Segment;
    if (step.kind === 'name') {
      const info = lookupElement(owner, step.name);
      if (!info) throw new DynamicValuePathError(`'${path}': ${owner} has no element '${step.name}' in FHIR R4`);
      segment = { info, modelPath: `${printable}.${step.name}` };
    } else if (step.kind === 'extension') {
      if (isPrimitiveType(owner)) {
        throw new DynamicValuePathError(`'${path}': extensions on primitive values (${printable}) are not supported`);
      }
      const info: ElementInfo = { jsonName: 'extension', type: 'Extension', repeating: true, owner };
      segment = { info, extensionUrl: step.url, modelPath: `${printable}.extension('${step.url}')` };
    } else {
      throw new DynamicValuePathError(`'${path}': ${step.kind === 'index' ? 'an indexer' : 'ofType()'} must follow an element name`);
    }
    // Modifiers that follow the element: ofType() and at most one indexer, in either order.
    while (i + 1 < steps.length && steps[i + 1]!.kind !== 'name' && steps[i + 1]!.kind !== 'extension') {
      const modifier = steps[++i]!;
      if (modifier.kind === 'index') {
        if (segment.index !== undefined) throw new DynamicValuePathError(`'${path}': two indexers in a row`);
        if (!segment.info.repeating && modifier.index !== 0) {
          throw new DynamicValuePathError(`'${path}': ${segment.modelPath} does not repeat, so [${modifier.index}] can never exist`);
        }
        segment.index = modifier.index;
      } else if (modifier.kind === 'ofType') {
        const { info } = segment;
        if (info.choiceTypes) {
          const suffix = choiceSuffix(modifier.type, info.choiceTypes);
          if (!suffix) {
            throw new DynamicValuePathError(`'${path}': ${segment.modelPath} cannot be of type ${modifier.type} (allowed: ${info.choiceTypes.join(', ')})`);
          }
          segment.info = typedChoice(info, suffix);
          segment.modelPath = segment.modelPath.replace(/[^.]+$/, segment.info.jsonName);
        } else if (info.type.replace(/^System\./, '').toLowerCase() !== modifier.type.replace(/^(FHIR|System)\./, '').toLowerCase()) {
          throw new DynamicValuePathError(`'${path}': ${segment.modelPath} is of type ${info.type}, not ${modifier.type}`);
        }
      }
    }
    const last = i === steps.length - 1;
    if (!last && segment.info.choiceTypes) {
      throw new DynamicValuePathError(
        `'${path}': ${segment.modelPath} is a choice element; say which type with ofType() or the typed name (e.g. ${segment.info.jsonName}${segment.info.choiceTypes[0]})`,
      );
    }
    if (!last && isPrimitiveType(segment.info.type)) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath} is a primitive (${segment.info.type}) and has no child elements to set`);
    }
    segments.push(segment);
    owner = segment.info.type;
    printable = segment.modelPath;
  }
  return segments;
}

// ---------------------------------------------------------------------------------------------
// Value conversion

const STRING_TYPES = new Set(['string', 'code', 'uri', 'url', 'canonical', 'markdown', 'id', 'oid', 'uuid', 'base64Binary', 'System.String']);
const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt', 'System.Integer']);
const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Count', 'Distance', 'SimpleQuantity', 'MoneyQuantity']);

const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const DATE_TIME_FULL = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;
const DATE_TIME_PARTIAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const REFERENCE_TEXT = /^(#[A-Za-z0-9\-.]{1,64}|[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?|(https?|urn):\S+)$/;

/** Calendar-duration words fhirpath.js prints for `7 days` etc. -> UCUM. */
const CALENDAR_UCUM: Record<string, string> = {
  year: 'a',
  years: 'a',
  month: 'mo',
  months: 'mo',
  week: 'wk',
  weeks: 'wk',
  day: 'd',
  days: 'd',
  hour: 'h',
  hours: 'h',
  minute: 'min',
  minutes: 'min',
  second: 's',
  seconds: 's',
  millisecond: 'ms',
  milliseconds: 'ms',
};
const QUANTITY_TEXT = /^(-?\d+(?:\.\d+)?)\s*(?:'([^']*)'|([a-z]+))$/;

function quantityFromText(text: string): Record<string, unknown> | undefined {
  const m = QUANTITY_TEXT.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[2] !== undefined) return { value, unit: m[2], system: 'http://unitsofmeasure.org', code: m[2] };
  const code = CALENDAR_UCUM[m[3]!];
  return code ? { value, unit: m[3], system: 'http://unitsofmeasure.org', code } : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isResource(value: unknown): value is Resource {
  return isPlainObject(value) && typeof value['resourceType'] === 'string';
}

const CODING_KEYS = new Set(['system', 'version', 'code', 'display', 'userSelected', 'id', 'extension']);
const REFERENCE_KEYS = new Set(['reference', 'type', 'identifier', 'display', 'id', 'extension']);

function hasOnlyKeys(value: Record<string, unknown>, keys: Set<string>): boolean {
  const own = Object.keys(value);
  return own.length > 0 && own.every((k) => keys.has(k));
}

function isCoding(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && hasOnlyKeys(value, CODING_KEYS) && ('code' in value || 'system' in value);
}

function isCodeableConcept(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && !isResource(value) && ('coding' in value || (Object.keys(value).length === 1 && typeof value['text'] === 'string'));
}

function describe(value: unknown): string {
  if (isResource(value)) return `a ${value.resourceType} resource`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return `${typeof value === 'object' ? 'an object' : `a ${typeof value}`} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Converts one FHIRPath result item to a value of FHIR type `type` (a type name or backbone
 * path), or throws a DynamicValuePathError that names the target, its type and the value.
 */
export function coerceValue(value: unknown, type: string, target: string): unknown {
  const reject = (why?: string): never => {
    throw new DynamicValuePathError(`cannot set ${target} (${type}) to ${describe(value)}${why ? `: ${why}` : ''}`);
  };
  if (value === null || value === undefined) reject();
  if (STRING_TYPES.has(type)) {
    if (typeof value !== 'string') return reject(`expected a string${typeof value === 'number' || typeof value === 'boolean' ? ' (convert it with toString())' : ''}`);
    if (value.length === 0) return reject('FHIR strings cannot be empty');
    if (type === 'id' && !FHIR_ID.test(value)) return reject('not a valid id');
    if (type === 'code' && value.trim() !== value) return reject('a code cannot have leading or trailing whitespace');
    return value;
  }
  if (INTEGER_TYPES.has(type)) {
    if (typeof value !== 'number' || !Number.isInteger(value)) return reject('expected a whole number');
    if (type === 'positiveInt' && value < 1) return reject('must be at least 1');
    if (type === 'unsignedInt' && value < 0) return reject('must not be negative');
    if (Math.abs(value) > 2147483647) return reject('out of the 32-bit integer range');
    return value;
  }
  if (type === 'decimal' || type === 'System.Decimal') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return reject('expected a number');
    return value;
  }
  if (type === 'boolean' || type === 'System.Boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return reject('expected true or false');
  }
  if (type === 'date' || type === 'System.Date') {
    if (typeof value === 'string' && DATE.test(value)) return value;
    return reject('expected a date (YYYY, YYYY-MM or YYYY-MM-DD)');
  }
  if (type === 'dateTime' || type === 'System.DateTime' || type === 'instant') {
    if (typeof value !== 'string') return reject('expected a date-time string');
    if (type !== 'instant' && DATE.test(value)) return value;
    if (DATE_TIME_FULL.test(value)) return value;
    if (DATE_TIME_PARTIAL_TIME.test(value)) return reject(`a ${type} with a time needs seconds and a time zone offset`);
    return reject(`expected ${type === 'instant' ? 'an instant' : 'a date or date-time'}`);
  }
  if (type === 'time' || type === 'System.Time') {
    if (typeof value === 'string' && TIME.test(value.replace(/^T/, ''))) return value.replace(/^T/, '');
    return reject('expected a time hh:mm:ss');
  }
  if (type === 'Reference') {
    if (isResource(value)) {
      if (typeof value.id !== 'string') return reject('the resource has no id to reference');
      return { reference: `${value.resourceType}/${value.id}` };
    }
    if (isPlainObject(value) && hasOnlyKeys(value, REFERENCE_KEYS)) return clone(value);
    if (typeof value === 'string' && REFERENCE_TEXT.test(value)) return { reference: value };
    return reject('expected a resource, a Reference or a reference string like Type/id');
  }
  if (type === 'CodeableConcept') {
    if (isCodeableConcept(value)) return clone(value);
    if (isCoding(value)) return { coding: [clone(value)] };
    return reject('expected a CodeableConcept or a Coding');
  }
  if (type === 'Coding') {
    if (isCoding(value)) return clone(value);
    return reject('expected a Coding');
  }
  if (QUANTITY_TYPES.has(type)) {
    if (typeof value === 'string') return quantityFromText(value) ?? reject(`expected a quantity like 5 'mg' or 7 days`);
    if (typeof value === 'number' && type === 'Count') return { value, system: 'http://unitsofmeasure.org', code: '1' };
    if (isPlainObject(value) && !isResource(value) && typeof value['value'] === 'number') {
      const unit = value['unit'];
      // A FHIRPath Quantity object (not converted to a string) carries its UCUM unit quoted.
      if (typeof unit === 'string' && value['system'] === undefined) {
        const parsed = quantityFromText(`${value['value']} ${unit}`);
        if (parsed) return parsed;
      }
      return clone(value);
    }
    return reject('expected a Quantity');
  }
  if (type === 'Resource') {
    if (isResource(value)) return clone(value);
    return reject('expected a resource');
  }
  if (type === 'Extension') {
    if (isPlainObject(value) && typeof value['url'] === 'string') return clone(value);
    return reject('expected an Extension with a url');
  }
  if (type === 'xhtml') return reject('narrative cannot be set by a dynamicValue');
  // Any other complex type or backbone element: a JSON object of that shape, taken as is.
  if (isPlainObject(value) && !isResource(value)) return clone(value);
  return reject(`expected a ${type} object`);
}

/** For a choice element written without its type (`occurrence`, `extension('u').value`): the
 *  type suffix that fits the JavaScript value. */
function pickChoiceType(value: unknown, types: readonly string[], target: string): string {
  const has = (t: string) => types.includes(t);
  const first = (...candidates: string[]) => candidates.find(has);
  let pick: string | undefined;
  if (typeof value === 'boolean') pick = first('Boolean');
  else if (typeof value === 'number') pick = Number.isInteger(value) ? first('Integer', 'Decimal', 'UnsignedInt', 'PositiveInt') : first('Decimal');
  else if (typeof value === 'string') {
    if (DATE_TIME_PARTIAL_TIME.test(value)) pick = first('DateTime', 'Instant');
    else if (DATE.test(value)) pick = first('Date', 'DateTime');
    else if (TIME.test(value)) pick = first('Time');
    else if (quantityFromText(value)) pick = first('Quantity', 'Duration', 'Age');
    pick ??= first('String', 'Markdown', 'Code', 'Uri', 'Url', 'Canonical', 'Id');
  } else if (isResource(value)) pick = first('Reference');
  else if (isPlainObject(value)) {
    if ('coding' in value) pick = first('CodeableConcept');
    else if (isCoding(value)) pick = first('Coding', 'CodeableConcept');
    else if (typeof value['value'] === 'number') pick = first('Quantity', 'Duration', 'Age', 'Count', 'Distance', 'Money');
    else if ('start' in value || 'end' in value) pick = first('Period');
    else if ('low' in value || 'high' in value) pick = first('Range');
    else if ('numerator' in value || 'denominator' in value) pick = first('Ratio');
    else if ('repeat' in value || 'event' in value) pick = first('Timing');
    else if (hasOnlyKeys(value, REFERENCE_KEYS)) pick = first('Reference');
    else if ('contentType' in value || 'data' in value) pick = first('Attachment');
    else if (typeof value['text'] === 'string' && Object.keys(value).length === 1) pick = first('CodeableConcept', 'Annotation');
    else if ('language' in value && 'expression' in value) pick = first('Expression');
  }
  if (!pick) {
    throw new DynamicValuePathError(
      `cannot tell which type of ${target}[x] ${describe(value)} is (allowed: ${types.join(', ')}); name the type with ofType() or the typed element name`,
    );
  }
  return pick;
}

// ---------------------------------------------------------------------------------------------
// Writing

type Node = Record<string, unknown>;

/** Removes the other typed variants of a choice element (`occurrenceDateTime` when setting `occurrencePeriod`). */
function clearChoiceSiblings(node: Node, info: ElementInfo): void {
  if (!info.choiceBase) return;
  const types = model.choiceTypePaths[`${info.owner}.${info.choiceBase}`] ?? [];
  for (const t of types) {
    const name = `${info.choiceBase}${t}`;
    if (name !== info.jsonName) {
      delete node[name];
      delete node[`_${name}`];
    }
  }
}

function childObject(node: Node, segment: Segment, path: string): Node {
  const { info } = segment;
  clearChoiceSiblings(node, info);
  if (segment.extensionUrl !== undefined) {
    const list = (node['extension'] ??= []) as Node[];
    const matching = list.filter((e) => isPlainObject(e) && e['url'] === segment.extensionUrl);
    const wanted = segment.index ?? 0;
    if (wanted < matching.length) return matching[wanted]!;
    if (wanted > matching.length) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath}[${wanted}] does not exist and indexes must be filled in order`);
    }
    const created: Node = { url: segment.extensionUrl };
    list.push(created);
    return created;
  }
  if (info.repeating) {
    const existing = node[info.jsonName];
    if (existing !== undefined && !Array.isArray(existing)) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath} holds a non-list value where FHIR expects a list`);
    }
    const list = (existing ?? (node[info.jsonName] = [])) as unknown[];
    const wanted = segment.index ?? 0;
    if (wanted < list.length) {
      const item = list[wanted];
      if (!isPlainObject(item)) throw new DynamicValuePathError(`'${path}': ${segment.modelPath}[${wanted}] is not an object`);
      return item;
    }
    if (wanted > list.length) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath}[${wanted}] does not exist (the list has ${list.length}) and indexes must be filled in order`);
    }
    const created: Node = {};
    list.push(created);
    return created;
  }
  const existing = node[info.jsonName];
  if (existing === undefined) {
    const created: Node = {};
    node[info.jsonName] = created;
    return created;
  }
  if (!isPlainObject(existing)) throw new DynamicValuePathError(`'${path}': ${segment.modelPath} already holds a non-object value`);
  return existing;
}

/**
 * Sets `values` (a FHIRPath result collection) at `path` inside `target`, whose FHIR type is
 * `baseType` (a resource type like 'ServiceRequest', or a backbone path like 'RequestGroup.action').
 * An empty collection leaves the target untouched. Values are converted and checked before the
 * target is touched, so a rejected value never leaves half-built intermediate objects behind.
 */
export function setValueAtPath(target: Record<string, unknown>, baseType: string, path: string, values: unknown[]): void {
  const segments = resolvePath(baseType, path);
  if (values.length === 0) return;
  const last = segments[segments.length - 1]!;

  // An `extension('url')` at the end means its value[x].
  let finalInfo = last.info;
  let finalPath = last.modelPath;
  const extensionValue = last.extensionUrl !== undefined;
  if (extensionValue && !(values.length === 1 && isPlainObject(values[0]) && values[0]['url'] === last.extensionUrl)) {
    finalInfo = lookupElement('Extension', 'value')!;
    finalPath = `${last.modelPath}.value`;
  }
  if (finalInfo.choiceTypes) {
    const types = finalInfo.choiceTypes;
    const suffixes = new Set(values.map((v) => pickChoiceType(v, types, finalPath)));
    if (suffixes.size > 1) throw new DynamicValuePathError(`'${path}': the values have different types (${[...suffixes].join(', ')}) for one choice element ${finalPath}[x]`);
    finalInfo = typedChoice(finalInfo, [...suffixes][0]!);
    finalPath = finalPath.replace(/[^.]+$/, finalInfo.jsonName);
  }
  const repeating = finalInfo.repeating && !(extensionValue && finalInfo !== last.info);
  const atIndex = finalInfo === last.info ? last.index : undefined;
  if ((!repeating || atIndex !== undefined) && values.length > 1) {
    throw new DynamicValuePathError(`'${path}': ${finalPath}${atIndex !== undefined ? `[${atIndex}]` : ''} holds one value but the expression returned ${values.length}`);
  }
  const converted = values.map((v) => coerceValue(v, finalInfo.type, finalPath));

  let node: Node = target;
  const walk = extensionValue && finalInfo !== last.info ? segments : segments.slice(0, -1);
  for (const segment of walk) node = childObject(node, segment, path);
  if (walk.length === segments.length) {
    // Writing the value[x] of an extension reached above.
    for (const key of Object.keys(node)) if (key.startsWith('value')) delete node[key];
    node[finalInfo.jsonName] = converted[0];
    return;
  }
  clearChoiceSiblings(node, finalInfo);
  if (last.extensionUrl !== undefined) {
    // A whole Extension object replaces (or adds) the one with that url.
    const list = (node['extension'] ??= []) as Node[];
    const at = list.findIndex((e) => isPlainObject(e) && e['url'] === last.extensionUrl);
    if (at >= 0) list[at] = converted[0] as Node;
    else list.push(converted[0] as Node);
    return;
  }
  if (!repeating) {
    node[finalInfo.jsonName] = converted[0];
    return;
  }
  const existing = node[finalInfo.jsonName];
  if (existing !== undefined && !Array.isArray(existing)) {
    throw new DynamicValuePathError(`'${path}': ${finalPath} holds a non-list value where FHIR expects a list`);
  }
  const list = (existing ?? (node[finalInfo.jsonName] = [])) as unknown[];
  if (atIndex === undefined) {
    list.push(...converted);
  } else if (atIndex <= list.length) {
    list[atIndex] = converted[0];
  } else {
    throw new DynamicValuePathError(`'${path}': ${finalPath}[${atIndex}] does not exist (the list has ${list.length}) and indexes must be filled in order`);
  }
}

// ---------------------------------------------------------------------------------------------
// Applying a definition's dynamicValues

export interface DynamicValue {
  path?: string;
  expression?: Expression;
}

export interface ApplyDynamicValuesArgs {
  target: Record<string, unknown>;
  /** FHIR type of `target`: a resource type, or a backbone path. */
  baseType: string;
  dynamicValues: DynamicValue[];
  /** The definition being applied: the expressions' %context / %resource. */
  focus: Resource;
  variables: Variables;
  evaluators?: Record<string, ExpressionEvaluator>;
  issues: OperationOutcomeIssue[];
  strict: boolean;
  /** Names the owner in messages, e.g. "ActivityDefinition/hsg"; each entry adds " dynamicValue[i]"
   *  (or just "[i]" when `where` already ends with "dynamicValue"). */
  where: string;
  /** The RequestGroup action: receives paths starting with `action.` or `%action.`. */
  actionTarget?: Record<string, unknown>;
}

const ACTION_PREFIX = /^%?action\./;

/**
 * Evaluates each dynamicValue in document order and writes its result. A failing entry becomes an
 * error issue (code `processing` for evaluation errors, `invalid` for bad paths or values) and the
 * remaining entries still apply - unless `strict`, where the first failure throws.
 */
export function applyDynamicValues(args: ApplyDynamicValuesArgs): void {
  args.dynamicValues.forEach((dynamicValue, i) => {
    const where = /dynamicValue$/.test(args.where) ? `${args.where}[${i}]` : `${args.where} dynamicValue[${i}]`;
    const rawPath = dynamicValue.path ?? '';
    const text = dynamicValue.expression ? expressionText(dynamicValue.expression) : '';
    const report = (code: 'processing' | 'invalid', message: string) => {
      const found = issue('error', code, `${where}: path '${rawPath}', expression '${text}': ${message}`, [where]);
      if (args.strict) throw new OperationOutcomeError(outcome(found));
      args.issues.push(found);
    };
    if (!dynamicValue.path) {
      report('invalid', 'the dynamicValue has no path');
      return;
    }
    if (!dynamicValue.expression) {
      report('invalid', 'the dynamicValue has no expression');
      return;
    }

    let target = args.target;
    let baseType = args.baseType;
    let path = rawPath.trim();
    if (ACTION_PREFIX.test(path)) {
      if (!args.actionTarget) {
        report('invalid', 'the path targets the RequestGroup action, but this apply has none');
        return;
      }
      target = args.actionTarget;
      baseType = 'RequestGroup.action';
      path = path.replace(ACTION_PREFIX, '');
    }
    try {
      resolvePath(baseType, path);
    } catch (err) {
      report('invalid', err instanceof Error ? err.message : String(err));
      return;
    }
    const evaluated = evaluateExpression(dynamicValue.expression, args.focus, args.variables, args.evaluators);
    if (evaluated.error !== undefined || !evaluated.result) {
      report('processing', evaluated.error ?? 'no result');
      return;
    }
    try {
      setValueAtPath(target, baseType, path, evaluated.result);
    } catch (err) {
      if (err instanceof DynamicValuePathError) {
        report('invalid', err.message);
        return;
      }
      throw err;
    }
  });
}
