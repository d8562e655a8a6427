/**
 * Which patient a Bulk Data line belongs to: a Patient is its own key; anything else is keyed by
 * the Patient its patient-compartment reference names (subject, patient, beneficiary...).
 */
import type { Resource } from '@medplum/fhirtypes';

/**
 * Elements that link a resource to its patient, in the order they are tried. scan-patient-key.ts
 * finds the same key on a line's raw bytes: change both together (its tests compare the two).
 */
const PATIENT_LINKS = ['subject', 'patient', 'beneficiary', 'individual'] as const;

/** A reference to a Patient (relative, absolute or versioned): the id is group 1. */
const PATIENT_REFERENCE = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/;

export function patientIdOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const record = resource as unknown as Record<string, unknown>;
  for (const link of PATIENT_LINKS) {
    const value = record[link];
    const reference = (value as { reference?: unknown } | undefined)?.reference;
    if (typeof reference !== 'string') continue;
    const match = PATIENT_REFERENCE.exec(reference);
    if (match) return match[1];
  }
  return undefined;
}

/** FNV-1a: a fast, stable string hash for choosing a patient's shard. */
export function shardOf(patientId: string, shards: number, salt = 0): number {
  let hash = 0x811c9dc5 ^ salt;
  for (let i = 0; i < patientId.length; i++) {
    hash ^= patientId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
