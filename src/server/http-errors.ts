/**
 * The one place where anything thrown while serving a request becomes an HTTP answer: always an
 * OperationOutcome (application/fhir+json), never a stack trace, with the status from the one
 * mapping (`httpStatusOf`, src/errors/http-status.ts). Fastify's own errors (body too large,
 * malformed JSON, wrong media type, a request that fails its route schema) are first turned into
 * the matching FHIR issues, then mapped like any other.
 */
import { METHODS, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome, type IssueCode } from '../errors/operation-outcome.ts';
import { CONTENT_TYPE_LOCATION, METHOD_LOCATION, connectionErrorAnswer, httpStatusOf, issueCodeForStatus } from '../errors/http-status.ts';

const FHIR_JSON = 'application/fhir+json';

export function sendOutcome(reply: FastifyReply, status: number, body: OperationOutcome): FastifyReply {
  return reply.code(status).type(FHIR_JSON).send(body);
}

/** Fastify's request errors as FHIR issues. */
function fastifyIssues(err: FastifyError): OperationOutcomeIssue[] | undefined {
  if (hasZodFastifySchemaValidationErrors(err)) {
    // A route schema refused the request: one issue per problem, naming the part and the field.
    const part = err.validationContext ?? 'request';
    return err.validation.map((v) => issue('error', 'invalid', `${[part, ...v.instancePath.split('/').filter(Boolean)].join('.')}: ${v.message}`));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [issue('error', 'too-long', 'the request body is larger than the configured limit')];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [{ ...issue('error', 'not-supported', 'unsupported Content-Type (use application/json or application/fhir+json)'), location: [CONTENT_TYPE_LOCATION] }];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [issue('error', 'structure', 'the request body is empty')];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [issue('error', 'structure', 'the request body is not valid JSON')];
    default:
      break;
  }
  if (err instanceof SyntaxError) return [issue('error', 'structure', 'the request body is not valid JSON')];
  // Any other refusal of the request by Fastify (4xx): its message, coded from its status.
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    const code: IssueCode = issueCodeForStatus(err.statusCode);
    return [issue('error', code, err.message)];
  }
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (request.is404) return answerUnrouted(app, request, reply);
    if (err instanceof OperationOutcomeError) return sendOutcome(reply, httpStatusOf(err), err.outcome);
    const issues = fastifyIssues(err as FastifyError);
    if (issues) {
      const o = outcome(...issues);
      return sendOutcome(reply, httpStatusOf(o), o);
    }
    // Unexpected: log the class of failure (no body, no identifiers), answer a generic outcome.
    request.log.error({ err: { type: err.name, message: err.message } }, 'unhandled error');
    const o = outcome(issue('error', 'exception', 'internal error while processing the request'));
    return sendOutcome(reply, httpStatusOf(o), o);
  });

  // Unrouted requests whose body Fastify refused first (QUERY without Content-Type...) too.
  app.setNotFoundHandler((request, reply) => answerUnrouted(app, request, reply));
}

/**
 * A request no route serves: 405 with the methods its path does serve (RFC 9110 15.5.6: an
 * `Allow` header), when some route matches the path with another method; 404 otherwise.
 */
function answerUnrouted(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0] ?? '';
  const matches = METHODS.flatMap((method) => {
    // Fastify's type says a route is always found; it answers null when none matches.
    const route = app.findRoute({ method, url: path }) as ReturnType<FastifyInstance['findRoute']> | null;
    return route ? [{ method, wildcard: '*' in route.params }] : [];
  });
  // A catch-all (CORS preflight's `OPTIONS *`) does not make a path known, but is allowed on one.
  const allowed = matches.some((m) => !m.wildcard) ? matches.map((m) => m.method) : [];
  if (allowed.length > 0) {
    const o = outcome({ ...issue('error', 'not-supported', `${request.method} is not served on ${path} (allowed: ${allowed.join(', ')})`), location: [METHOD_LOCATION] });
    return sendOutcome(reply.header('allow', allowed.join(', ')), httpStatusOf(o), o);
  }
  const o = outcome(issue('error', 'not-found', `no route for ${request.method} ${path}`));
  return sendOutcome(reply, httpStatusOf(o), o);
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or error handler runs - a
 * path parameter longer than the router's limit (Fastify's own answer is a bare JSON 414) or a
 * path that is not valid percent-encoding (a bare JSON 400). No FHIR id, service id or diagram
 * name is that long, so such a segment is an invalid identifier: 400 with an OperationOutcome, the
 * status every route already documents for an invalid id.
 */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  let o: OperationOutcome;
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') o = outcome(issue('error', 'invalid', 'a path segment is longer than any valid identifier (FHIR ids have at most 64 characters)'));
  else if (err.code === 'FST_ERR_BAD_URL') o = outcome(issue('error', 'invalid', 'the request path is not a valid URL (malformed percent-encoding)'));
  // The only other framework error is a failing async route constraint, which no route here has.
  else o = outcome(issue('error', 'exception', 'internal error while routing the request'));
  void sendOutcome(reply, httpStatusOf(o), o);
}

const CONNECTION_ERROR_TEXT: Partial<Record<IssueCode, string>> = {
  timeout: 'the request was not received in time (headers within headersTimeoutMs, the whole request within requestTimeoutMs)',
  'too-long': 'the request headers are larger than the limit',
  structure: 'the request is not valid HTTP',
};

/**
 * Fastify's `clientErrorHandler`: what a client is told when Node's HTTP parser refuses its
 * connection (too slow, oversized headers, not HTTP). Fastify's default writes a JSON body of its
 * own; this writes an OperationOutcome like every other refusal, then closes the connection.
 */
export function answerConnectionError(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex): void {
  // A reset connection is already gone: nothing can be answered.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code } = connectionErrorAnswer(err.code);
  const body = JSON.stringify(outcome(issue('error', code, CONNECTION_ERROR_TEXT[code] ?? 'client error')));
  this.log.debug({ err: { code: err.code } }, 'connection refused by the HTTP parser');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${FHIR_JSON}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
