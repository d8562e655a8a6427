/**
 * The one place where anything thrown while serving a request becomes an HTTP answer: always an
 * OperationOutcome (application/fhir+json), never a stack trace. Fastify's own errors (body too
 * large, malformed JSON, wrong media type) are mapped to the matching FHIR issue codes.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { OperationOutcomeError, httpStatusOf, issue, outcome, type IssueCode } from '../errors/operation-outcome.ts';

/** An OperationOutcomeError that carries its HTTP status (e.g. CDS Hooks' 412). */
export class HttpOutcomeError extends OperationOutcomeError {
  readonly status: number;
  constructor(status: number, o: OperationOutcome) {
    super(o);
    this.status = status;
  }
}

const FASTIFY_CODES: Record<string, { code: IssueCode; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'too-long', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'not-supported', status: 415 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'structure', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'structure', status: 400 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'structure', status: 400 },
};

export function sendOutcome(reply: FastifyReply, status: number, body: OperationOutcome): FastifyReply {
  return reply.code(status).type('application/fhir+json').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof HttpOutcomeError) return sendOutcome(reply, err.status, err.outcome);
    if (err instanceof OperationOutcomeError) return sendOutcome(reply, httpStatusOf(err.outcome), err.outcome);
    const fastifyErr = err as FastifyError;
    const mapped = fastifyErr.code ? FASTIFY_CODES[fastifyErr.code] : undefined;
    if (mapped) return sendOutcome(reply, mapped.status, outcome(issue('error', mapped.code, requestErrorText(fastifyErr))));
    if (err instanceof SyntaxError || fastifyErr.statusCode === 400) {
      return sendOutcome(reply, 400, outcome(issue('error', 'structure', 'the request body is not valid JSON')));
    }
    if (typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode >= 400 && fastifyErr.statusCode < 500) {
      return sendOutcome(reply, fastifyErr.statusCode, outcome(issue('error', 'invalid', fastifyErr.message)));
    }
    // Unexpected: log the class of failure (no body, no identifiers), answer a generic outcome.
    request.log.error({ err: { type: err.name, message: err.message } }, 'unhandled error');
    return sendOutcome(reply, 500, outcome(issue('error', 'exception', 'internal error while processing the request')));
  });

  app.setNotFoundHandler((request, reply) => sendOutcome(reply, 404, outcome(issue('error', 'not-found', `no route for ${request.method} ${request.url.split('?')[0]}`))));
}

function requestErrorText(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'the request body is larger than the configured limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported Content-Type (use application/json or application/fhir+json)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the request body is empty';
    default:
      return 'the request body is not valid JSON';
  }
}
