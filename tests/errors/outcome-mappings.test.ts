/**
 * The two mappings of the one error type: issue code -> HTTP status (every route) and outcome ->
 * CLI exit code (every command). The tables are the contract docs/cli.md and docs/cds-hooks.md
 * describe.
 */
import { describe, expect, it } from 'vitest';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { EXIT, exitCodeOf } from '../../src/errors/exit-code.ts';
import { CONTENT_TYPE_LOCATION, connectionErrorAnswer, httpStatusOf, issueCodeForStatus } from '../../src/errors/http-status.ts';
import { OperationOutcomeError, issue, outcome, preconditionFailed } from '../../src/errors/operation-outcome.ts';

const error = (code: OperationOutcomeIssue['code'], extra: Partial<OperationOutcomeIssue> = {}) => outcome({ ...issue('error', code, code), ...extra });

describe('issue code -> HTTP status', () => {
  it.each([
    ['invalid', 400],
    ['structure', 400],
    ['required', 400],
    ['value', 400],
    ['invariant', 422],
    ['processing', 422],
    ['business-rule', 422],
    ['not-supported', 422],
    ['too-costly', 422],
    ['login', 401],
    ['security', 403],
    ['forbidden', 403],
    ['not-found', 404],
    ['deleted', 410],
    ['conflict', 409],
    ['duplicate', 409],
    ['multiple-matches', 412],
    ['too-long', 413],
    ['throttled', 429],
    ['timeout', 504],
    ['transient', 503],
    ['incomplete', 502],
    ['exception', 500],
  ] as const)('%s -> %i', (code, status) => {
    expect(httpStatusOf(error(code))).toBe(status);
    expect(httpStatusOf(new OperationOutcomeError(error(code)))).toBe(status);
  });

  it('not-found: 404 for the request target, 400 when the issue points into the body', () => {
    expect(httpStatusOf(error('not-found'))).toBe(404);
    expect(httpStatusOf(error('not-found', { expression: ['feedback[0].card'] }))).toBe(400);
  });

  it('not-supported: 415 when it is the media type (location http.Content-Type), else 422', () => {
    expect(httpStatusOf(error('not-supported', { location: [CONTENT_TYPE_LOCATION] }))).toBe(415);
    expect(httpStatusOf(error('not-supported'))).toBe(422);
  });

  it('the most severe error issue decides; warnings alone are 200', () => {
    expect(httpStatusOf(outcome(issue('error', 'invalid', 'a'), issue('error', 'exception', 'b')))).toBe(500);
    expect(httpStatusOf(outcome(issue('warning', 'exception', 'w'), issue('error', 'invalid', 'a')))).toBe(400);
    expect(httpStatusOf(outcome(issue('information', 'informational', 'ok')))).toBe(200);
  });

  it("another server's failure is a gateway failure: 504 when it timed out, else 502 - never its own 4xx", () => {
    expect(httpStatusOf(new OperationOutcomeError(error('login'), { upstream: { status: 401 } }))).toBe(502);
    expect(httpStatusOf(new OperationOutcomeError(error('not-found'), { upstream: { status: 404 } }))).toBe(502);
    expect(httpStatusOf(new OperationOutcomeError(error('timeout'), { upstream: {} }))).toBe(504);
  });

  it('CDS Hooks prescribes 412 when the data cannot be had, whatever the reason', () => {
    expect(httpStatusOf(preconditionFailed('timeout', 'slow'))).toBe(412);
    expect(preconditionFailed('timeout', 'slow').code).toBe('timeout');
  });

  it('connections refused by the HTTP parser: 408 for a slow client, 431 for oversized headers, else 400', () => {
    expect(connectionErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT')).toEqual({ status: 408, code: 'timeout' });
    expect(connectionErrorAnswer('HPE_HEADER_OVERFLOW')).toEqual({ status: 431, code: 'too-long' });
    expect(connectionErrorAnswer('HPE_INVALID_METHOD')).toEqual({ status: 400, code: 'structure' });
    expect(connectionErrorAnswer(undefined)).toEqual({ status: 400, code: 'structure' });
  });

  it("reads another server's status as an issue code", () => {
    expect([401, 403, 404, 409, 412, 413, 415, 422, 429, 500, 502, 503, 504, 400].map(issueCodeForStatus)).toEqual([
      'login',
      'forbidden',
      'not-found',
      'conflict',
      'conflict',
      'too-long',
      'not-supported',
      'processing',
      'throttled',
      'exception',
      'transient',
      'transient',
      'timeout',
      'invalid',
    ]);
  });
});

describe('outcome -> CLI exit code', () => {
  it('0 without errors, 1 for findings, whatever their code', () => {
    expect(exitCodeOf(outcome(issue('warning', 'exception', 'w')), 'failure')).toBe(EXIT.ok);
    expect(exitCodeOf(error('exception'), 'findings')).toBe(EXIT.findings);
    expect(exitCodeOf(error('invalid'), 'findings')).toBe(EXIT.findings);
  });

  it.each(['invalid', 'structure', 'required', 'not-found', 'not-supported', 'login', 'forbidden', 'conflict', 'processing', 'duplicate'] as const)(
    'a failure coded %s is a usage or input error (2)',
    (code) => {
      expect(exitCodeOf(error(code), 'failure')).toBe(EXIT.usage);
    },
  );

  it.each(['transient', 'timeout', 'throttled', 'exception', 'incomplete', 'lock-error', 'no-store', 'too-costly'] as const)(
    'a failure coded %s is an environment failure (3: retry later)',
    (code) => {
      expect(exitCodeOf(error(code), 'failure')).toBe(EXIT.environment);
    },
  );

  it('one environment issue among input issues makes it 3', () => {
    expect(exitCodeOf(outcome(issue('error', 'invalid', 'a'), issue('error', 'timeout', 'b')), 'failure')).toBe(EXIT.environment);
  });
});
