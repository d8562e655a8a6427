import { describe, expect, it } from 'vitest';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { buildPatientData } from '../../src/data/patient-data.ts';

const obs = (id: string, ...codes: [string, string][]): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: codes.map(([system, code]) => ({ system, code })) },
});

describe('patient data index', () => {
  const resources: Resource[] = [
    { resourceType: 'Patient', id: 'p' },
    obs('o1', ['http://loinc.org', '1'], ['http://snomed.info/sct', 'x']),
    obs('o2', ['http://loinc.org', '2']),
    obs('o3', ['http://loinc.org', '1']),
    { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://loinc.org', code: '1' }] } },
  ];
  const data = buildPatientData(resources);

  it('indexes by type and by type + system|code, keeping record order', () => {
    expect(data.byType('Observation').map((r) => r.id)).toEqual(['o1', 'o2', 'o3']);
    expect(data.byCodes('Observation', ['http://loinc.org|2', 'http://loinc.org|1']).map((r) => r.id)).toEqual(['o1', 'o2', 'o3']);
    expect(data.byCodes('Observation', ['http://snomed.info/sct|x', 'http://loinc.org|1']).map((r) => r.id)).toEqual(['o1', 'o3']);
    expect(data.byCodes('Condition', ['http://loinc.org|1']).map((r) => r.id)).toEqual(['c1']);
    expect(data.byType('AllergyIntolerance')).toEqual([]);
  });

  it('finds by reference', () => {
    expect(data.byReference('Observation/o2')?.id).toBe('o2');
    expect(data.byReference('Observation/none')).toBeUndefined();
  });
});
