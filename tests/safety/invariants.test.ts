/**
 * Safety invariants as property-based tests (issue #11 item 3; clinical-rules.md SAFE-1..SAFE-10).
 * Each PlanDefinition (tubal-reanastomosis, hysterosalpingography, infertility-hysteroscopy,
 * infertility-work-up-pathway) is applied to (a) the patient of every clinical test case
 * (tests/protocols/<plan>/*.json) and (b) a generated population (tests/safety/population.ts,
 * fast-check, fixed seed), and every invariant is checked on the results. Applies are memoised:
 * the invariants share one apply per (plan, input); the generated population is the same for every
 * invariant (same seed, same arbitrary). A failure prints the (shrunk) generated case, the
 * patient's record, `now` and the offending output.
 *
 * Besides the ten invariants of issue #11 item 3 (each `it` names its rule ids) it checks three
 * more sentences of the binding rules: SAFE-2 "pregnancy excluded by a recent negative", SAFE-4
 * "not fit / serious systemic disease holds every procedure" and SAFE-10 "no procedure dated while
 * she is bleeding", and that the population reaches every procedure (not vacuous).
 *
 * tests/safety/REPORT-baseline.md: what the code before the #11 protocol fixes broke, with a shrunk
 * counterexample each; `TZ=UTC node tests/safety/report.ts [out.md]` writes the same report for the
 * code it runs in. Runtime ~15-25 s (400 generated patients x 4 plans, 5-6 applies each, memoised).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbScenario, caseScenarios, coverage, generatedScenario, NUM_RUNS, SEED } from './harness.ts';
import { formatFailure, INVARIANTS } from './invariants.ts';

const cases = caseScenarios();

describe('safety invariants (SAFE-1..SAFE-10)', () => {
  it('harness: the generated population reaches every procedure (the invariants are not vacuous)', () => {
    const c = coverage(fc.sample(arbScenario, { seed: SEED, numRuns: NUM_RUNS }).map(generatedScenario));
    for (const kind of ['reversal', 'HSG', 'HyCoSy', 'hysteroscopy', 'IVF referral']) {
      expect(c[`${kind} proposed`] ?? 0, `generated scenarios where some plan proposes ${kind}: ${JSON.stringify(c)}`).toBeGreaterThanOrEqual(1);
    }
  });

  for (const inv of INVARIANTS) {
    it(inv.title, () => {
      // (a) every clinical test case, every plan
      const failures = cases.map((s) => ({ s, v: inv.check(s) })).filter((f) => f.v.length > 0);
      // (b) the generated population (fast-check shrinks a failure to a minimal case)
      const run = fc.check(
        fc.property(arbScenario, (g) => {
          const s = generatedScenario(g);
          const v = inv.check(s);
          if (v.length > 0) throw new Error(`\n${formatFailure(s, v)}\n`);
        }),
        { seed: SEED, numRuns: NUM_RUNS },
      );
      const messages: string[] = [];
      if (failures.length > 0) {
        messages.push(
          `${failures.length} of ${cases.length} clinical test cases break it: ${failures
            .map((f) => f.s.label)
            .slice(0, 12)
            .join(', ')}${failures.length > 12 ? ', ...' : ''}\n\n` +
            failures
              .slice(0, 3)
              .map((f) => formatFailure(f.s, f.v, { max: 4 }))
              .join('\n\n'),
        );
      }
      if (run.failed) {
        const error = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
        messages.push(`generated population: ${fc.defaultReportMessage(run) ?? 'failed'}\nThe shrunk counterexample:${error}`);
      }
      if (messages.length > 0) throw new Error(`${inv.title}\n\n${messages.join('\n\n')}`);
      expect(run.numRuns).toBe(NUM_RUNS);
    });
  }
});
