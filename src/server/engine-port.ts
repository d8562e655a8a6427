/**
 * What the HTTP layer needs from the $apply engine. The server depends on this shape only, so it
 * can be built and tested on its own and any engine honouring the contract can be plugged in.
 */
import type { ActivityDefinition, OperationOutcome, PlanDefinition, Resource } from '@medplum/fhirtypes';
import type { ApplyContext, ApplyOptions, ApplyResult } from '../engine/types.ts';
import type { PatientData } from '../data/patient-data.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';

export interface ProtocolEngine {
  apply(plan: PlanDefinition, context: ApplyContext, options: ApplyOptions, knowledge: CompiledKnowledge): ApplyResult;
  applyActivity(activity: ActivityDefinition, context: ApplyContext, options: ApplyOptions, knowledge: CompiledKnowledge): { resource: Resource; outcome: OperationOutcome };
  buildPatientData(resources: Resource[]): PatientData;
}
