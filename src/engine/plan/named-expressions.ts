/**
 * Named expressions: the R4 core `variable` extension (an Expression with a `name`) on a plan or an
 * action declares a value that the element's descendants read as %<name>, computed once.
 */
import type { Extension, PlanDefinition } from '@medplum/fhirtypes';
import { evaluateExpression, type Variables } from '../expression.ts';
import { VARIABLE_EXTENSION } from '../types.ts';
import { fail, type ApplyState } from './apply-state.ts';

/**
 * Evaluates the variable extensions `which` selects, in document order, so a later variable may use
 * an earlier one. A failing variable is bound to empty (and reported), so dependent conditions are
 * not true.
 */
export function bindVariableExtensions(
  extensions: Extension[] | undefined,
  which: ReadonlySet<number> | 'all',
  focus: PlanDefinition,
  variables: Variables,
  state: ApplyState,
  path: string,
  where: string,
): void {
  for (const [i, ext] of (extensions ?? []).entries()) {
    if (ext.url !== VARIABLE_EXTENSION || (which !== 'all' && !which.has(i))) continue;
    const expression = ext.valueExpression;
    if (!expression?.name) {
      fail(state, 'error', 'invalid', `${where}: variable extension without a name`, `${path}.extension[${i}]`);
      continue;
    }
    const evaluated = evaluateExpression(expression, focus, variables, state.knowledge, state.options.evaluators);
    if (evaluated.error !== undefined) {
      fail(state, 'error', 'processing', `${where}: variable %${expression.name} failed: ${evaluated.error}`, `${path}.extension[${i}].valueExpression`);
    }
    variables[expression.name] = evaluated.result ?? [];
  }
}
