/**
 * How a FHIRPath result item looks in JavaScript: a resource, a Coding, a CodeableConcept, a date
 * or quantity string. Shared by the value conversion and by the choice-type guess, which must
 * agree on what a value is.
 */
import type { Resource } from '@medplum/fhirtypes';

export const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
export const DATE_TIME_FULL = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;
export const DATE_TIME_PARTIAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/;
export const TIME = /^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?$/;
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
export const REFERENCE_TEXT = /^(#[A-Za-z0-9\-.]{1,64}|[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?|(https?|urn):\S+)$/;

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

/** `5 'mg'` or `7 days` (as fhirpath.js prints quantities) -> a UCUM Quantity; undefined otherwise. */
export function quantityFromText(text: string): Record<string, unknown> | undefined {
  const m = QUANTITY_TEXT.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[2] !== undefined) return { value, unit: m[2], system: 'http://unitsofmeasure.org', code: m[2] };
  const code = CALENDAR_UCUM[m[3]!];
  return code ? { value, unit: m[3], system: 'http://unitsofmeasure.org', code } : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isResource(value: unknown): value is Resource {
  return isPlainObject(value) && typeof value['resourceType'] === 'string';
}

export const CODING_KEYS = new Set(['system', 'version', 'code', 'display', 'userSelected', 'id', 'extension']);
export const REFERENCE_KEYS = new Set(['reference', 'type', 'identifier', 'display', 'id', 'extension']);

export function hasOnlyKeys(value: Record<string, unknown>, keys: Set<string>): boolean {
  const own = Object.keys(value);
  return own.length > 0 && own.every((k) => keys.has(k));
}

export function isCoding(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && hasOnlyKeys(value, CODING_KEYS) && ('code' in value || 'system' in value);
}

export function isCodeableConcept(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && !isResource(value) && ('coding' in value || (Object.keys(value).length === 1 && typeof value['text'] === 'string'));
}

/** The value as an author would recognise it in a message: its kind and (shortened) JSON. */
export function describe(value: unknown): string {
  if (isResource(value)) return `a ${value.resourceType} resource`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return `${typeof value === 'object' ? 'an object' : `a ${typeof value}`} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
