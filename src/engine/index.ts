/** The engine's public API: PlanDefinition/$apply and ActivityDefinition/$apply, pure functions. */
export { applyPlanDefinition } from './apply-plan-definition.ts';
export { applyActivityDefinition } from './activity/index.ts';
export { dataRequirementsOf } from './data-requirements.ts';
export { buildPatientData, type PatientData } from '../data/patient-data.ts';
export { KnowledgeBase } from '../knowledge/knowledge-base.ts';
export type { ActionTrace, ApplyContext, ApplyOptions, ApplyResult, Applicability, ConditionTrace, ExpressionEvaluator, MissingInput, OutputMode } from './types.ts';
export { INPUT_REQUIRED_EXTENSION, TRACE_EXTENSION } from './types.ts';
