/**
 * Errors as FHIR OperationOutcomes. Every edge (CLI, HTTP, loader) maps an OperationOutcomeError to
 * its exit code / HTTP status in one place, from the issue code, using the tables below.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];
export type IssueSeverity = OperationOutcomeIssue['severity'];

export class OperationOutcomeError extends Error {
  readonly outcome: OperationOutcome;
  constructor(outcome: OperationOutcome, cause?: unknown) {
    super(outcome.issue?.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ') ?? 'error', { cause });
    this.outcome = outcome;
  }
}

export function issue(severity: IssueSeverity, code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcomeIssue {
  const result: OperationOutcomeIssue = { severity, code, diagnostics };
  if (expression && expression.length > 0) result.expression = expression;
  return result;
}

export function outcome(...issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function outcomeError(code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcomeError {
  return new OperationOutcomeError(outcome(issue('error', code, diagnostics, expression)));
}

export const badRequest = (diagnostics: string, expression?: string[]) => outcomeError('invalid', diagnostics, expression);
export const notFound = (diagnostics: string) => outcomeError('not-found', diagnostics);
export const notSupported = (diagnostics: string) => outcomeError('not-supported', diagnostics);

/** HTTP status for an outcome: the most severe mapping among its error issues. */
export function httpStatusOf(o: OperationOutcome): number {
  const codes = (o.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => i.code);
  if (codes.length === 0) return 200;
  const table: Partial<Record<string, number>> = {
    invalid: 400,
    structure: 400,
    required: 400,
    value: 400,
    invariant: 422,
    'business-rule': 422,
    security: 401,
    login: 401,
    unknown: 401,
    forbidden: 403,
    suppressed: 403,
    'not-found': 404,
    deleted: 410,
    'not-supported': 400,
    duplicate: 409,
    conflict: 409,
    'too-costly': 413,
    'too-long': 413,
    throttled: 429,
    timeout: 504,
    transient: 503,
    incomplete: 502,
    exception: 500,
    processing: 422,
    informational: 200,
  };
  return Math.max(...codes.map((c) => table[c ?? 'exception'] ?? 500));
}

/** Wraps anything thrown into an OperationOutcome without leaking a stack trace. */
export function toOperationOutcome(err: unknown): OperationOutcome {
  if (err instanceof OperationOutcomeError) return err.outcome;
  const message = err instanceof Error ? err.message : String(err);
  return outcome(issue('error', 'exception', message));
}
