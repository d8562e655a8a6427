/** The engine's public API: PlanDefinition/$apply and ActivityDefinition/$apply, pure functions. */
export { applyPlanDefinition } from './apply-plan-definition.ts';
export { applyActivityDefinition } from './activity/index.ts';
export { buildPatientData, type PatientData } from '../data/patient-data.ts';
export { compileKnowledge, type CompiledKnowledge, type CompileFinding } from '../knowledge/compiled-knowledge.ts';
export type { ActionTrace, ApplyContext, ApplyOptions, ApplyResult, Applicability, ConditionTrace, ExpressionEvaluator, MissingInput, OutputMode } from './types.ts';
export { INPUT_REQUIRED_EXTENSION, TRACE_EXTENSION } from './types.ts';
