/**
 * Fetches one patient's record from a FHIR server: `Patient/{id}/$everything` when the server's
 * CapabilityStatement advertises it, else one search per resource type the plan's data
 * requirements name, through that type's link to the patient compartment (`patient`, `subject`...).
 * The searches run concurrently. All pages are followed. Code filters are applied later by the engine, not by the search: `code:in`
 * with a ValueSet is not supported by every server, and over-fetching one patient is cheap.
 * `$everything` may also return other patients' resources (linked records, group members...): the
 * caller passes the record through selectPatientCompartment (data/patient-compartment.ts, SAFE-1)
 * like any other input, so what the server sends is never read unchecked.
 */
import type { DataRequirement, Patient, Resource } from '@medplum/fhirtypes';
import { patientCompartmentParams } from '../data/patient-compartment.ts';
import { outcomeError } from '../errors/operation-outcome.ts';
import pMap from 'p-map';
import { SEARCH_CONCURRENCY, type FhirClient } from './client.ts';

export interface PatientRecord {
  patient: Patient;
  /** The Patient first, then the rest in server order, each Type/id once. */
  resources: Resource[];
  method: '$everything' | 'search';
}

/** Kept here for the modules that read it from this file; the definition lives in data/. */
export { patientCompartmentParams };

function searchFor(type: string, patientId: string): string {
  const params = patientCompartmentParams(type);
  // Prefer the plain `patient` / `subject` parameters every server implements.
  const param = ['patient', 'subject'].find((p) => params.includes(p)) ?? params[0];
  if (!param) {
    throw outcomeError('not-supported', `${type} is not in the Patient compartment, so a patient's ${type} records cannot be searched`);
  }
  return `${type}?${new URLSearchParams({ [param]: `Patient/${patientId}` }).toString()}`;
}

function dedupe(resources: Resource[]): Resource[] {
  const seen = new Set<string>();
  return resources.filter((r) => {
    const key = `${r.resourceType}/${r.id ?? ''}`;
    if (r.id && seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function fetchPatientRecord(client: FhirClient, patientId: string, requirements: readonly DataRequirement[]): Promise<PatientRecord> {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) {
    throw outcomeError('invalid', `--patient '${patientId}' is not a valid FHIR id`);
  }
  const patient = await client.read<Patient>('Patient', patientId);
  if (await client.supportsOperation('Patient', 'everything')) {
    const all = await client.searchAll(`Patient/${encodeURIComponent(patientId)}/$everything`);
    const rest = all.filter((r) => !(r.resourceType === 'Patient' && r.id === patientId));
    return { patient, resources: dedupe([patient, ...rest]), method: '$everything' };
  }
  const types = [...new Set(requirements.map((r) => r.type).filter((t) => t !== 'Patient'))].sort();
  // Concurrent searches, assembled in type order, so the record is the same however they interleave.
  const searches = types.map((type) => searchFor(type, patientId));
  const found = await pMap(searches, (search) => client.searchAll(search), { concurrency: SEARCH_CONCURRENCY });
  return { patient, resources: dedupe([patient, ...found.flat()]), method: 'search' };
}
