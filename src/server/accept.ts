/**
 * Content negotiation for the JSON APIs (/fhir, /cds-services): the only representation served is
 * JSON (application/fhir+json or application/json). A request whose `_format` or `Accept` admits
 * none of them (XML, Turtle, HTML...) is answered 406 with an OperationOutcome (in JSON: the one
 * format there is), instead of a 200 the client cannot read.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { ACCEPT_LOCATION } from '../errors/http-status.ts';

/** `_format` values (FHIR http.html#mime) meaning JSON. */
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
/**
 * `_format` in the route schemas: the JSON names only, so the OpenAPI document says what is served
 * (another value never reaches validation: the onRequest hook below answers 406 first).
 */
export const formatParameter = z.enum(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']).optional();

/** Media ranges that admit JSON. */
const JSON_RANGES = new Set(['*/*', 'application/*', 'application/json', 'application/fhir+json', 'application/json+fhir']);

/** Whether an Accept header admits JSON (a range with q=0 does not). */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return JSON_RANGES.has(range);
  });
}

function notAcceptable(diagnostics: string): OperationOutcomeError {
  return new OperationOutcomeError(outcome({ ...issue('error', 'not-supported', diagnostics), location: [ACCEPT_LOCATION] }));
}

/** onRequest hook: refuses (406) a representation other than JSON. */
export function requireJsonRepresentation(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown> | undefined;
  const format = query?.['_format'];
  for (const f of Array.isArray(format) ? format : format === undefined ? [] : [format]) {
    // '+' in a query string is a space: application/fhir json is application/fhir+json.
    const value = String(f).trim().toLowerCase().replace(/ /g, '+');
    if (!JSON_FORMATS.has(value)) return Promise.reject(notAcceptable(`_format '${String(f)}' is not served: this server answers JSON only (application/fhir+json)`));
  }
  if (!acceptsJson(request.headers.accept)) {
    return Promise.reject(notAcceptable(`Accept '${request.headers.accept ?? ''}' admits no representation served here: JSON only (application/fhir+json)`));
  }
  return Promise.resolve();
}
