/**
 * Applicability: an action applies when every `applicability` condition is exactly true (AND).
 * A false or empty condition keeps it out and says which one (by its description, the rule id);
 * an expression error keeps it out as an error, never as "not applicable".
 */
import type { PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import { evaluateExpression, expressionText, type Variables } from '../expression.ts';
import type { ActionTrace, ConditionTrace } from '../types.ts';
import { fail, type ApplyState } from './apply-state.ts';

export interface ApplicabilityVerdict {
  /** Why the action does not apply, one entry per condition that is not true. */
  failures: string[];
  /** A condition could not be evaluated (no expression, an evaluation error). */
  errored: boolean;
}

/** Evaluates the action's applicability conditions, recording each in the trace. */
export function evaluateApplicability(
  action: PlanDefinitionAction,
  plan: PlanDefinition,
  variables: Variables,
  state: ApplyState,
  path: string,
  where: string,
  trace: ActionTrace,
): ApplicabilityVerdict {
  const failures: string[] = [];
  let errored = false;
  for (const [ci, condition] of (action.condition ?? []).entries()) {
    if (condition.kind !== 'applicability') continue;
    const text = condition.expression ? expressionText(condition.expression) : '';
    const ct: ConditionTrace = { kind: condition.kind, language: condition.expression?.language ?? '', expression: text };
    const named = condition.expression?.description ?? condition.expression?.name;
    if (named) ct.description = named;
    trace.conditions.push(ct);
    if (!condition.expression) {
      ct.error = 'condition has no expression';
      fail(state, 'error', 'invalid', `${where}: applicability condition ${ci} has no expression`, `${path}.condition[${ci}]`);
      errored = true;
      continue;
    }
    const evaluated = evaluateExpression(condition.expression, plan, variables, state.knowledge, state.options.evaluators);
    if (evaluated.error !== undefined) {
      ct.error = evaluated.error;
      errored = true;
      fail(state, 'error', 'processing', `${where}: condition "${text}" failed: ${evaluated.error}`, `${path}.condition[${ci}].expression`);
      failures.push(`condition "${label(condition.expression, text)}" failed (${evaluated.error})`);
      continue;
    }
    const result = evaluated.result ?? [];
    ct.result = result;
    if (result.length === 1 && result[0] === true) continue;
    if (result.length === 0) failures.push(`condition "${label(condition.expression, text)}" is empty (no data to decide)`);
    else if (result.length === 1 && result[0] === false) failures.push(`condition "${label(condition.expression, text)}" is false`);
    else {
      failures.push(`condition "${label(condition.expression, text)}" returned ${JSON.stringify(result)}, not a single Boolean`);
      fail(state, 'warning', 'processing', `${where}: condition "${text}" returned a non-Boolean result`, `${path}.condition[${ci}].expression`);
    }
  }
  return { failures, errored };
}

/** A condition as a reader knows it: its description (rule id), else its name, else its text. */
function label(expression: { description?: string; name?: string }, text: string): string {
  return expression.description ?? expression.name ?? text;
}

/** The trace's reason for an applied action: the conditions that held. */
export function describeApplicable(action: PlanDefinitionAction, trace: ActionTrace): string {
  const held = trace.conditions.filter((c) => c.result?.[0] === true).map((c) => `"${c.description ?? c.expression}"`);
  if (held.length > 0) return `applicable: ${held.join(' and ')} ${held.length > 1 ? 'are' : 'is'} true`;
  if (action.action?.length) return 'applicable: a group with applicable actions';
  return 'applicable: no conditions';
}
