import { describe, expect, it } from 'vitest';
import type { ActivityDefinition, CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { KnowledgeBase, parseCanonical } from '../../src/knowledge/knowledge-base.ts';

const ad = (version: string, id = `ad-${version}`): ActivityDefinition => ({ resourceType: 'ActivityDefinition', id, url: 'urn:x:ad', version, status: 'active' });

describe('KnowledgeBase', () => {
  it('resolves url|version exactly and a bare url to the newest version (numeric order)', () => {
    const kb = new KnowledgeBase([ad('1.9.0'), ad('1.10.0'), ad('1.2.0')]);
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
    const kb = new KnowledgeBase([cs, inner, outer]);
    expect([...kb.valueSetKeys('urn:vs:outer')!].sort()).toEqual(['http://snomed.info/sct|1', 'urn:cs|a', 'urn:cs|a1', 'urn:cs|b']);
  });

  it('refuses to guess a value set defined by filters', () => {
    const vs: ValueSet = {
      resourceType: 'ValueSet',
      url: 'urn:vs:f',
      status: 'active',
      compose: { include: [{ system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '1' }] }] },
    };
    expect(new KnowledgeBase([vs]).valueSetKeys('urn:vs:f')).toBeUndefined();
  });
});
