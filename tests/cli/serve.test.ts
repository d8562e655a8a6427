/** `infertility-protocols serve` as a real process: it listens, answers, and stops cleanly on SIGTERM. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import getPort from 'get-port';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.ts';

describe('infertility-protocols serve (spawned)', () => {
  it('starts the CDS Hooks service, serves discovery, and exits 0 on SIGTERM', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const child = spawn(process.execPath, [join(ROOT, 'bin/infertility-protocols.js'), 'serve', '--port', String(port), '--log-level', 'silent', '--no-auth'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        resolve(code);
      }),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`serve did not start: ${stderr}`));
        }, 20_000);
        child.stderr.on('data', () => {
          if (stderr.includes('CDS Hooks discovery')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', (code) => {
          reject(new Error(`serve exited with ${code}: ${stderr}`));
        });
      });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const discovery = (await (await fetch(`http://127.0.0.1:${port}/cds-services`)).json()) as { services: { id: string; hook: string }[] };
      expect(discovery.services.map((s) => s.id)).toContain('hysterosalpingography-patient-view');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it.each([
    [['--port', 'eighty', '--no-auth'], /port/],
    [['--port', '18099'], /no trusted issuer is configured/],
  ])('refuses a bad configuration (%s) with an OperationOutcome and exit 2, not a stack trace', async (args, message) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/infertility-protocols.js'), 'serve', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(JSON.parse(stdout).resourceType).toBe('OperationOutcome');
    expect(JSON.parse(stdout).issue[0].diagnostics).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
