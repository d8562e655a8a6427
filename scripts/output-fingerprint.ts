/**
 * Fingerprint of everything the engine produces, for refactors that must not change a byte:
 * every clinical test case applied with each of the four protocols in both output modes (the
 * whole result: CarePlan or Bundle, outcome, trace, missing), and a 2,000-patient synthetic Bulk
 * Data export through the `batch` command (every output file). Prints one line per part and an
 * overall hash; `--write <file>` saves the lines, `--check <file>` compares with saved ones and
 * exits 1 naming what differs.
 *
 *   TZ=UTC node scripts/output-fingerprint.ts --write bench/output-fingerprint.txt   # before
 *   TZ=UTC node scripts/output-fingerprint.ts --check bench/output-fingerprint.txt   # after
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { generate } from '../bench/population.ts';
import { applyPlanDefinition, buildPatientData } from '../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';

const PLANS = ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy', 'infertility-work-up-pathway'];
const BATCH_PATIENTS = 2000;
const BATCH_NOW = '2026-11-23T09:00:00+08:00';

const sha = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

function caseFiles(): string[] {
  return PLANS.flatMap((plan) =>
    readdirSync(join(PROJECT_ROOT, 'tests', 'protocols', plan))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => join(PROJECT_ROOT, 'tests', 'protocols', plan, f)),
  );
}

/** `case plan mode sha` for every clinical case x protocol x mode. */
function applyLines(): string[] {
  const knowledge = loadKnowledge();
  const lines: string[] = [];
  for (const file of caseFiles()) {
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { now: string; bundle: { entry: { resource: Resource }[] } };
    const resources = spec.bundle.entry.map((e) => e.resource);
    const subject = resources.find((r): r is Patient => r.resourceType === 'Patient')!;
    const name = file.slice(join(PROJECT_ROOT, 'tests', 'protocols').length + 1);
    for (const planId of PLANS) {
      const plan = knowledge.byId<PlanDefinition>('PlanDefinition', planId)!;
      for (const mode of ['r4', 'cpg'] as const) {
        const result = applyPlanDefinition(plan, { subject, data: buildPatientData(resources) }, { now: spec.now, mode }, knowledge);
        const text = JSON.stringify({ output: result.carePlan ?? result.bundle, outcome: result.outcome, trace: result.trace, missing: result.missing });
        lines.push(`apply ${name} ${planId} ${mode} ${sha(text)}`);
      }
    }
  }
  return lines;
}

/** `batch <file> sha` for every output file of a 2,000-patient batch. */
async function batchLines(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fingerprint-'));
  try {
    const input = join(dir, 'in');
    const output = join(dir, 'out');
    spawnSync('mkdir', ['-p', input]);
    await generate(input, BATCH_PATIENTS);
    const cli = join(PROJECT_ROOT, 'bin', 'infertility-protocols.js');
    const run = spawnSync(process.execPath, [cli, 'batch', '--in', input, '--out', output, '--now', BATCH_NOW, '--workers', '2'], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    if (run.status !== 0) throw new Error(`batch exited ${run.status}: ${run.stderr}`);
    return readdirSync(output)
      .sort()
      .map((f) => `batch ${f} ${sha(readFileSync(join(output, f)))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = [...applyLines(), ...(await batchLines())];
const [flag, file] = process.argv.slice(2);
if (flag === '--write' && file) writeFileSync(file, `${lines.join('\n')}\n`);
console.log(`${lines.length} parts, overall ${sha(lines.join('\n'))}`);
if (flag === '--check' && file) {
  const saved = new Set(readFileSync(file, 'utf8').trim().split('\n'));
  const now = new Set(lines);
  const changed = lines.filter((l) => !saved.has(l));
  const gone = [...saved].filter((l) => !now.has(l));
  if (changed.length || gone.length) {
    for (const l of changed.slice(0, 20)) console.log(`differs: ${l}`);
    for (const l of gone.slice(0, 20)) console.log(`missing: ${l}`);
    console.log(`${changed.length} part(s) differ, ${gone.length} saved part(s) not produced`);
    process.exit(1);
  }
  console.log('identical to the saved fingerprint');
}
