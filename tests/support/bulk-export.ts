/**
 * A small Bulk Data export folder for the batch tests (single process and queued): n female
 * patients p0..p<n-1>, one pregnancy test each (every other one negative), the observations
 * written in reverse order (input order must not matter), and one Practitioner no patient uses.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The fixture knowledge's demo protocol, as the batch names a plan. */
export const DEMO_PLAN = { url: 'http://example.org/fhir/PlanDefinition/demo-protocol', version: '1.0.0' };

export function pregnancyTestExport(n: number, options: { extraObservations?: string[]; prefix?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'ip-bulk-'));
  const patients: string[] = [];
  const observations: string[] = [];
  for (let i = 0; i < n; i++) {
    patients.push(JSON.stringify({ resourceType: 'Patient', id: `p${i}`, gender: 'female' }));
    observations.push(
      JSON.stringify({
        resourceType: 'Observation',
        id: `o${i}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '2106-3' }] },
        subject: { reference: `Patient/p${i}` },
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: i % 2 ? '260385009' : '10828004' }] },
      }),
    );
  }
  observations.push(...(options.extraObservations ?? []));
  writeFileSync(join(dir, 'Observation.ndjson'), `${observations.reverse().join('\n')}\n`);
  writeFileSync(join(dir, 'Patient.ndjson'), `${patients.join('\n')}\n`);
  writeFileSync(join(dir, 'Practitioner.ndjson'), `${JSON.stringify({ resourceType: 'Practitioner', id: 'dr' })}\n`);
  return dir;
}
