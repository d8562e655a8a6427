/**
 * stdout that cannot take the result - a full device (/dev/full) or a pipe whose reader has gone -
 * ends the real CLI process with one error line on stderr and exit 3 (environment failure), not a
 * stack trace.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, demoApplyArgs } from '../support/cli.ts';

const ARGS = [join(ROOT, 'bin/infertility-protocols.js'), ...demoApplyArgs()];

function run(stdout: 'pipe' | number, closeStdout: boolean): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ARGS, { cwd: ROOT, stdio: ['ignore', stdout, 'pipe'] });
    if (closeStdout) child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stderr });
    });
  });
}

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /error|Error|^\s+at /.test(l));
}

describe('stdout failures', () => {
  it('a full device: one line naming ENOSPC, exit 3', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const result = await run(full, false);
      expect(result.code).toBe(3);
      expect(errorLines(result.stderr)).toEqual(['error: cannot write the output to stdout: no space left on the device (ENOSPC)']);
    } finally {
      closeSync(full);
    }
  });

  it('a closed pipe: one line naming EPIPE, exit 3', async () => {
    const result = await run('pipe', true);
    expect(result.code).toBe(3);
    expect(errorLines(result.stderr)).toEqual(['error: cannot write the output to stdout: the reading end of the pipe was closed (EPIPE)']);
  });
});
