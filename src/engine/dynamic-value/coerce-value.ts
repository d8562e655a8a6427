/**
 * Converts one FHIRPath result item to a value of the FHIR type of the element it is written to,
 * or rejects it: a value a FHIR server would refuse is an error here, not a request that fails
 * later.
 */
import { DynamicValuePathError } from './path-error.ts';
import {
  DATE,
  DATE_TIME_FULL,
  DATE_TIME_PARTIAL_TIME,
  describe,
  FHIR_ID,
  hasOnlyKeys,
  isCodeableConcept,
  isCoding,
  isPlainObject,
  isResource,
  quantityFromText,
  REFERENCE_KEYS,
  REFERENCE_TEXT,
  TIME,
} from './value-shapes.ts';

const STRING_TYPES = new Set(['string', 'code', 'uri', 'url', 'canonical', 'markdown', 'id', 'oid', 'uuid', 'base64Binary', 'System.String']);
const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt', 'System.Integer']);
const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Count', 'Distance', 'SimpleQuantity', 'MoneyQuantity']);
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
