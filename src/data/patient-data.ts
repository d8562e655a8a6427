/**
 * A patient's record indexed once per apply: by resource type, by (type, system|code) and by
 * reference. FHIRPath then runs over small pre-filtered arrays bound as %variables instead of
 * scanning the whole record for every condition.
 */
import type { CodeableConcept, Coding, Resource } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { recordShapeProblems } from './resource-shape.ts';

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

/** Calls `visit` for each Coding of a CodeableConcept or list of them (loops, not flatMap: once per resource indexed). */
function forEachCoding(value: unknown, visit: (coding: Coding) => void): void {
  if (!value) return;
  const visitConcept = (cc: CodeableConcept | null | undefined) => {
    // Record data is untrusted in shape: a null in a list is skipped, not dereferenced.
    const codings = cc?.coding;
    if (codings) for (const coding of codings) visit(coding);
  };
  if (Array.isArray(value)) for (const cc of value as (CodeableConcept | null)[]) visitConcept(cc);
  else visitConcept(value);
}

const EMPTY: readonly Resource[] = Object.freeze([]);

/** How a resource is named in a shape problem: its type and id, or its place in the record. */
function resourceLabel(resource: unknown, index: number): string {
  const r = resource as { resourceType?: unknown; id?: unknown } | null;
  const type = typeof r?.resourceType === 'string' ? r.resourceType : 'Resource';
  return typeof r?.id === 'string' ? `${type}/${r.id}` : `${type} (record item ${index + 1})`;
}

/**
 * Refuses a record with any resource that is not R4 in shape (null in a list, a string where an
 * object belongs, a string integer, a date that does not exist...), naming each element: the
 * engine reads only well-formed data, so a malformed one is an input error (exit 2 / 400), never
 * a TypeError, and never a date that silently matches nothing.
 */
export function checkRecordShape(resources: readonly unknown[]): void {
  const problems = recordShapeProblems(resources);
  if (problems.length === 0) return;
  throw new OperationOutcomeError(
    outcome(...problems.map((p) => issue('error', 'structure', `${resourceLabel(resources[p.index], p.index)}: ${p.expression}: ${p.message}`, [p.expression]))),
  );
}

/**
 * Builds the index (after `checkRecordShape`). Only the by-type grouping is done up front; the code index of a type and the
 * reference map are built the first time they are asked for, so an apply pays only for the types
 * its plan reads.
 */
export function buildPatientData(resources: readonly Resource[]): PatientData {
  checkRecordShape(resources);
  const byType = new Map<string, Resource[]>();
  for (const resource of resources) {
    const list = byType.get(resource.resourceType);
    if (list) list.push(resource);
    else byType.set(resource.resourceType, [resource]);
  }
  const codeIndexes = new Map<string, Map<string, Resource[]>>();
  const codeIndex = (type: string): Map<string, Resource[]> => {
    let index = codeIndexes.get(type);
    if (index) return index;
    index = new Map();
    codeIndexes.set(type, index);
    const element = CODE_ELEMENT[type];
    if (!element) return index;
    for (const resource of byType.get(type) ?? EMPTY) {
      forEachCoding((resource as unknown as Record<string, unknown>)[element], (coding) => {
        const key = codingKey(coding.system, coding.code);
        const list = index.get(key);
        if (!list) index.set(key, [resource]);
        // Lists are built in record order, so a repeated coding of the same resource is the last entry.
        else if (list[list.length - 1] !== resource) list.push(resource);
      });
    }
    return index;
  };
  let positions: Map<Resource, number> | undefined;
  let byRef: Map<string, Resource> | undefined;
  return {
    all: resources,
    byType: (type) => byType.get(type) ?? EMPTY,
    byCodes(type, keys) {
      const index = codeIndex(type);
      const lists: Resource[][] = [];
      for (const key of keys) {
        const list = index.get(key);
        if (list) lists.push(list);
      }
      if (lists.length === 0) return [];
      if (lists.length === 1) return [...lists[0]!];
      // Several codes: merge, de-duplicate and keep the record's own order, so results do not
      // depend on the order of the code list.
      positions ??= new Map(resources.map((r, i) => [r, i]));
      const found = new Set<Resource>(lists.flat());
      return [...found].sort((a, b) => positions!.get(a)! - positions!.get(b)!);
    },
    byReference(reference) {
      if (!byRef) {
        byRef = new Map();
        for (const r of resources) if (r.id) byRef.set(`${r.resourceType}/${r.id}`, r);
      }
      return byRef.get(reference);
    },
  };
}
