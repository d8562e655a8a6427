/**
 * A patient's record indexed once per apply: by resource type, by (type, system|code) and by
 * reference. FHIRPath then runs over small pre-filtered arrays bound as %variables instead of
 * scanning the whole record for every condition.
 */
import type { CodeableConcept, Coding, Resource } from '@medplum/fhirtypes';

export interface PatientData {
  readonly all: readonly Resource[];
  byType(type: string): readonly Resource[];
  /** Resources of `type` whose primary code (see CODE_ELEMENT) has one of `system|code` keys. */
  byCodes(type: string, keys: Iterable<string>): Resource[];
  byReference(reference: string): Resource | undefined;
}

/** The element that carries a resource's "what is it" code, for the types the index knows. */
const CODE_ELEMENT: Record<string, string> = {
  Observation: 'code',
  Condition: 'code',
  Procedure: 'code',
  AllergyIntolerance: 'code',
  ServiceRequest: 'code',
  DiagnosticReport: 'code',
  MedicationRequest: 'medicationCodeableConcept',
  MedicationStatement: 'medicationCodeableConcept',
  MedicationAdministration: 'medicationCodeableConcept',
  Immunization: 'vaccineCode',
  DocumentReference: 'type',
  Encounter: 'type',
  FamilyMemberHistory: 'relationship',
  Task: 'code',
  CommunicationRequest: 'category',
  DeviceRequest: 'codeCodeableConcept',
  Goal: 'description',
};

export function codeElementOf(type: string): string | undefined {
  return CODE_ELEMENT[type];
}

export function codingKey(system: string | undefined, code: string | undefined): string {
  return `${system ?? ''}|${code ?? ''}`;
}

function codingsOf(value: unknown): Coding[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((cc: CodeableConcept) => cc?.coding ?? []);
}

const EMPTY: readonly Resource[] = Object.freeze([]);

export function buildPatientData(resources: readonly Resource[]): PatientData {
  const byType = new Map<string, Resource[]>();
  const byCode = new Map<string, Resource[]>();
  const byRef = new Map<string, Resource>();
  for (const resource of resources) {
    const type = resource.resourceType;
    let list = byType.get(type);
    if (!list) byType.set(type, (list = []));
    list.push(resource);
    if (resource.id) byRef.set(`${type}/${resource.id}`, resource);
    const element = CODE_ELEMENT[type];
    if (!element) continue;
    const seen = new Set<string>();
    for (const coding of codingsOf((resource as unknown as Record<string, unknown>)[element])) {
      const key = `${type}#${codingKey(coding.system, coding.code)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let coded = byCode.get(key);
      if (!coded) byCode.set(key, (coded = []));
      coded.push(resource);
    }
  }
  const order = new Map<Resource, number>(resources.map((r, i) => [r, i]));
  return {
    all: resources,
    byType: (type) => byType.get(type) ?? EMPTY,
    byCodes(type, keys) {
      const found = new Set<Resource>();
      for (const key of keys) for (const r of byCode.get(`${type}#${key}`) ?? []) found.add(r);
      // Keep the record's own order so results do not depend on the order of the code list.
      return [...found].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    },
    byReference: (reference) => byRef.get(reference),
  };
}
