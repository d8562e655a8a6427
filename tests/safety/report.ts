/**
 * Writes a report of the safety invariants against the code it runs in: per invariant, whether it
 * holds, how many clinical test cases break it, and the shrunk generated counterexample (the
 * patient's record, `now` and the offending output). Same population as the test (seed, numRuns).
 *
 *   TZ=UTC node tests/safety/report.ts [out.md] [title]
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { arbScenario, caseScenarios, coverage, DATA_BOUNDARY, generatedScenario, NUM_RUNS, SEED, stats } from './harness.ts';
import { formatFailure, INVARIANTS, type Violation } from './invariants.ts';
import type { GenScenario, Scenario } from './harness.ts';
import type { Invariant } from './invariants.ts';

/** Drops every record resource (the Patient excepted) whose removal keeps the invariant broken, until none can go. */
function minimise(s: Scenario, inv: Invariant): Scenario {
  let current = s;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = current.record.length - 1; i >= 0; i--) {
      if (current.record[i]!.resourceType === 'Patient') continue;
      const candidate = { ...current, record: current.record.filter((_, j) => j !== i) };
      if (inv.check(candidate).length > 0) {
        current = candidate;
        changed = true;
      }
    }
  }
  return current;
}

const out = process.argv[2];
const title = process.argv[3] ?? 'Safety invariants';
const started = performance.now();
const commit = (() => {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- src plandefinitions profiles', { encoding: 'utf8' }).trim();
    return `${head}${dirty ? ' + uncommitted changes in src/plandefinitions/profiles' : ''}`;
  } catch {
    return '(unknown)';
  }
})();

const cases = caseScenarios();
const lines: string[] = [
  `# ${title}`,
  '',
  `Code: ${commit}. Data boundary: ${DATA_BOUNDARY}. Population: fast-check seed ${SEED}, ${NUM_RUNS} generated patients,`,
  `each applied to the four PlanDefinitions, plus the ${cases.length} clinical test cases (each applied to all four plans).`,
  'Produced by `TZ=UTC node tests/safety/report.ts`; the same checks run in `tests/safety/invariants.test.ts`.',
  '',
];

const summary: string[] = ['| invariant | holds? | clinical test cases breaking it | generated population |', '|---|---|---|---|'];
const details: string[] = [];

for (const inv of INVARIANTS) {
  const failures = cases.map((s) => ({ s, v: inv.check(s) })).filter((f) => f.v.length > 0);
  let shrunk: { g: GenScenario; v: Violation[] } | undefined;
  const run = fc.check(
    fc.property(arbScenario, (g) => {
      const v = inv.check(generatedScenario(g));
      if (v.length > 0) throw new Error(`${v.length} violation(s)`);
    }),
    { seed: SEED, numRuns: NUM_RUNS },
  );
  if (run.failed && run.counterexample) {
    const g = run.counterexample[0];
    shrunk = { g, v: inv.check(generatedScenario(g)) };
  }
  const holds = failures.length === 0 && !run.failed;
  summary.push(
    `| ${inv.title} | ${holds ? 'holds' : '**BROKEN**'} | ${failures.length}/${cases.length} | ${run.failed ? `fails (first after ${run.numRuns} run(s), shrunk ${run.numShrinks}x)` : `${run.numRuns} runs pass`} |`,
  );
  details.push(`## ${inv.title}`, '', holds ? 'Holds.' : '**Broken.**', '');
  if (failures.length > 0) {
    details.push(
      `Clinical test cases breaking it (${failures.length}): ${failures
        .map((f) => `\`${f.s.label}\``)
        .slice(0, 8)
        .join(', ')}${failures.length > 8 ? ', ...' : ''}`,
      '',
    );
  }
  if (shrunk) {
    details.push(
      'Shrunk generated counterexample (what fast-check generated):',
      '',
      '```json',
      JSON.stringify(shrunk.g.gen),
      '```',
      '',
      ...(inv.key === 'one-patient-data' ? ['Second patient in the input:', '', '```json', JSON.stringify(shrunk.g.other), '```', ''] : []),
      ...(inv.key === 'void-records-change-nothing' ? [`"Does not count" copy: record #${shrunk.g.eie.index} (modulo the copyable ones), kind ${shrunk.g.eie.kind}.`, ''] : []),
      'Record (reduced: every resource whose removal keeps it broken removed), `now`, and the offending output (first plan that breaks it):',
      '',
      '```',
      ((m) => formatFailure(m, inv.check(m), { max: 3, plans: 1, planLines: 14 }))(minimise(generatedScenario(shrunk.g), inv)),
      '```',
      '',
    );
  } else if (failures.length > 0) {
    const f = failures.sort((a, b) => JSON.stringify(a.s.record).length - JSON.stringify(b.s.record).length)[0]!;
    const m = minimise(f.s, inv);
    details.push(
      'The generated population does not break it; smallest clinical test case that does (record reduced):',
      '',
      '```',
      formatFailure(m, inv.check(m), { max: 3, plans: 1, planLines: 14 }),
      '```',
      '',
    );
  }
}

const cov = coverage(fc.sample(arbScenario, { seed: SEED, numRuns: NUM_RUNS }).map(generatedScenario));
lines.push(...summary, '', `Generated population coverage (scenarios where some plan proposes ...): \`${JSON.stringify(cov)}\``, '');
lines.push(`${stats().applies} applies, ${Math.round((performance.now() - started) / 1000)} s.`, '', ...details);
const text = `${lines.join('\n')}\n`;
if (out) writeFileSync(out, text);
else process.stdout.write(text);
