/**
 * The synthetic Bulk Data population the benchmarks, the fingerprint and some tests share: patient
 * i's record (~50 resources) and an export of N patients, one NDJSON file per resource type. A
 * module of its own, with no top-level await: bench/batch.ts awaits its run at top level, so a
 * module it imports back (bench/queue.ts) must not need batch.ts itself (an import cycle through
 * a pending top-level await never settles).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const LOCAL = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';

/** Patient i's record, ~50 resources: 1 Patient, 34 Observations, 8 Conditions, 7 Procedures. */
export function patientRecord(i: number): Resource[] {
  const id = `p${i}`;
  const subject = { reference: `Patient/${id}` };
  const year = 1980 + (i % 20);
  const day = 1 + (i % 20);
  const out: Resource[] = [{ resourceType: 'Patient', id, gender: 'female', birthDate: `${year}-0${1 + (i % 9)}-1${i % 10}` }];
  const date = (d: number) => `2026-11-${String(d).padStart(2, '0')}`;
  out.push({
    resourceType: 'Observation',
    id: `${id}-lmp`,
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8665-2' }] },
    subject,
    effectiveDateTime: date(day),
    valueDateTime: date(day),
  });
  out.push({
    resourceType: 'Observation',
    id: `${id}-menses-end`,
    status: 'final',
    code: { coding: [{ system: LOCAL, code: 'menses-end-date' }] },
    subject,
    effectiveDateTime: date(day + 4),
    valueDateTime: date(day + 4),
  });
  out.push({
    resourceType: 'Observation',
    id: `${id}-hcg`,
    status: 'final',
    code: { coding: [{ system: LOINC, code: '2106-3' }] },
    subject,
    effectiveDateTime: '2026-11-20',
    valueCodeableConcept: { coding: [{ system: SCT, code: i % 7 ? '260385009' : '10828004' }] },
  });
  out.push({
    resourceType: 'Observation',
    id: `${id}-regularity`,
    status: 'final',
    code: { coding: [{ system: LOCAL, code: 'menstrual-regularity' }] },
    subject,
    valueCodeableConcept: { coding: [{ system: SCT, code: '78456001' }] },
  });
  for (let k = 0; k < 30; k++) {
    out.push({
      resourceType: 'Observation',
      id: `${id}-vs${k}`,
      status: 'final',
      code: { coding: [{ system: LOINC, code: k % 2 ? '8867-4' : '8480-6' }] },
      subject,
      effectiveDateTime: `2026-${String(1 + (k % 11)).padStart(2, '0')}-15`,
      valueQuantity: { value: 60 + k, unit: k % 2 ? '/min' : 'mm[Hg]', system: 'http://unitsofmeasure.org' },
    });
  }
  for (let k = 0; k < 8; k++) {
    const code = k === 0 ? (i % 3 ? '1148927006' : '8619003') : String(40000000 + k);
    out.push({
      resourceType: 'Condition',
      id: `${id}-c${k}`,
      subject,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: SCT, code }] },
    });
  }
  for (let k = 0; k < 7; k++) {
    const code = k === 0 && i % 4 === 0 ? '287664005' : String(50000000 + k);
    out.push({
      resourceType: 'Procedure',
      id: `${id}-pr${k}`,
      status: 'completed',
      subject,
      code: { coding: [{ system: SCT, code }] },
      performedDateTime: `20${10 + (k % 10)}-06-01`,
    });
  }
  return out;
}

function write(stream: WriteStream, text: string): Promise<void> | void {
  if (!stream.write(text))
    return new Promise((r) =>
      stream.once('drain', () => {
        r();
      }),
    );
}

/** One NDJSON file per resource type, as a Bulk Data export has them. */
export async function generate(dir: string, patients: number): Promise<void> {
  const files = new Map<string, WriteStream>();
  for (let i = 0; i < patients; i++) {
    for (const resource of patientRecord(i)) {
      let file = files.get(resource.resourceType);
      if (!file) files.set(resource.resourceType, (file = createWriteStream(join(dir, `${resource.resourceType}.ndjson`))));
      await write(file, `${JSON.stringify(resource)}\n`);
    }
  }
  await Promise.all(
    [...files.values()].map(
      (s) =>
        new Promise<void>((r) =>
          s.end(() => {
            r();
          }),
        ),
    ),
  );
}
