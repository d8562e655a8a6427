import type { ActivityDefinition, Encounter, OperationOutcomeIssue, Organization, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { buildPatientData } from '../../../src/data/patient-data.ts';
import { buildRequest, type RequestBuildInput } from '../../../src/engine/activity/index.ts';
import { baseVariables } from '../../../src/engine/expression.ts';
import type { ApplyContext } from '../../../src/engine/types.ts';
import { makeClock } from '../../../src/fhirpath/fhirpath-engine.ts';
import { compileKnowledge } from '../../../src/knowledge/compiled-knowledge.ts';

export const NOW = '2026-03-01T09:00:00+01:00';
export const patient: Patient = { resourceType: 'Patient', id: 'p1', birthDate: '1990-05-01' };
export const practitioner: Practitioner = { resourceType: 'Practitioner', id: 'dr1' };
export const organization: Organization = { resourceType: 'Organization', id: 'clinic' };
export const encounter: Encounter = { resourceType: 'Encounter', id: 'enc1', status: 'in-progress', class: { code: 'AMB' } };

export const snomed = (code: string, display: string) => ({ coding: [{ system: 'http://snomed.info/sct', code, display }] });

export function context(overrides: Partial<ApplyContext> = {}, data: Resource[] = []): ApplyContext {
  return { subject: patient, data: buildPatientData([patient, ...data]), encounter, practitioner, organization, ...overrides };
}

export function activity(kind: string, rest: Partial<ActivityDefinition> = {}): ActivityDefinition {
  return {
    resourceType: 'ActivityDefinition',
    id: `ad-${kind.toLowerCase()}`,
    url: `http://example.org/fhir/ActivityDefinition/${kind}`,
    version: '1.0.0',
    status: 'active',
    kind: kind as ActivityDefinition['kind'],
    ...rest,
  };
}

/** Builds through the same path PlanDefinition/$apply uses; returns the request as JSON and the issues. */
export function build(ad: ActivityDefinition, opts: Partial<RequestBuildInput> & { ctx?: ApplyContext; extraVariables?: Record<string, unknown> } = {}) {
  const ctx = opts.ctx ?? context();
  const issues: OperationOutcomeIssue[] = [];
  const resource = buildRequest({
    definition: ad,
    knowledge: compileKnowledge([ad]),
    context: ctx,
    variables: { ...baseVariables(ctx, makeClock(NOW)), ...opts.extraVariables },
    id: opts.id ?? 'req1',
    requestStatus: opts.requestStatus ?? 'draft',
    issues,
    strict: opts.strict ?? false,
    nowText: NOW,
    ...(opts.actionTarget ? { actionTarget: opts.actionTarget } : {}),
  }) as Resource & Record<string, unknown>;
  return { resource, issues };
}
