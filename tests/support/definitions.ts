/**
 * Builders of small in-memory definitions for engine tests: one female patient, FHIRPath
 * expressions, an ActivityDefinition (a ServiceRequest coded by its id) and a PlanDefinition
 * around given actions. Each test file adds what its own cases need through `extra`.
 */
import type { ActivityDefinition, Patient, PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';

export const testPatient: Patient = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1990-05-10' };

/** A FHIRPath Expression. */
export const fp = (expression: string) => ({ language: 'text/fhirpath' as const, expression });

/** An applicability condition. */
export const applicable = (expression: string) => ({ kind: 'applicability' as const, expression: fp(expression) });

/** An active ServiceRequest definition, coded with its own id, at http://example.org/ActivityDefinition/<id>|1.0.0. */
export const activityDefinition = (id: string, extra: Partial<ActivityDefinition> = {}): ActivityDefinition => ({
  resourceType: 'ActivityDefinition',
  id,
  url: `http://example.org/ActivityDefinition/${id}`,
  version: '1.0.0',
  status: 'active',
  kind: 'ServiceRequest',
  code: { coding: [{ system: 'http://snomed.info/sct', code: id }] },
  ...extra,
});

/** An active plan `test-plan` (http://example.org/PlanDefinition/test-plan|1.0.0 unless `extra` says otherwise). */
export const planDefinition = (actions: PlanDefinitionAction[], extra: Partial<PlanDefinition> = {}): PlanDefinition => ({
  resourceType: 'PlanDefinition',
  id: 'test-plan',
  url: 'http://example.org/PlanDefinition/test-plan',
  version: '1.0.0',
  status: 'active',
  action: actions,
  ...extra,
});
