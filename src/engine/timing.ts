/**
 * Turns relative timing into concrete dates: `timing[x]` of an action (Age and Range against the
 * subject's birth date, Duration against now) and `relatedAction` offsets against the date of the
 * action they point to. What cannot be computed is left as authored and said in the trace.
 */
import type { Age, Duration, Period, PlanDefinitionAction, Range, RequestGroupAction, RequestGroupActionRelatedAction, Resource } from '@medplum/fhirtypes';
import { addDuration, durationMillis, instantOf } from './dates.ts';

/** When something happens: a single point (start === end) or a window. */
export interface When {
  start: string;
  end: string;
}

export interface ConcreteTiming {
  timing: Pick<RequestGroupAction, 'timingDateTime' | 'timingPeriod' | 'timingAge' | 'timingDuration' | 'timingRange' | 'timingTiming'>;
  note?: string;
}

function asTiming(when: When): ConcreteTiming['timing'] {
  return when.start === when.end ? { timingDateTime: when.start } : { timingPeriod: { start: when.start, end: when.end } };
}

function ageOffsets(quantity: Age | Duration | undefined, from: string | undefined): string | undefined {
  return quantity && from ? addDuration(from, quantity) : undefined;
}

/**
 * Concrete timing for a PlanDefinition action: dateTime and Period as authored; Age and a Range of
 * ages from the birth date; Duration and a Range of durations from now; Timing as authored.
 */
export function concreteTiming(action: PlanDefinitionAction, birthDate: string | undefined, nowText: string): ConcreteTiming {
  if (action.timingDateTime) return { timing: { timingDateTime: action.timingDateTime } };
  if (action.timingPeriod) return { timing: { timingPeriod: action.timingPeriod } };
  if (action.timingTiming) return { timing: { timingTiming: action.timingTiming } };
  if (action.timingAge) {
    const at = ageOffsets(action.timingAge, birthDate);
    return at
      ? { timing: { timingDateTime: at }, note: `age ${action.timingAge.value} ${action.timingAge.unit ?? action.timingAge.code} from birth date ${birthDate}` }
      : { timing: { timingAge: action.timingAge }, note: 'timingAge kept as authored: the subject has no birth date' };
  }
  if (action.timingDuration) {
    const at = addDuration(nowText, action.timingDuration);
    return at
      ? { timing: { timingDateTime: at }, note: `${action.timingDuration.value} ${action.timingDuration.unit ?? action.timingDuration.code} from now` }
      : { timing: { timingDuration: action.timingDuration }, note: 'timingDuration kept as authored: not a calendar unit' };
  }
  if (action.timingRange) return rangeTiming(action.timingRange, birthDate, nowText);
  return { timing: {} };
}

function rangeTiming(range: Range, birthDate: string | undefined, nowText: string): ConcreteTiming {
  // A Range in years reads as an age range ("between 40 and 50 years of age"); other units run from now.
  const unit = range.low?.code ?? range.high?.code ?? range.low?.unit ?? range.high?.unit;
  const fromBirth = unit === 'a' || unit === 'year' || unit === 'years';
  const anchor = fromBirth ? birthDate : nowText;
  const start = range.low ? ageOffsets(range.low, anchor) : anchor;
  const end = range.high ? ageOffsets(range.high, anchor) : undefined;
  if (!anchor || !start || (range.high && !end)) {
    return { timing: { timingRange: range }, note: 'timingRange kept as authored: no anchor date or not a calendar unit' };
  }
  const period: Period = end ? { start, end } : { start };
  return { timing: { timingPeriod: period }, note: fromBirth ? `age range from birth date ${birthDate}` : 'range from now' };
}

/** The date(s) an RequestGroup action or its request happens at, if known. */
export function whenOf(action: RequestGroupAction, request: Resource | undefined): When | undefined {
  if (action.timingDateTime) return { start: action.timingDateTime, end: action.timingDateTime };
  if (action.timingPeriod?.start || action.timingPeriod?.end) {
    const start = action.timingPeriod.start ?? action.timingPeriod.end!;
    return { start, end: action.timingPeriod.end ?? start };
  }
  const r = request as { occurrenceDateTime?: string; occurrencePeriod?: Period } | undefined;
  if (r?.occurrenceDateTime) return { start: r.occurrenceDateTime, end: r.occurrenceDateTime };
  if (r?.occurrencePeriod?.start || r?.occurrencePeriod?.end) {
    const start = r.occurrencePeriod.start ?? r.occurrencePeriod.end!;
    return { start, end: r.occurrencePeriod.end ?? start };
  }
  return undefined;
}

const BEFORE = new Set(['before-start', 'before', 'before-end']);
const AFTER = new Set(['after-start', 'after', 'after-end']);
const ON_END = new Set(['before-end', 'concurrent-with-end', 'after-end', 'after']);

/**
 * When an action happens, from one relatedAction and the target's window. The target may happen
 * anywhere in its window, so the result is the window shifted by the offset (a Range offset widens
 * it). A sub-day offset cannot move a date-only value; the result then keeps the target's dates.
 */
export function relatedWhen(related: RequestGroupActionRelatedAction, target: When): When | undefined {
  // Authored JSON may omit the relationship (the type says it is there): read as concurrent.
  const rel = (related as { relationship?: RequestGroupActionRelatedAction['relationship'] }).relationship ?? 'concurrent';
  const anchor: When = rel === 'concurrent' ? target : ON_END.has(rel) ? { start: target.end, end: target.end } : { start: target.start, end: target.start };
  // A window target keeps its width: "30 min before the start" of a 3-day window is itself a window.
  const base: When = rel === 'concurrent' || target.start === target.end ? anchor : target;
  if (!BEFORE.has(rel) && !AFTER.has(rel)) return base;
  const sign = BEFORE.has(rel) ? -1 : 1;
  const low = related.offsetDuration ?? related.offsetRange?.low;
  const high = related.offsetDuration ?? related.offsetRange?.high;
  if (!low && !high) return base;
  // before: [start - high, end - low]; after: [start + low, end + high]
  const nearer = sign === -1 ? (high ?? low) : (low ?? high);
  const farther = sign === -1 ? (low ?? high) : (high ?? low);
  const start = nearer ? addDuration(base.start, nearer, sign) : base.start;
  const end = farther ? addDuration(base.end, farther, sign) : base.end;
  if (!start || !end) return undefined;
  return instantOf(start)! <= instantOf(end)! ? { start, end } : { start: end, end: start };
}

export function timingOf(when: When): ConcreteTiming['timing'] {
  return asTiming(when);
}

export function offsetText(related: RequestGroupActionRelatedAction): string {
  const d = related.offsetDuration;
  if (d) return `${d.value} ${d.unit ?? d.code} `;
  const r = related.offsetRange;
  if (r) return `${r.low?.value ?? '?'}-${r.high?.value ?? '?'} ${r.high?.unit ?? r.low?.unit ?? ''} `;
  return '';
}

/** True when an offset is shorter than a day (and so cannot move a date-only value). */
export function isSubDay(related: RequestGroupActionRelatedAction): boolean {
  const d = related.offsetDuration ?? related.offsetRange?.high;
  const ms = d ? durationMillis(d) : undefined;
  return ms !== undefined && ms < 864e5;
}
