/**
 * The CLI's contact with the outside world, injectable so commands run in-process in tests.
 *
 * Conventions (docs/cli.md):
 * - stdout carries exactly one JSON document per run: the result, or on failure the
 *   OperationOutcome (so a pipeline always gets parseable JSON);
 * - stderr carries human messages and progress;
 * - exit codes come from ONE function, `exitCodeOf` (src/errors/exit-code.ts).
 */
import { readFileSync } from 'node:fs';
import { exitCodeOf, type ExitCode } from '../errors/exit-code.ts';
import { issue, outcome, outcomeError } from '../errors/operation-outcome.ts';

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

/** Why stdout failed, as an issue code the one exit-code mapping knows (both are environment failures). */
const STDOUT_FAILURES: Readonly<Record<string, { code: 'no-store' | 'incomplete'; why: string }>> = {
  ENOSPC: { code: 'no-store', why: 'no space left on the device' },
  EDQUOT: { code: 'no-store', why: 'disk quota exceeded' },
  EFBIG: { code: 'no-store', why: 'file too large' },
  EPIPE: { code: 'incomplete', why: 'the reading end of the pipe was closed' },
};

/**
 * A failed write to stdout (a full disk, a closed pipe) ends the run with one line on stderr and
 * the exit code of an environment failure, instead of an uncaught 'error' event and its stack
 * trace: the result could not be delivered, so nothing else is worth doing.
 */
export function onStdoutFailure(err: NodeJS.ErrnoException, stderr: (text: string) => void, exit: (code: ExitCode) => void): void {
  const known = err.code ? STDOUT_FAILURES[err.code] : undefined;
  const failed = outcome(issue('error', known?.code ?? 'exception', `cannot write the output to stdout: ${known?.why ?? err.message}${err.code ? ` (${err.code})` : ''}`));
  stderr(`error: ${failed.issue[0]!.diagnostics ?? ''}\n`);
  exit(exitCodeOf(failed, 'failure'));
}

export function processIo(): CliIo {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    onStdoutFailure(
      err,
      (text) => {
        try {
          process.stderr.write(text);
        } catch {
          // stderr is gone too: the exit code still says what happened.
        }
      },
      (code) => process.exit(code),
    );
  });
  // A closed stderr must not crash the run: its messages are for humans, the result is on stdout.
  process.stderr.on('error', () => undefined);
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: readAllStdin,
    isTTY: process.stderr.isTTY,
    env: process.env,
    clock: () => new Date(),
  };
}

// The exit codes and their one mapping live with the error type (src/errors/exit-code.ts).
export { EXIT, exitCodeOf, type ExitCode } from '../errors/exit-code.ts';

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
    throw outcomeError('not-found', `cannot read ${path}: ${why}`);
  }
}
