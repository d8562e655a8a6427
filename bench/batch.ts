/**
 * Batch throughput and memory: generates a synthetic Bulk Data export (~50 resources per patient),
 * runs `runBatch` with 1 worker and with every core, and prints patients/s, peak RSS and the
 * scaling ratio. Figures only, no assertions.
 *
 *   npm run bench:batch                         # 10,000 and 100,000 patients (large: ~1 GB of NDJSON)
 *   npm run bench:batch -- 2000,20000           # other sizes
 *   BENCH_PATIENTS=1000 npm run bench:batch     # same, by environment
 *   BENCH_KNOWLEDGE=tests/support/fixtures/knowledge npm run bench:batch   # other artifacts
 *
 * Each measurement runs in a fresh child process, so its peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, readdirSync, type WriteStream } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBatch } from '../src/batch/run-batch.ts';
import { selectPlans } from '../src/cli/commands/batch.ts';
import { DEFAULT_ARTIFACT_DIRS } from '../src/knowledge/load-artifacts.ts';

const NOW = '2026-11-23T09:00:00+08:00';
const SCRIPT = fileURLToPath(import.meta.url);

function knowledgePaths(): string[] {
  return process.env['BENCH_KNOWLEDGE'] ? process.env['BENCH_KNOWLEDGE'].split(',').map((p) => resolve(p)) : DEFAULT_ARTIFACT_DIRS;
}

// ---- synthetic export -----------------------------------------------------------------------------

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const LOCAL = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';

function write(stream: WriteStream, value: unknown): Promise<void> | void {
  if (!stream.write(`${JSON.stringify(value)}\n`)) return new Promise((r) => stream.once('drain', () => r()));
}

/** ~50 resources per patient: 1 Patient, 34 Observations, 8 Conditions, 7 Procedures. */
export async function generate(dir: string, patients: number): Promise<void> {
  const files = {
    Patient: createWriteStream(join(dir, 'Patient.ndjson')),
    Observation: createWriteStream(join(dir, 'Observation.ndjson')),
    Condition: createWriteStream(join(dir, 'Condition.ndjson')),
    Procedure: createWriteStream(join(dir, 'Procedure.ndjson')),
  };
  for (let i = 0; i < patients; i++) {
    const id = `p${i}`;
    const subject = { reference: `Patient/${id}` };
    const year = 1980 + (i % 20);
    await write(files.Patient, { resourceType: 'Patient', id, gender: 'female', birthDate: `${year}-0${1 + (i % 9)}-1${i % 10}` });
    const day = 1 + (i % 20);
    await write(files.Observation, { resourceType: 'Observation', id: `${id}-lmp`, status: 'final', code: { coding: [{ system: LOINC, code: '8665-2' }] }, subject, effectiveDateTime: `2026-11-${String(day).padStart(2, '0')}`, valueDateTime: `2026-11-${String(day).padStart(2, '0')}` });
    await write(files.Observation, { resourceType: 'Observation', id: `${id}-menses-end`, status: 'final', code: { coding: [{ system: LOCAL, code: 'menses-end-date' }] }, subject, effectiveDateTime: `2026-11-${String(day + 4).padStart(2, '0')}`, valueDateTime: `2026-11-${String(day + 4).padStart(2, '0')}` });
    await write(files.Observation, { resourceType: 'Observation', id: `${id}-hcg`, status: 'final', code: { coding: [{ system: LOINC, code: '2106-3' }] }, subject, effectiveDateTime: '2026-11-20', valueCodeableConcept: { coding: [{ system: SCT, code: i % 7 ? '260385009' : '10828004' }] } });
    await write(files.Observation, { resourceType: 'Observation', id: `${id}-regularity`, status: 'final', code: { coding: [{ system: LOCAL, code: 'menstrual-regularity' }] }, subject, valueCodeableConcept: { coding: [{ system: SCT, code: '78456001' }] } });
    for (let k = 0; k < 30; k++) {
      await write(files.Observation, { resourceType: 'Observation', id: `${id}-vs${k}`, status: 'final', code: { coding: [{ system: LOINC, code: k % 2 ? '8867-4' : '8480-6' }] }, subject, effectiveDateTime: `2026-${String(1 + (k % 11)).padStart(2, '0')}-15`, valueQuantity: { value: 60 + k, unit: k % 2 ? '/min' : 'mm[Hg]', system: 'http://unitsofmeasure.org' } });
    }
    for (let k = 0; k < 8; k++) {
      const code = k === 0 ? (i % 3 ? '1148927006' : '8619003') : String(40000000 + k);
      await write(files.Condition, { resourceType: 'Condition', id: `${id}-c${k}`, subject, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: SCT, code }] } });
    }
    for (let k = 0; k < 7; k++) {
      const code = k === 0 && i % 4 === 0 ? '287664005' : String(50000000 + k);
      await write(files.Procedure, { resourceType: 'Procedure', id: `${id}-pr${k}`, status: 'completed', subject, code: { coding: [{ system: SCT, code }] }, performedDateTime: `20${10 + (k % 10)}-06-01` });
    }
  }
  await Promise.all(Object.values(files).map((s) => new Promise<void>((r) => s.end(() => r()))));
}

// ---- one measurement (child process) ---------------------------------------------------------------

async function child(inDir: string, workers: number): Promise<void> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const out = mkdtempSync(join(tmpdir(), 'ip-bench-out-'));
  // The plans `batch` applies by default: every top-level plan (nested ones run inside them).
  const plans = selectPlans(knowledgePaths(), undefined).map((p) => ({ url: p.url!, ...(p.version ? { version: p.version } : {}) }));
  const started = process.hrtime.bigint();
  const summary = await runBatch({ inDir, outDir: out, knowledgePaths: knowledgePaths(), planRefs: plans, now: NOW, mode: 'r4', workers });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  rmSync(out, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ seconds, peakRss: peak, patients: summary.patients, plans: plans.length, failures: summary.failures, shards: summary.shards }));
}

interface Measurement {
  seconds: number;
  peakRss: number;
  patients: number;
  plans: number;
  failures: number;
  shards: number;
}

function measure(inDir: string, workers: number): Measurement {
  const run = spawnSync(process.execPath, [SCRIPT, '--child', inDir, String(workers)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`bench child failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Measurement;
}

async function main(): Promise<void> {
  const arg = process.argv.slice(2).find((a) => /^\d/.test(a)) ?? process.env['BENCH_PATIENTS'] ?? '10000,100000';
  const sizes = arg.split(',').map(Number).filter((n) => n > 0);
  const cores = availableParallelism();
  console.log(`batch bench: ${cores} core(s), Node ${process.version}, knowledge ${knowledgePaths().join(', ')}`);
  console.log('patients | workers | plans | seconds | patients/s | patients/s/core | peak RSS MiB | input MiB | shards');
  for (const patients of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'ip-bench-in-'));
    try {
      const genStart = Date.now();
      await generate(dir, patients);
      const inputMb = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0) / 2 ** 20;
      console.error(`generated ${patients} patients (${inputMb.toFixed(0)} MiB) in ${((Date.now() - genStart) / 1000).toFixed(1)} s`);
      const results: Record<number, Measurement> = {};
      for (const workers of [...new Set([1, cores])]) {
        const m = measure(dir, workers);
        results[workers] = m;
        const rate = m.patients / m.seconds;
        console.log(
          `${patients} | ${workers} | ${m.plans} | ${m.seconds.toFixed(2)} | ${rate.toFixed(0)} | ${(rate / workers).toFixed(0)} | ${(m.peakRss / 2 ** 20).toFixed(0)} | ${inputMb.toFixed(0)} | ${m.shards}`,
        );
      }
      if (cores > 1) {
        const ratio = results[1]!.seconds / results[cores]!.seconds;
        console.log(`scaling ${patients} patients: ${cores} workers are ${ratio.toFixed(2)}x one worker (ideal ${cores}x)`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (resolve(process.argv[1] ?? '') === SCRIPT) {
  if (process.argv[2] === '--child') await child(process.argv[3]!, Number(process.argv[4]));
  else await main();
}
