/** The real bin, spawned as a child process, for the cases that depend on the process itself. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, KNOWLEDGE, NOW, spawnCli } from '../support/cli.ts';

describe('infertility-protocols (spawned)', () => {
  it('--help lists every command, exit 0', async () => {
    const run = await spawnCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['lint', 'validate', 'apply', 'load', 'batch', 'package', 'serve']) expect(run.stdout).toMatch(new RegExp(`\\n  ${command}`));
  });

  it('--version prints the version in package.json, exit 0', async () => {
    const run = await spawnCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  });

  it.each(['lint', 'validate', 'apply', 'load', 'batch', 'package', 'serve'])('%s --help, exit 0', async (command) => {
    const run = await spawnCli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: infertility-protocols /);
  });

  it('apply from stdin prints the CarePlan, exit 0', async () => {
    const data = readFileSync(join(FIXTURES, 'patients/negative-test.json'), 'utf8');
    const run = await spawnCli(['apply', '--plan', 'demo-protocol', '--knowledge', KNOWLEDGE, '--now', NOW, '--data', '-'], data);
    expect(run.code).toBe(0);
    expect(run.json.resourceType).toBe('CarePlan');
  });

  it('an unknown option -> OperationOutcome on stdout, exit 2, no stack trace', async () => {
    const run = await spawnCli(['apply', '--plan', 'x', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: "unknown option '--bogus'" }] });
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown command and no command -> exit 2', async () => {
    expect((await spawnCli(['frobnicate'])).code).toBe(2);
    expect((await spawnCli([])).code).toBe(2);
  });

  it('lint findings -> exit 1 with the OperationOutcome naming file and path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ip-e2e-'));
    const plan = JSON.parse(readFileSync(join(KNOWLEDGE, 'plandefinition-demo.json'), 'utf8'));
    plan.action[0].condition[0].expression.expression = '%pregnancyTests.valueQuantity.foo.exists()';
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const run = await spawnCli(['lint', dir, '--knowledge', KNOWLEDGE]);
    expect(run.code).toBe(1);
    expect(run.json.issue[0].expression[0]).toMatch(/plan\.json#PlanDefinition\.action\[0\]\.condition\[0\]\.expression\.expression$/);
    expect(run.json.issue[0].diagnostics).toMatch(/Quantity has no element 'foo'/);
  });
});
