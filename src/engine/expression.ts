/**
 * Evaluating an R4 Expression: text/fhirpath natively (compiled with the knowledge), any other language
 * through a pluggable evaluator, and a clear "unsupported" error otherwise - never a silent skip.
 */
import type { Expression, Resource } from '@medplum/fhirtypes';
import { clockVariables, errorText, type Clock } from '../fhirpath/fhirpath-engine.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import type { ApplyContext, ExpressionEvaluator } from './types.ts';

export const FHIRPATH = 'text/fhirpath';

export type Variables = Record<string, unknown>;

export interface EvaluationOutcome {
  result?: unknown[];
  error?: string;
}

export function expressionText(expression: Expression): string {
  return expression.expression ?? (expression.reference ? `reference ${expression.reference}` : '');
}

export function evaluateExpression(
  expression: Expression,
  focus: Resource,
  variables: Variables,
  knowledge: CompiledKnowledge,
  evaluators: Record<string, ExpressionEvaluator> | undefined,
): EvaluationOutcome {
  // Authored JSON may omit the language (the type says it is there): reported as unsupported, not assumed.
  const language = (expression as { language?: string }).language ?? '';
  const text = expression.expression;
  try {
    if (language === FHIRPATH) {
      if (!text) return { error: 'text/fhirpath expression has no expression text' };
      // %resource / %rootResource = the definition being applied. Scopes built for it carry them
      // already; for another focus the variables are copied only when the text can name them
      // (fhirpath.js reads no variable the expression does not name), since copying dozens of
      // variables per dynamic value was a measurable share of an apply.
      const scoped = variables.resource === focus || !text.includes('esource') ? variables : { ...variables, resource: focus, rootResource: focus };
      return { result: knowledge.expression(text)(focus, scoped) };
    }
    const evaluator = evaluators?.[language];
    if (!evaluator) {
      return { error: `unsupported expression language '${language}' (supported: ${[FHIRPATH, ...Object.keys(evaluators ?? {})].join(', ')})` };
    }
    return { result: evaluator.evaluate(expression, focus, variables) };
  } catch (err) {
    return { error: errorText(err) };
  }
}

const SYSTEM_VARIABLES = {
  sct: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
};

/**
 * The variables every expression of one apply can read: the $apply parameters by name
 * (%subject, %patient, %encounter, %practitioner, %organization, %userType, %userLanguage,
 * %userTaskContext, %setting, %settingContext), %now/%today from the injected clock, the FHIR
 * terminology constants and the `parameters` by name. Absent ones are bound to empty so an
 * expression that reads them gets {} rather than an "undefined variable" error.
 */
export function baseVariables(context: ApplyContext, clock: Clock): Variables {
  const vars: Variables = {
    ...SYSTEM_VARIABLES,
    subject: context.subject,
    patient: context.subject.resourceType === 'Patient' ? context.subject : [],
    encounter: context.encounter ?? [],
    practitioner: context.practitioner ?? [],
    organization: context.organization ?? [],
    userType: context.userType ?? [],
    userLanguage: context.userLanguage ?? [],
    userTaskContext: context.userTaskContext ?? [],
    setting: context.setting ?? [],
    settingContext: context.settingContext ?? [],
  };
  for (const [name, value] of Object.entries(context.parameters ?? {})) vars[name] = value ?? [];
  return Object.assign(vars, clockVariables(clock));
}
