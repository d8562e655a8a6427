/**
 * The one mapping from an error to the HTTP status this server answers with. Every route goes
 * through it (src/server/http-errors.ts is its only caller); nothing else picks a status.
 *
 * The status follows from the issue codes (the most severe among the error issues), per the
 * FHIR RESTful API (http.html) and RFC 9110:
 *
 * | issue code                                   | status | why                                                             |
 * |----------------------------------------------|--------|-----------------------------------------------------------------|
 * | invalid, structure, required, value          | 400    | the request is malformed or misses something                     |
 * | invariant, processing, business-rule, code-invalid, extension | 422 | well-formed, but it breaks a rule of the content           |
 * | not-supported                                | 405 / 406 / 415 / 422 | 405 when the issue is located at `http.method` (the path exists, the method is not served there: RFC 9110 15.5.6, with an `Allow` header); 406 when located at `http.Accept` (no representation the client accepts: `Accept` or `_format`); 415 when located at `http.Content-Type` (the body's media type); otherwise the request is well-formed and asks for something this server does not do: 422 |
 * | too-costly                                   | 422    | understood, but answering would cost more than allowed            |
 * | login, unknown, expired                      | 401    | no or bad credentials                                           |
 * | security, forbidden, suppressed              | 403    | authenticated (or not needed) but not allowed                    |
 * | not-found                                    | 404 / 400 | 404 when the request's target (its URL) does not exist; 400 when the issue points into the request body (`expression`): the endpoint exists and the body names something unknown (RFC 9110 15.5.5: 404 is about the target resource) |
 * | deleted                                      | 410    |                                                                 |
 * | duplicate, conflict, lock-error              | 409    |                                                                 |
 * | multiple-matches                             | 412    | FHIR conditional interactions                                    |
 * | too-long                                     | 413    | the request body is over the limit (413 Content Too Large, RFC 9110 15.5.14; deliberately not 400) |
 * | throttled                                    | 429    |                                                                 |
 * | timeout                                      | 504    | the only timeouts reported are of servers this one called         |
 * | transient, no-store                          | 503    | retry later                                                     |
 * | incomplete                                   | 502    | a source could not be reached                                   |
 * | exception and any other code                 | 500    |                                                                 |
 * | only informational / warning issues          | 200    |                                                                 |
 *
 * Two things the issue code cannot say override it:
 * - an upstream failure (a FHIR server this server called failed or refused): 504 when it timed
 *   out, else 502 - never the other server's own 4xx, which would tell our caller that *its*
 *   request or credentials were wrong;
 * - a status a protocol prescribes (CDS Hooks: data that cannot be obtained is 412).
 *
 * A client too slow to send its request (408) or with oversized headers (431) is refused by
 * Node's HTTP parser before any route runs: `connectionErrorAnswer` below.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** What an OperationOutcomeError carries (structurally, so this module imports nothing of ours). */
export interface OutcomeCarrier {
  outcome: OperationOutcome;
  upstream?: { status?: number } | undefined;
  prescribedStatus?: number | undefined;
}

const BY_CODE: Partial<Record<OperationOutcomeIssue['code'], number>> = {
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  invariant: 422,
  processing: 422,
  'business-rule': 422,
  'code-invalid': 422,
  extension: 422,
  'not-supported': 422,
  'too-costly': 422,
  login: 401,
  unknown: 401,
  expired: 401,
  security: 403,
  forbidden: 403,
  suppressed: 403,
  'not-found': 404,
  deleted: 410,
  duplicate: 409,
  conflict: 409,
  'lock-error': 409,
  'multiple-matches': 412,
  'too-long': 413,
  throttled: 429,
  timeout: 504,
  transient: 503,
  'no-store': 503,
  incomplete: 502,
  exception: 500,
  informational: 200,
};

/** Where an issue about the request's media type is located (R4 OperationOutcome.issue.location: "http." + the header). */
export const CONTENT_TYPE_LOCATION = 'http.Content-Type';
/** Where an issue about the representation asked for is located (`Accept` header or `_format`). */
export const ACCEPT_LOCATION = 'http.Accept';
/** Where an issue about the request's method is located (a known path that does not serve it). */
export const METHOD_LOCATION = 'http.method';

function isError(i: OperationOutcomeIssue): boolean {
  return i.severity === 'error' || i.severity === 'fatal';
}

/** The status of one error issue. */
export function issueStatus(i: OperationOutcomeIssue): number {
  if (i.code === 'not-supported' && i.location?.includes(CONTENT_TYPE_LOCATION)) return 415;
  if (i.code === 'not-supported' && i.location?.includes(ACCEPT_LOCATION)) return 406;
  if (i.code === 'not-supported' && i.location?.includes(METHOD_LOCATION)) return 405;
  if (i.code === 'not-found' && i.expression?.length) return 400;
  return BY_CODE[i.code] ?? 500;
}

/** The status for an outcome: the most severe mapping among its error issues (200 when none). */
export function outcomeStatus(o: OperationOutcome): number {
  const errors = o.issue.filter(isError);
  return errors.length === 0 ? 200 : Math.max(...errors.map(issueStatus));
}

function isCarrier(subject: OperationOutcome | OutcomeCarrier): subject is OutcomeCarrier {
  return 'outcome' in subject;
}

/** The HTTP status for an OperationOutcomeError (or a bare OperationOutcome). */
export function httpStatusOf(subject: OperationOutcome | OutcomeCarrier): number {
  if (!isCarrier(subject)) return outcomeStatus(subject);
  if (subject.prescribedStatus !== undefined) return subject.prescribedStatus;
  if (subject.upstream) return subject.outcome.issue.some((i) => isError(i) && i.code === 'timeout') ? 504 : 502;
  return outcomeStatus(subject.outcome);
}

/**
 * Errors Node's HTTP parser raises on a connection before any route runs, so the route error
 * handler never sees them, by Node's error code: the client did not send its headers within
 * `headersTimeout` or its whole request within `requestTimeout` (408 Request Timeout, RFC 9110
 * 15.5.9: the issue code is `timeout`, which otherwise means an upstream timeout, hence this table
 * of its own), headers over the size limit (431, RFC 6585), anything else that is not HTTP (400).
 */
export function connectionErrorAnswer(nodeErrorCode: string | undefined): { status: number; code: OperationOutcomeIssue['code'] } {
  if (nodeErrorCode === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'timeout' };
  if (nodeErrorCode === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'too-long' };
  return { status: 400, code: 'structure' };
}

/**
 * The issue code for an HTTP status another server answered (the FHIR client's reading of it),
 * the inverse of the table above where one exists.
 */
export function issueCodeForStatus(status: number): OperationOutcomeIssue['code'] {
  if (status === 401) return 'login';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 413) return 'too-long';
  if (status === 415) return 'not-supported';
  if (status === 422) return 'processing';
  if (status === 429) return 'throttled';
  if (status === 504) return 'timeout';
  if (status === 502 || status === 503) return 'transient';
  if (status >= 500) return 'exception';
  return 'invalid';
}
