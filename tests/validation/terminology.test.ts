/**
 * The LOCAL codes the profiles demand must exist in the module's CodeSystem (profiles/CodeSystem-*,
 * written by the terminology work); a profile requiring an undefined code could never be met by
 * valid data.
 */
import type { CodeSystem, CodeSystemConcept } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { LOCAL, PROFILE_SPECS } from '../../profiles/_authoring/profile-specs.ts';
import { PROFILES_DIR } from '../../src/validation/validate.ts';

/** LOCAL codes in patterns / fixed values and in the invariant expressions. */
function localCodesUsed(): Set<string> {
  const codes = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.system === LOCAL && typeof o.code === 'string') codes.add(o.code);
      Object.values(o).forEach(walk);
    }
  };
  // `system = LOCAL and code in (...)` and `where(system = LOCAL).all(code in (...))`
  const inExpression = new RegExp(`system = '${LOCAL.replace(/[.]/g, '\\.')}'(?: and |\\)\\.all\\()code in \\(([^)]*)\\)`, 'g');
  for (const spec of PROFILE_SPECS) {
    walk(spec.elements);
    for (const inv of spec.invariants) {
      for (const m of inv.expression.matchAll(inExpression)) for (const c of (m[1] ?? '').matchAll(/'([^']+)'/g)) codes.add(c[1]!);
    }
  }
  return codes;
}

const flatten = (concepts: CodeSystemConcept[] = []): string[] => concepts.flatMap((c) => [c.code, ...flatten(c.concept)]);

describe('LOCAL codes used by the profiles', () => {
  const used = localCodesUsed();

  it('are collected from patterns and invariants', () => {
    for (const code of ['menses-end-date', 'tubal-patency-right', 'filling-defect', 'tl-method-pomeroy', 'tube-segment-isthmic', 'irregular-menstrual-cycle']) {
      expect(used).toContain(code);
    }
  });

  it('are defined in the LOCAL CodeSystem when it is present in profiles/', () => {
    const codeSystem = readArtifacts([PROFILES_DIR])
      .map((a) => a.resource)
      .find((r): r is CodeSystem => r.resourceType === 'CodeSystem' && r.url === LOCAL);
    const defined = new Set(flatten(codeSystem?.concept));
    const undefinedCodes = codeSystem ? [...used].filter((c) => !defined.has(c)).sort() : [];
    expect(undefinedCodes).toEqual([]);
  });
});
