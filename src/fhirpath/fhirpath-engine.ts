/**
 * The one place the project touches fhirpath.js.
 *
 * - Always compiles against the R4 model (without it, `value` on choice types silently fails).
 * - Compiling is pure and uncached here: parse is ~100 µs against ~2 µs for an evaluation over
 *   pre-indexed variables, so each text must be compiled once - which `compileKnowledge` does for
 *   every expression in the artifacts and keeps with the knowledge (no module-level cache).
 * - Replaces `today()` / `now()` / `timeOfDay()` so they read the injected clock carried in the
 *   evaluation's variables instead of the process clock: the same input gives the same output,
 *   whatever the machine's time zone or wall clock.
 */
// The CommonJS sources, not the ESM bundle: the fast path (fast-path/) reuses the library's classes and
// functions, and a value made by one copy of fhirpath.js is not an instance of the other's classes.
import fhirpath from 'fhirpath/src/fhirpath.js';
import r4Model from 'fhirpath/fhir-context/r4/index.js';

export const R4_MODEL = r4Model;

/** Reserved variable names the clock functions read; `%now` and `%today` are public. */
const NOW_VAR = 'now';
const TODAY_VAR = 'today';

type FpTemporal = object;
type TemporalCtor = new (ctx: unknown, text: string) => FpTemporal;

/** fhirpath.js does not export its temporal classes; take them from a literal's value. */
function temporalClass(literal: string): TemporalCtor {
  const [value] = fhirpath.evaluate({}, literal, undefined, r4Model, { resolveInternalTypes: false }) as object[];
  if (!value) throw new Error(`fhirpath.js did not evaluate ${literal}`);
  return value.constructor as TemporalCtor;
}
const FpDateTime = temporalClass('@2000-01-01T00:00:00Z');
const FpDate = temporalClass('@2000-01-01');
const FpTime = temporalClass('@T00:00:00');

interface FhirPathCtx {
  vars: Record<string, unknown>;
}

function clockValue(ctx: FhirPathCtx, name: string): unknown {
  const value = ctx.vars[name];
  if (value === undefined) {
    throw new Error(`${name === NOW_VAR ? 'now()' : 'today()'} needs the injected clock (variable %${name})`);
  }
  return value;
}

const CLOCK_FUNCTIONS = {
  now: {
    internalStructures: true,
    fn(this: FhirPathCtx) {
      return [clockValue(this, NOW_VAR)];
    },
  },
  today: {
    internalStructures: true,
    fn(this: FhirPathCtx) {
      return [clockValue(this, TODAY_VAR)];
    },
  },
  timeOfDay: {
    internalStructures: true,
    fn(this: FhirPathCtx) {
      const now = this.vars['__nowText'];
      if (typeof now !== 'string') throw new Error('timeOfDay() needs the injected clock');
      return [new FpTime(null, `T${now.slice(11, 19)}`)];
    },
  },
};

export type CompiledExpression = (focus: unknown, vars: Record<string, unknown>) => unknown[];

export class FhirPathSyntaxError extends Error {}

/**
 * A bare string, integer or Boolean literal (dynamic values are often just `'http://loinc.org'`):
 * its value, without an evaluation. Anything else - escapes, decimals (fhirpath.js may keep their
 * precision), quantities - is left to fhirpath.js.
 */
function literalValue(expression: string): string | number | boolean | undefined {
  const text = expression.trim();
  const quoted = /^'([^'\\]*)'$/.exec(text);
  if (quoted) return quoted[1];
  if (/^\d{1,9}$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return undefined;
}

/**
 * Time spent inside fhirpath.js evaluations, for the benchmarks (off unless a bench turns it on: one
 * branch per evaluation otherwise). It shows how much of an apply is the library's own cost.
 */
export const evaluationMeter = { enabled: false, ms: 0, calls: 0 };

/** Compiles an expression to its evaluator; throws FhirPathSyntaxError. */
export function compileFhirPath(expression: string): CompiledExpression {
  const literal = literalValue(expression);
  if (literal !== undefined) return () => [literal];
  let fn: (focus: unknown, vars: Record<string, unknown>) => unknown;
  try {
    fn = fhirpath.compile(expression, r4Model, {
      userInvocationTable: CLOCK_FUNCTIONS as never,
    }) as typeof fn;
  } catch (err) {
    throw new FhirPathSyntaxError(errorText(err));
  }
  return (focus, vars) => {
    const started = evaluationMeter.enabled ? performance.now() : 0;
    const result = fn(focus, vars);
    if (evaluationMeter.enabled) {
      evaluationMeter.ms += performance.now() - started;
      evaluationMeter.calls++;
    }
    if (result instanceof Promise) throw new Error('asynchronous FHIRPath functions are not supported');
    return result as unknown[];
  };
}

export interface Clock {
  /** ISO 8601 date-time with offset, e.g. 2026-11-23T09:00:00Z. */
  nowText: string;
  /** The local calendar date of `nowText` (its own offset, not the process time zone). */
  todayText: string;
}

const DATE_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function isDateTimeWithOffset(text: string): boolean {
  return DATE_TIME_WITH_OFFSET.test(text) && !Number.isNaN(Date.parse(text));
}

export function makeClock(nowText: string): Clock {
  if (!isDateTimeWithOffset(nowText)) {
    throw new Error(`'now' must be an ISO 8601 date-time with a time zone offset, got '${nowText}'`);
  }
  return { nowText, todayText: nowText.slice(0, 10) };
}

/** The variables that carry the clock into an evaluation (%now, %today and the internal text). */
export function clockVariables(clock: Clock): Record<string, unknown> {
  return {
    [NOW_VAR]: new FpDateTime(null, clock.nowText),
    [TODAY_VAR]: new FpDate(null, clock.todayText),
    __nowText: clock.nowText,
  };
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
