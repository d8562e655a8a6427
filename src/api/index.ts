/**
 * The package's main entry (`import ... from 'infertility-protocols'`): the $apply engine, the
 * knowledge it needs, validation and the one error type. Everything here is re-exported from the
 * module that owns it; tests/package/api-surface.test.ts lists the names so that a change shows.
 */
export {
  applyActivityDefinition,
  applyPlanDefinition,
  buildPatientData,
  compileKnowledge,
  INPUT_REQUIRED_EXTENSION,
  TRACE_EXTENSION,
  type ActionTrace,
  type Applicability,
  type ApplyContext,
  type ApplyOptions,
  type ApplyResult,
  type CompiledKnowledge,
  type CompileFinding,
  type ConditionTrace,
  type ExpressionEvaluator,
  type MissingInput,
  type OutputMode,
  type PatientData,
} from '../engine/index.ts';
export { DEFAULT_ARTIFACT_DIRS, loadKnowledge, readArtifacts, type LoadedArtifact } from '../knowledge/load-artifacts.ts';
export { validateResources, type ValidateOptions, type ValidationResult } from '../validation/validate.ts';
export { OperationOutcomeError, toOperationOutcome } from '../errors/operation-outcome.ts';
