import { describe, expect, it } from 'vitest';
import type { ActivityDefinition, CodeSystem, PlanDefinition, ValueSet } from '@medplum/fhirtypes';
import { FhirPathSyntaxError } from '../../src/fhirpath/fhirpath-engine.ts';
import { type CompiledKnowledge, parseCanonical, compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';

const ad = (version: string, id = `ad-${version}`): ActivityDefinition => ({ resourceType: 'ActivityDefinition', id, url: 'urn:x:ad', version, status: 'active' });

describe('CompiledKnowledge', () => {
  it('resolves url|version exactly and a bare url to the newest version (numeric order)', () => {
    const kb = compileKnowledge([ad('1.9.0'), ad('1.10.0'), ad('1.2.0')]);
    expect(kb.resolve('urn:x:ad|1.2.0')?.id).toBe('ad-1.2.0');
    expect(kb.resolve('urn:x:ad')?.id).toBe('ad-1.10.0');
    expect(kb.resolve('urn:x:ad|9')).toBeUndefined();
    expect(kb.resolve('urn:x:ad', 'PlanDefinition')).toBeUndefined();
  });

  it('parses canonicals with version and fragment', () => {
    expect(parseCanonical('http://a/b|1.0#frag')).toEqual({ url: 'http://a/b', version: '1.0', fragment: 'frag' });
  });

  it('expands enumerated value sets, nested value sets, whole code systems and exclusions', () => {
    const cs: CodeSystem = { resourceType: 'CodeSystem', url: 'urn:cs', status: 'active', content: 'complete', concept: [{ code: 'a', concept: [{ code: 'a1' }] }, { code: 'b' }] };
    const inner: ValueSet = {
      resourceType: 'ValueSet',
      url: 'urn:vs:inner',
      status: 'active',
      compose: { include: [{ system: 'http://snomed.info/sct', concept: [{ code: '1' }, { code: '2' }] }] },
    };
    const outer: ValueSet = {
      resourceType: 'ValueSet',
      url: 'urn:vs:outer',
      status: 'active',
      compose: { include: [{ valueSet: ['urn:vs:inner'] }, { system: 'urn:cs' }], exclude: [{ system: 'http://snomed.info/sct', concept: [{ code: '2' }] }] },
    };
    const kb = compileKnowledge([cs, inner, outer]);
    expect([...kb.valueSetKeys('urn:vs:outer')!].sort()).toEqual(['http://snomed.info/sct|1', 'urn:cs|a', 'urn:cs|a1', 'urn:cs|b']);
  });

  it('refuses to guess a value set defined by filters', () => {
    const vs: ValueSet = {
      resourceType: 'ValueSet',
      url: 'urn:vs:f',
      status: 'active',
      compose: { include: [{ system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '1' }] }] },
    };
    expect(compileKnowledge([vs]).valueSetKeys('urn:vs:f')).toBeUndefined();
  });
});

describe('compileKnowledge', () => {
  const fp = (expression: string) => ({ language: 'text/fhirpath' as const, expression });
  const plan = (id: string, condition: string): PlanDefinition => ({
    resourceType: 'PlanDefinition',
    id,
    url: `urn:plan:${id}`,
    status: 'draft',
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/variable', valueExpression: { ...fp('%patient.gender'), name: 'g' } }],
    action: [{ id: 'a', condition: [{ kind: 'applicability', expression: fp(condition) }], dynamicValue: [{ path: 'title', expression: fp("'t'") }] }],
  });

  it('compiles every FHIRPath expression of every artifact up front, once per text', () => {
    const knowledge = compileKnowledge([plan('one', "%g = 'female'"), plan('two', "%g = 'female'")]);
    // %patient.gender, %g = 'female' and 't': three distinct texts, all compiled before any apply.
    expect(knowledge.compiledExpressionCount).toBe(3);
    expect(knowledge.expression("%g = 'female'")).toBe(knowledge.expression("%g = 'female'"));
    expect(knowledge.findings).toEqual([]);
  });

  it('reports a syntax error as a compile finding (where it is), and throws it where the expression is used', () => {
    const knowledge = compileKnowledge([plan('bad', '%g = (')]);
    expect(knowledge.findings).toHaveLength(1);
    expect(knowledge.findings[0]).toMatchObject({ resource: 'PlanDefinition/bad', path: 'action[0].condition[0].expression' });
    expect(() => knowledge.expression('%g = (')).toThrow(FhirPathSyntaxError);
  });

  it('an expression from outside the knowledge is compiled for the call and not kept: the knowledge never grows', () => {
    const knowledge = compileKnowledge([plan('one', 'true')]);
    const before = knowledge.compiledExpressionCount;
    expect(knowledge.expression('1 + 2')({}, {})).toEqual([3]);
    expect(knowledge.compiledExpressionCount).toBe(before);
  });

  it('with() derives a new knowledge sharing what was compiled; the original is unchanged', () => {
    const base = compileKnowledge([plan('one', 'true')]);
    const derived = base.with([plan('two', 'false')]);
    expect(derived.resolve('urn:plan:two')?.id).toBe('two');
    expect(base.resolve('urn:plan:two')).toBeUndefined();
    expect(derived.expression('true')).toBe(base.expression('true'));
    expect(derived.compiledExpressionCount).toBe(base.compiledExpressionCount + 1);
  });

  it('computes data requirements per plan and code-filter keys at compile (a new ValueSet recompiles them)', () => {
    const vs = (code: string): ValueSet => ({ resourceType: 'ValueSet', url: 'urn:vs', status: 'active', compose: { include: [{ system: 'urn:s', concept: [{ code }] }] } });
    const filter = { path: 'code', valueSet: 'urn:vs' };
    const p: PlanDefinition = { resourceType: 'PlanDefinition', url: 'urn:p', status: 'draft', action: [{ input: [{ type: 'Observation', codeFilter: [filter] }] }] };
    const first = compileKnowledge([p, vs('a')]);
    expect(first.dataRequirements(p)).toEqual([{ type: 'Observation', codeFilter: [filter] }]);
    expect([...(first.codeFilterKeys(filter) ?? [])]).toEqual(['urn:s|a']);
    const second = first.with([vs('b')]);
    expect([...(second.codeFilterKeys(filter) ?? [])]).toEqual(['urn:s|b']);
    expect([...(first.codeFilterKeys(filter) ?? [])]).toEqual(['urn:s|a']);
  });
});
