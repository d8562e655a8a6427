/**
 * dynamicValue: evaluate an expression and write its result into a generated resource at a
 * Simple FHIRPath (http://build.fhir.org/simplefhirpath.html) path.
 *
 * The setter is type-aware: it reads the R4 model shipped with fhirpath.js to know each element's
 * type, whether it repeats and which choice types it allows, so it can create intermediate
 * objects, pick `occurrencePeriod` for `occurrence.ofType(Period)`, append to lists and convert
 * FHIRPath results (resources, Codings, quantity strings, ISO date strings) to the target type.
 * Anything it cannot place correctly is rejected with a DynamicValuePathError rather than written
 * in a shape a FHIR server would refuse.
 *
 * The parts, in the order a value goes through them: the path is parsed (src/fhirpath/simple-path.ts)
 * and resolved against the model (resolve-path.ts, element-model.ts), the value is converted
 * (coerce-value.ts, choice-type.ts, value-shapes.ts) and written (write-value.ts).
 */
import type { Expression, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue, outcome, OperationOutcomeError } from '../../errors/operation-outcome.ts';
import { evaluateExpression, expressionText, type Variables } from '../expression.ts';
import type { ExpressionEvaluator } from '../types.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { DynamicValuePathError } from './path-error.ts';
import { resolvePath } from './resolve-path.ts';
import { setValueAtPath } from './write-value.ts';

export { DynamicValuePathError } from './path-error.ts';
export { coerceValue } from './coerce-value.ts';
export { setValueAtPath } from './write-value.ts';

export interface DynamicValue {
  path?: string;
  expression?: Expression;
}

export interface ApplyDynamicValuesArgs {
  target: Record<string, unknown>;
  /** FHIR type of `target`: a resource type, or a backbone path. */
  baseType: string;
  dynamicValues: DynamicValue[];
  /** The definition being applied: the expressions' %context / %resource. */
  focus: Resource;
  variables: Variables;
  /** Holds the compiled expressions. */
  knowledge: CompiledKnowledge;
  evaluators?: Record<string, ExpressionEvaluator>;
  issues: OperationOutcomeIssue[];
  strict: boolean;
  /** Names the owner in messages, e.g. "ActivityDefinition/hsg"; each entry adds " dynamicValue[i]"
   *  (or just "[i]" when `where` already ends with "dynamicValue"). */
  where: string;
  /** The RequestGroup action: receives paths starting with `action.` or `%action.`. */
  actionTarget?: Record<string, unknown>;
}

const ACTION_PREFIX = /^%?action\./;

/**
 * Evaluates each dynamicValue in document order and writes its result. A failing entry becomes an
 * error issue (code `processing` for evaluation errors, `invalid` for bad paths or values) and the
 * remaining entries still apply - unless `strict`, where the first failure throws.
 */
export function applyDynamicValues(args: ApplyDynamicValuesArgs): void {
  args.dynamicValues.forEach((dynamicValue, i) => {
    const where = /dynamicValue$/.test(args.where) ? `${args.where}[${i}]` : `${args.where} dynamicValue[${i}]`;
    const rawPath = dynamicValue.path ?? '';
    const text = dynamicValue.expression ? expressionText(dynamicValue.expression) : '';
    const report = (code: 'processing' | 'invalid', message: string) => {
      const found = issue('error', code, `${where}: path '${rawPath}', expression '${text}': ${message}`, [where]);
      if (args.strict) throw new OperationOutcomeError(outcome(found));
      args.issues.push(found);
    };
    if (!dynamicValue.path) {
      report('invalid', 'the dynamicValue has no path');
      return;
    }
    if (!dynamicValue.expression) {
      report('invalid', 'the dynamicValue has no expression');
      return;
    }

    let target = args.target;
    let baseType = args.baseType;
    let path = rawPath.trim();
    if (ACTION_PREFIX.test(path)) {
      if (!args.actionTarget) {
        report('invalid', 'the path targets the RequestGroup action, but this apply has none');
        return;
      }
      target = args.actionTarget;
      baseType = 'RequestGroup.action';
      path = path.replace(ACTION_PREFIX, '');
    }
    try {
      resolvePath(baseType, path);
    } catch (err) {
      report('invalid', err instanceof Error ? err.message : String(err));
      return;
    }
    const evaluated = evaluateExpression(dynamicValue.expression, args.focus, args.variables, args.knowledge, args.evaluators);
    if (evaluated.error !== undefined || !evaluated.result) {
      report('processing', evaluated.error ?? 'no result');
      return;
    }
    try {
      setValueAtPath(target, baseType, path, evaluated.result);
    } catch (err) {
      if (err instanceof DynamicValuePathError) {
        report('invalid', err.message);
        return;
      }
      throw err;
    }
  });
}
