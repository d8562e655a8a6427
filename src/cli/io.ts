/**
 * The CLI's contact with the outside world, injectable so commands run in-process in tests.
 *
 * Conventions (docs/cli.md):
 * - stdout carries exactly one JSON document per run: the result, or on failure the
 *   OperationOutcome (so a pipeline always gets parseable JSON);
 * - stderr carries human messages and progress;
 * - exit codes come from ONE function, `exitCodeOf`.
 */
import { readFileSync } from 'node:fs';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** stderr is a terminal (progress bars only then). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Wall clock, used only when --now is not given. */
  clock(): Date;
}

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: readAllStdin,
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    clock: () => new Date(),
  };
}

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

const ENVIRONMENT_CODES = new Set(['transient', 'timeout', 'throttled', 'exception', 'incomplete', 'lock-out', 'no-store']);

/**
 * The one mapping from an OperationOutcome to an exit code. `findings` outcomes are results the
 * command produced (lint, validate...), `failure` outcomes are why the command could not run.
 */
export function exitCodeOf(result: OperationOutcome, kind: 'findings' | 'failure'): ExitCode {
  const errors = (result.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length === 0) return EXIT.ok;
  if (kind === 'findings') return EXIT.findings;
  return errors.some((i) => ENVIRONMENT_CODES.has(i.code)) ? EXIT.environment : EXIT.usage;
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a file argument, `-` meaning stdin; a missing file is an input error, not a crash. */
export async function readTextArgument(io: CliIo, path: string): Promise<string> {
  if (path === '-') return io.readStdin();
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new OperationOutcomeError(outcome(issue('error', 'not-found', `cannot read ${path}: ${why}`)));
  }
}

export function usageError(message: string): OperationOutcomeError {
  return new OperationOutcomeError(outcome(issue('error', 'invalid', message)));
}
