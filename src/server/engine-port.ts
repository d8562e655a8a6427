/**
 * What the HTTP layer needs from the $apply engine. The server depends on this shape only, so it
 * can be built and tested on its own and any engine honouring the contract can be plugged in.
 */
import type { ActivityDefinition, DataRequirement, OperationOutcome, PlanDefinition, Resource } from '@medplum/fhirtypes';
import type { ApplyContext, ApplyOptions, ApplyResult } from '../engine/types.ts';
import type { PatientData } from '../data/patient-data.ts';
import type { KnowledgeBase } from '../knowledge/knowledge-base.ts';

export interface ProtocolEngine {
  apply(plan: PlanDefinition, context: ApplyContext, options: ApplyOptions, knowledge: KnowledgeBase): ApplyResult;
  applyActivity(activity: ActivityDefinition, context: ApplyContext, options: ApplyOptions): { resource: Resource; outcome: OperationOutcome };
  dataRequirementsOf(plan: PlanDefinition, knowledge: KnowledgeBase): DataRequirement[];
  buildPatientData(resources: Resource[]): PatientData;
}
