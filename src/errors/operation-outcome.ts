/**
 * Errors as FHIR OperationOutcomes: the one error type every layer throws when it cannot do what
 * it was asked. The edges turn it into an answer in one place each: `httpStatusOf`
 * (src/errors/http-status.ts) for the HTTP server, `exitCodeOf` (src/errors/exit-code.ts) for the
 * CLI. Both read the issue codes; an error adds only what the code cannot say (below).
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];
export type IssueSeverity = OperationOutcomeIssue['severity'];

export interface OperationOutcomeErrorOptions {
  cause?: unknown;
  /**
   * The failure is another server's (a FHIR server this program called): the HTTP status that
   * server answered, when it answered. The HTTP mapping answers such errors as a gateway (502 /
   * 504), never with the other server's own 4xx, which would blame our caller's credentials.
   */
  upstream?: { status?: number };
  /**
   * An HTTP status a protocol prescribes whatever the issue code: CDS Hooks' 412 ("unable to
   * obtain the data it needs: SHALL respond 412 Precondition Failed", see `preconditionFailed`).
   * Nothing else should set it: choosing a status is the mapping's job.
   */
  status?: number;
}

export class OperationOutcomeError extends Error {
  readonly outcome: OperationOutcome;
  readonly upstream: { status?: number } | undefined;
  readonly prescribedStatus: number | undefined;

  constructor(outcome: OperationOutcome, options: OperationOutcomeErrorOptions = {}) {
    super(outcome.issue.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; '), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OperationOutcomeError';
    this.outcome = outcome;
    this.upstream = options.upstream;
    this.prescribedStatus = options.status;
  }

  /** The code of the first error issue (else of the first issue): what went wrong, in one word. */
  get code(): IssueCode {
    const first = this.outcome.issue.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? this.outcome.issue[0];
    return first?.code ?? 'exception';
  }

  /** The first error issue's sentence (the error's own summary, without the issues that follow it). */
  get summary(): string {
    const first = this.outcome.issue.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? this.outcome.issue[0];
    return first?.diagnostics ?? first?.details?.text ?? this.message;
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
export const forbidden = (diagnostics: string) => outcomeError('forbidden', diagnostics);
export const unauthorized = (diagnostics: string) => outcomeError('login', diagnostics);

/** CDS Hooks: the data the service needs cannot be obtained -> 412, whatever the reason's code. */
export function preconditionFailed(code: IssueCode, diagnostics: string): OperationOutcomeError {
  return new OperationOutcomeError(outcome(issue('error', code, diagnostics)), { status: 412 });
}

/** Wraps anything thrown into an OperationOutcome without leaking a stack trace. */
export function toOperationOutcome(err: unknown): OperationOutcome {
  if (err instanceof OperationOutcomeError) return err.outcome;
  const message = err instanceof Error ? err.message : String(err);
  return outcome(issue('error', 'exception', message));
}

// The HTTP mapping is read from here too (it imports nothing of this module: no cycle).
export { httpStatusOf } from './http-status.ts';
