/**
 * The public shapes of the $apply engine. The engine is pure: it takes definitions, the patient's
 * data and options (including the clock) and returns resources; it performs no I/O.
 */
import type {
  Bundle,
  CarePlan,
  CodeableConcept,
  DataRequirement,
  Encounter,
  Expression,
  OperationOutcome,
  OperationOutcomeIssue,
  Organization,
  Practitioner,
  RequestGroup,
  Resource,
} from '@medplum/fhirtypes';
import type { PatientData } from '../data/patient-data.ts';

/** The $apply operation's context parameters (R4 OperationDefinition PlanDefinition-apply). */
export interface ApplyContext {
  /** The subject the plan is applied to; usually a Patient. */
  subject: Resource;
  /** The subject's record, indexed once (see `buildPatientData`). */
  data: PatientData;
  encounter?: Encounter;
  practitioner?: Practitioner;
  organization?: Organization;
  userType?: CodeableConcept;
  userLanguage?: CodeableConcept;
  userTaskContext?: CodeableConcept;
  setting?: CodeableConcept;
  settingContext?: CodeableConcept;
  /** Library / operation `parameters`, exposed to expressions as `%<name>`. */
  parameters?: Record<string, unknown>;
}

/** Evaluates an expression in a language other than text/fhirpath (e.g. CQL). */
export interface ExpressionEvaluator {
  evaluate(expression: Expression, focus: Resource, variables: Record<string, unknown>): unknown[];
}

export type OutputMode = 'r4' | 'cpg';

export interface ApplyOptions {
  /** ISO 8601 date-time with offset. Drives today()/now()/%now/%today and every computed date. */
  now: string;
  /** r4: CarePlan with contained RequestGroup (R4 $apply). cpg: Bundle, RequestGroup first (CPG/R5). */
  mode?: OutputMode;
  /** Status of generated requests (spec maps say draft; HAPI says active). Default draft. */
  requestStatus?: 'draft' | 'active';
  /** Status of the CarePlan / RequestGroup. Default draft. */
  carePlanStatus?: 'draft' | 'active';
  /** Throw on the first expression error instead of recording it. Default false. */
  strict?: boolean;
  /** Put the trace into the RequestGroup as extensions. Default false. */
  traceExtension?: boolean;
  /** Evaluators for languages other than text/fhirpath, keyed by media type. */
  evaluators?: Record<string, ExpressionEvaluator>;
}

export type Applicability = 'applicable' | 'not-applicable' | 'missing-data' | 'error';

export interface ConditionTrace {
  kind: string;
  language: string;
  expression: string;
  /** The expression's description (or name): what the rule means, for people. */
  description?: string;
  /** The raw result (a collection); absent when the evaluation failed. */
  result?: unknown[];
  error?: string;
}

export interface MissingInput {
  /** The DataRequirement id (bound as %<id>). */
  inputId: string;
  type: string;
  /** The codes that would satisfy it, as system|code. */
  codes: string[];
  /** Id of the collect-information Task created for it. */
  taskId: string;
}

export interface ActionTrace {
  /** Action id (or a generated path id when the action has none). */
  actionId: string;
  title?: string;
  applicability: Applicability;
  /** A sentence saying why the action is in or out. */
  reason: string;
  conditions: ConditionTrace[];
  /** The input variables the action could read, with how many resources each held. */
  inputs: { id: string; count: number }[];
  missing: MissingInput[];
  /** Reference (e.g. `#hsg`) of the request generated for the action, if any. */
  resource?: string;
  /** Further facts worth knowing: computed timing, selection made, unresolved participants. */
  notes: string[];
  children: ActionTrace[];
}

export interface ApplyResult {
  /** R4 mode: the CarePlan (RequestGroup, requests, Goals, Tasks and OperationOutcome contained). */
  carePlan?: CarePlan;
  /** CPG mode: Bundle with the RequestGroup first, then requests, Goals and Tasks. */
  bundle?: Bundle;
  requestGroup: RequestGroup;
  /** The generated requests, Goals and Tasks (also contained / bundled above). */
  resources: Resource[];
  /** Issues raised while applying (also referenced from the result through cqf-messages). */
  outcome: OperationOutcome;
  trace: ActionTrace[];
  missing: MissingInput[];
}

export type Issues = OperationOutcomeIssue[];

/** Extension marking an `action.input` DataRequirement as required: empty -> collect-information Task. */
export const INPUT_REQUIRED_EXTENSION = 'http://infertility-protocols.org/fhir/StructureDefinition/input-required';
export const TRACE_EXTENSION = 'http://infertility-protocols.org/fhir/StructureDefinition/apply-trace';
/**
 * On an ActivityDefinition: each use in a plan is its own occasion (a test on the day of the
 * procedure it precedes), so two uses are never merged into one request (merge-activities.ts).
 */
export const REQUEST_PER_USE_EXTENSION = 'http://infertility-protocols.org/fhir/StructureDefinition/request-per-use';
export const CQF_MESSAGES_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/cqf-messages';
export const PERTAINS_TO_GOAL_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal';
/** CPG: the kind of resource an ActivityDefinition creates, when R4's `kind` cannot name it (e.g. Communication); wins over `kind`. */
export const CPG_ACTIVITY_KIND_EXTENSION = 'http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-activity-kind';
export const APPLICABILITY_BEHAVIOR_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/cqf-applicabilityBehavior';
/** R4 core extension: a named Expression whose value descendants read as %<name>. */
export const VARIABLE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/variable';
export const CPG_ACTIVITY_TYPE_SYSTEM = 'http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type';

export type { DataRequirement };
