/**
 * An expression's evaluator with the fast path in front of fhirpath.js: the compiled closures where
 * the expression is in the subset (see compile-fast-path.ts), fhirpath.js where it is not, and
 * fhirpath.js again for any single evaluation the fast path hands back (an unusual input or an
 * error, whose message must be the library's).
 */
import { evaluationMeter, type CompiledExpression } from '../fhirpath-engine.ts';
import { BAIL, compileFastPath, Unsupported } from './compile-fast-path.ts';

/** How an expression is evaluated: on the fast path, or on fhirpath.js and why. */
export type EvaluationRoute = { fastPath: true } | { fastPath: false; reason: string };

export interface RoutedExpression {
  evaluate: CompiledExpression;
  route: EvaluationRoute;
}

/**
 * `reference` is the expression compiled by fhirpath.js (compileFhirPath); the result evaluates
 * through the fast path when the expression compiles for it.
 */
export function withFastPath(text: string, reference: CompiledExpression): RoutedExpression {
  let fast: ReturnType<typeof compileFastPath>;
  try {
    fast = compileFastPath(text);
  } catch (err) {
    if (err instanceof Unsupported) return { evaluate: reference, route: { fastPath: false, reason: err.message } };
    throw err;
  }
  const evaluate: CompiledExpression = (focus, vars) => {
    const started = evaluationMeter.enabled ? performance.now() : 0;
    const result = fast(focus, vars);
    if (result === BAIL) {
      if (evaluationMeter.enabled) evaluationMeter.ms += performance.now() - started;
      return reference(focus, vars);
    }
    if (evaluationMeter.enabled) {
      evaluationMeter.ms += performance.now() - started;
      evaluationMeter.calls++;
    }
    return result;
  };
  return { evaluate, route: { fastPath: true } };
}

export { compileFastPath, Unsupported, BAIL };
