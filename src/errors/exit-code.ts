/**
 * The one mapping from an outcome to the CLI's exit code (docs/cli.md). Every command and the
 * CLI's failure path go through `exitCodeOf`; nothing else picks an exit code.
 *
 * | exit | meaning                                             | from                                                              |
 * |------|-----------------------------------------------------|-------------------------------------------------------------------|
 * | 0    | ok                                                  | no error issue                                                    |
 * | 1    | findings: the command ran and found problems        | a `findings` outcome (lint, validate, engine errors, batch failures) with an error issue |
 * | 2    | usage or input error: fix the invocation or input   | a `failure` whose error issues are all of other codes: invalid, structure, required, value, not-found, not-supported, login, forbidden, conflict, processing... (a server's 4xx) |
 * | 3    | environment failure: retrying later may help        | a `failure` with an error issue coded transient, timeout, throttled, exception, incomplete, lock-error, no-store or too-costly (server down, timeout, 5xx, 429 after the retries, a search that never ends or an answer over the size limit, an internal error) |
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export const EXIT = {
  ok: 0,
  /** Clinical or validation findings: lint/validate errors, apply expression errors, batch failures. */
  findings: 1,
  /** The invocation or its input is wrong: usage, unreadable/malformed files, unknown plan, 4xx. */
  usage: 2,
  /** The environment failed: server unreachable, timeout, 5xx, throttled, internal error. Retry may help. */
  environment: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const ENVIRONMENT_CODES: ReadonlySet<OperationOutcomeIssue['code']> = new Set([
  'transient',
  'timeout',
  'throttled',
  'exception',
  'incomplete',
  'lock-error',
  'no-store',
  'too-costly',
]);

/**
 * `findings` outcomes are results the command produced (lint, validate, the engine's outcome),
 * `failure` outcomes are why the command could not run.
 */
export function exitCodeOf(result: OperationOutcome, kind: 'findings' | 'failure'): ExitCode {
  const errors = result.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length === 0) return EXIT.ok;
  if (kind === 'findings') return EXIT.findings;
  return errors.some((i) => ENVIRONMENT_CODES.has(i.code)) ? EXIT.environment : EXIT.usage;
}
