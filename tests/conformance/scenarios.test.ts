/**
 * The conformance scenarios: every tests/conformance/features/*.json file, each mirroring a public
 * fixture of a reference implementation (named in its `mirrors`), applied by the real engine in R4
 * and CPG mode and checked for its expected semantics and the structural invariants.
 */
import { describe, expect, it } from 'vitest';
import { isPlanScenario, loadFeatures } from './support/features.ts';
import { runActivityScenario, runPlanScenario } from './support/run-scenario.ts';

const features = loadFeatures();

describe('conformance features', () => {
  it('are present and each names the public fixtures it mirrors', () => {
    expect(features.length).toBeGreaterThan(0);
    for (const { feature } of features) expect(feature.mirrors.every((m) => m.source && m.path)).toBe(true);
  });
});

for (const { file, feature } of features) {
  describe(`${file}: ${feature.feature}`, () => {
    for (const scenario of feature.scenarios) {
      it(scenario.name, () => {
        if (isPlanScenario(scenario)) runPlanScenario(feature, scenario);
        else runActivityScenario(feature, scenario);
      });
    }
  });
}
