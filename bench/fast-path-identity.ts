/**
 * Proof that the FHIRPath fast path changes no output byte (issue #18): every clinical test case
 * applied with each of the four protocols in both output modes (the whole result: CarePlan or
 * Bundle, outcome, trace, missing), with the fast path on and with the safety switch (fhirpath.js
 * only); then a synthetic Bulk Data export of 10,000 patients through the `batch` command twice,
 * FHIRPATH_FAST_PATH=1 and =0, every output file compared byte for byte. Exits 1 naming what
 * differs. Takes a few minutes (two 10,000-patient batches), so it is not part of `npm test`
 * (tests/fhirpath compares the evaluations themselves, and the clinical cases with the switch).
 *
 *   npm run bench:identity                 # 10,000 patients
 *   npm run bench:identity -- 2000         # another size
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData } from '../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';
import { generate } from './population.ts';

const PLANS = ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy', 'infertility-work-up-pathway'];
const BATCH_NOW = '2026-11-23T09:00:00+08:00';
const patients = Number(process.argv[2] ?? 10_000);

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Every clinical case x protocol x mode, applied with both knowledges: the keys whose results differ. */
function clinicalCaseDifferences(): { compared: number; different: string[] } {
  const fast = loadKnowledge(undefined, { fastPath: true });
  const slow = loadKnowledge(undefined, { fastPath: false });
  const different: string[] = [];
  let compared = 0;
  for (const folder of PLANS) {
    const dir = join(PROJECT_ROOT, 'tests', 'protocols', folder);
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { now: string; bundle: { entry: { resource: Resource }[] } };
      const resources = spec.bundle.entry.map((e) => e.resource);
      const subject = resources.find((r): r is Patient => r.resourceType === 'Patient')!;
      for (const planId of PLANS) {
        for (const mode of ['r4', 'cpg'] as const) {
          const text = (knowledge: typeof fast) => {
            const plan = knowledge.byId<PlanDefinition>('PlanDefinition', planId)!;
            const result = applyPlanDefinition(plan, { subject, data: buildPatientData(resources) }, { now: spec.now, mode }, knowledge);
            return JSON.stringify({ output: result.carePlan ?? result.bundle, outcome: result.outcome, trace: result.trace, missing: result.missing });
          };
          compared++;
          if (text(fast) !== text(slow)) different.push(`${folder}/${file} ${planId} ${mode}`);
        }
      }
    }
  }
  return { compared, different };
}

/** sha256 of every output file of a `batch` run over `input`, by file name. */
function batchOutputs(input: string, out: string, fastPath: boolean): Map<string, string> {
  const cli = join(PROJECT_ROOT, 'bin', 'infertility-protocols.js');
  const run = spawnSync(process.execPath, [cli, 'batch', '--in', input, '--out', out, '--now', BATCH_NOW, '--workers', '2'], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', FHIRPATH_FAST_PATH: fastPath ? '1' : '0' },
  });
  if (run.status !== 0) throw new Error(`batch (fast path ${fastPath ? 'on' : 'off'}) exited ${run.status}: ${run.stderr}`);
  return new Map(
    readdirSync(out)
      .sort()
      .map((f) => [f, sha(readFileSync(join(out, f)))]),
  );
}

const cases = clinicalCaseDifferences();
console.log(`clinical cases: ${cases.compared} results (case x protocol x mode), ${cases.different.length} differ with the fast path on and off`);
for (const d of cases.different.slice(0, 20)) console.log(`DIFFERS: ${d}`);

const dir = mkdtempSync(join(tmpdir(), 'ip-identity-'));
let batchDifferent: string[];
try {
  const input = join(dir, 'in');
  mkdirSync(input);
  await generate(input, patients);
  const on = batchOutputs(input, join(dir, 'fast'), true);
  const off = batchOutputs(input, join(dir, 'slow'), false);
  const names = [...new Set([...on.keys(), ...off.keys()])].sort();
  batchDifferent = names.filter((n) => on.get(n) !== off.get(n));
  const overall = sha(names.map((n) => `${n} ${on.get(n) ?? '-'}`).join('\n'));
  console.log(
    `batch of ${patients} patients: ${names.length} output files, ${batchDifferent.length} differ with the fast path on and off (sha256 of the outputs ${overall.slice(0, 16)}...)`,
  );
  for (const d of batchDifferent.slice(0, 20)) console.log(`DIFFERS: ${d}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const identical = cases.different.length === 0 && batchDifferent.length === 0;
console.log(identical ? 'outputs byte-identical with the fast path on and off' : 'outputs DIFFER with the fast path on and off');
process.exit(identical ? 0 : 1);
