/**
 * FHIRPath fast path vs fhirpath.js on the expressions the protocols evaluate: every evaluation of
 * an apply (each plan, every clinical test case and a synthetic population) is recorded with its
 * focus and variables, then replayed through each path; times are best of BENCH_REPEAT rounds in
 * the same process. Every replayed result is compared (disagreements are counted, and listed if
 * any). Figures only, no assertions; the last line is for scripts:
 *
 *   fast path: N.Nx fhirpath.js over K expressions x M inputs, D disagreements
 *
 *   npm run bench:fhirpath                      # clinical cases + 1,000 synthetic patients
 *   BENCH_PATIENTS=5000 npm run bench:fhirpath
 */
import { BAIL, compileFastPath } from '../src/fhirpath/fast-path/index.ts';
import { compileFhirPath, type CompiledExpression } from '../src/fhirpath/fhirpath-engine.ts';
import { loadKnowledge } from '../src/knowledge/load-artifacts.ts';
import { captureApply, clinicalCases, compareEvaluations, type CapturedEvaluation } from '../tests/fhirpath/capture-evaluations.ts';
import { patientRecord } from './population.ts';

const NOW = '2026-11-23T09:00:00+08:00';
const patients = Number(process.env['BENCH_PATIENTS'] ?? 1000);
const repeat = Number(process.env['BENCH_REPEAT'] ?? 5);

const knowledge = loadKnowledge(undefined, { fastPath: false });
const evaluations: CapturedEvaluation[] = [];
for (const c of clinicalCases()) evaluations.push(...captureApply(knowledge, c.resources, c.now));
const inputs = clinicalCases().length + patients;
for (let i = 0; i < patients; i++) evaluations.push(...captureApply(knowledge, patientRecord(i), NOW));

const texts = [...new Set(evaluations.map((e) => e.text))];
const reference = new Map<string, CompiledExpression>(texts.map((t) => [t, compileFhirPath(t)]));
const fast = new Map<string, CompiledExpression>(
  texts.map((t) => {
    const ref = reference.get(t)!;
    try {
      const compiled = compileFastPath(t);
      return [
        t,
        (focus: unknown, vars: Record<string, unknown>) => {
          const r = compiled(focus, vars);
          return r === BAIL ? ref(focus, vars) : r;
        },
      ];
    } catch {
      return [t, ref];
    }
  }),
);

function time(table: Map<string, CompiledExpression>): number {
  const started = performance.now();
  for (const { text, focus, vars } of evaluations) {
    try {
      table.get(text)!(focus, vars);
    } catch {
      // an evaluation error costs what it costs on either path
    }
  }
  return performance.now() - started;
}

// Warm-up, then best of `repeat` rounds each, interleaved so both see the same machine.
time(reference);
time(fast);
let refMs = Infinity;
let fastMs = Infinity;
for (let r = 0; r < repeat; r++) {
  refMs = Math.min(refMs, time(reference));
  fastMs = Math.min(fastMs, time(fast));
}
const comparison = compareEvaluations(evaluations);
const perInput = (ms: number) => ((ms / inputs) * 1000).toFixed(1);
console.log(
  `fhirpath bench: ${evaluations.length} evaluations of ${texts.length} distinct expressions over ${inputs} inputs (${inputs - patients} clinical cases + ${patients} synthetic patients, all four plans each), best of ${repeat}`,
);
console.log(`fhirpath.js only: ${refMs.toFixed(0)} ms (${perInput(refMs)} µs per input, ${((refMs / evaluations.length) * 1000).toFixed(2)} µs per evaluation)`);
console.log(`fast path:        ${fastMs.toFixed(0)} ms (${perInput(fastMs)} µs per input, ${((fastMs / evaluations.length) * 1000).toFixed(2)} µs per evaluation)`);
console.log(
  `fast path evaluations: ${comparison.same} equal to fhirpath.js, ${comparison.handedBack} handed back to fhirpath.js, ${comparison.unsupported} on expressions outside the subset`,
);
for (const d of comparison.disagreements.slice(0, 5)) console.log(`DISAGREES: ${d.text} -> fhirpath.js ${JSON.stringify(d.reference)}, fast path ${JSON.stringify(d.fast)}`);
console.log(`fast path: ${(refMs / fastMs).toFixed(1)}x fhirpath.js over ${texts.length} expressions x ${inputs} inputs, ${comparison.disagreements.length} disagreements`);
