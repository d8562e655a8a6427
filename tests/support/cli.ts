/** Runs the CLI in-process with captured stdout/stderr, or as a real child process of the bin. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';

export const ROOT = join(import.meta.dirname, '../..');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
export const KNOWLEDGE = join(FIXTURES, 'knowledge');
export const NOW = '2026-11-23T09:00:00Z';

/** `apply` of the fixture knowledge's demo protocol to one fixture patient file, or stdin with `data: '-'` (the CLI's usual test call). */
export function demoApplyArgs(options: { now?: string; data?: string } = {}): string[] {
  return [
    'apply',
    '--plan',
    'demo-protocol',
    '--knowledge',
    KNOWLEDGE,
    '--now',
    options.now ?? NOW,
    '--data',
    options.data === '-' ? '-' : join(FIXTURES, options.data ?? 'patients/negative-test.json'),
  ];
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON. */
  json: any;
}

export async function cli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; clock?: Date } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => options.stdin ?? '',
    isTTY: false,
    env: options.env ?? {},
    clock: () => options.clock ?? new Date('2026-01-02T03:04:05.000Z'),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr, json: parse(stdout) };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The real bin, under the same Node as the tests (Node 24 from node_modules). */
export function spawnCli(args: string[], stdin?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/infertility-protocols.js'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr, json: parse(stdout) });
    });
    child.stdin.end(stdin ?? '');
  });
}
