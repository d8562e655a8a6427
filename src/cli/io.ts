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
import { outcomeError } from '../errors/operation-outcome.ts';

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
