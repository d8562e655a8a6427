/**
 * One request per activity (SAFE-6). Runs after every action is applied and dated, because
 * whether two uses of an activity can share a request depends on their final dates.
 */
import type { ActivityDefinition, Period, Reference, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { instantOf } from '../dates.ts';
import { REQUEST_PER_USE_EXTENSION } from '../types.ts';
import type { ApplyState } from './apply-state.ts';

/** True when the ActivityDefinition declares each of its uses its own occasion (REQUEST_PER_USE_EXTENSION). */
export function declaresRequestPerUse(definition: ActivityDefinition | undefined): boolean {
  return (definition?.extension ?? []).some((e) => e.url === REQUEST_PER_USE_EXTENSION && e.valueBoolean === true);
}

/** A request's dates as a range; `unrangeable` when they are a Timing or a Task restriction, which cannot be intersected. */
type Dated = { start?: number; end?: number; startText?: string; endText?: string; unrangeable?: true };

/** The dates of a request as a range (undefined bound = open); undefined when it has no date. */
function datesOf(request: Record<string, unknown>): Dated | undefined {
  const period = request.occurrencePeriod as Period | undefined;
  const at = request.occurrenceDateTime as string | undefined;
  if (at) return { start: instantOf(at), end: instantOf(at), startText: at, endText: at };
  if (period && (period.start || period.end)) return { start: instantOf(period.start), end: instantOf(period.end), startText: period.start, endText: period.end };
  if (request.occurrenceTiming || (request.restriction as { period?: unknown } | undefined)?.period) return { unrangeable: true };
  return undefined;
}

/** The dates both uses allow: the later start and the earlier end; undefined when they do not overlap. */
function commonDates(a: Dated | undefined, b: Dated | undefined): Dated | undefined | 'none' {
  if (!a && !b) return 'none';
  if (!a) return b;
  if (!b) return a;
  // A Timing or a Task restriction is not a range we can intersect: such a use stays apart from any other dated use.
  if (a.unrangeable || b.unrangeable) return undefined;
  const startFromA = a.start === undefined ? false : b.start === undefined ? true : a.start >= b.start;
  const endFromA = a.end === undefined ? false : b.end === undefined ? true : a.end <= b.end;
  const out: Dated = {
    start: startFromA ? a.start : b.start,
    startText: startFromA ? a.startText : b.startText,
    end: endFromA ? a.end : b.end,
    endText: endFromA ? a.endText : b.endText,
  };
  if (out.start !== undefined && out.end !== undefined && out.start > out.end) return undefined;
  return out;
}

/**
 * One request per activity (SAFE-6: "each activity appears once in a plan"). A plan that reaches
 * the same ActivityDefinition from two places - a pathway whose nested protocols share work-up,
 * such as the vaginal discharge exam before HSG and before hysteroscopy - would otherwise order it
 * twice. Two active requests of the same type instantiating the same definition become one when a
 * single date range serves both uses (the later start, the earlier end); the later action then
 * points to the first request, whose reasons gather both. Uses whose dates do not overlap stay
 * separate (the same activity at two different times), and do-not-perform requests are never merged.
 * Nor are the uses of an activity that declares each use its own occasion (REQUEST_PER_USE_EXTENSION,
 * e.g. the pregnancy test on the day of each procedure): their date range is the window of the
 * procedure they precede, not a free choice, so one test in the windows' overlap would speak for
 * neither procedure day (SAFE-2 over SAFE-6).
 */
export function mergeRepeatedActivities(state: ApplyState, topActions: RequestGroupAction[]): void {
  const firstByActivity = new Map<string, Record<string, unknown> & Resource>();
  const replacedBy = new Map<string, string>();
  for (const resource of state.resources) {
    if (resource.resourceType === 'RequestGroup') continue;
    const request = resource as Record<string, unknown> & Resource;
    const canonicals = request.instantiatesCanonical;
    const canonical = Array.isArray(canonicals) ? (canonicals[0] as string | undefined) : (canonicals as string | undefined);
    if (!canonical || request.doNotPerform === true) continue;
    if (!canonical.startsWith('#') && declaresRequestPerUse(state.knowledge.resolve<ActivityDefinition>(canonical, 'ActivityDefinition'))) continue;
    const key = `${resource.resourceType}|${canonical}`;
    const first = firstByActivity.get(key);
    if (!first) {
      firstByActivity.set(key, request);
      continue;
    }
    const common = commonDates(datesOf(first), datesOf(request));
    if (common === undefined) continue;
    if (common !== 'none' && !common.unrangeable && !(first.occurrenceDateTime && first.occurrenceDateTime === request.occurrenceDateTime)) {
      // Kept as a Period (as the uses wrote it), so a merge never changes the shape of the request.
      delete first.occurrenceDateTime;
      const period: Period = {};
      if (common.startText) period.start = common.startText;
      if (common.endText) period.end = common.endText;
      first.occurrencePeriod = period;
    }
    const reasons = [...((first.reasonReference as Reference[] | undefined) ?? [])];
    for (const r of (request.reasonReference as Reference[] | undefined) ?? []) if (!reasons.some((x) => x.reference === r.reference)) reasons.push(r);
    if (reasons.length > 0) first.reasonReference = reasons;
    replacedBy.set(`#${resource.id}`, `#${first.id}`);
  }
  if (replacedBy.size === 0) return;
  const repoint = (actions: RequestGroupAction[] | undefined): void => {
    for (const a of actions ?? []) {
      const target = a.resource?.reference ? replacedBy.get(a.resource.reference) : undefined;
      if (target) a.resource = { reference: target };
      repoint(a.action);
    }
  };
  repoint(topActions);
  for (const r of state.resources) if (r.resourceType === 'RequestGroup') repoint(r.action);
  for (const entry of state.byActionId.values()) {
    const target = entry.trace.resource ? replacedBy.get(entry.trace.resource) : undefined;
    if (target) {
      entry.trace.notes.push(`the same activity is already ${target}: one request serves both uses (SAFE-6)`);
      entry.trace.resource = target;
    }
  }
  const kept = state.resources.filter((r) => !replacedBy.has(`#${r.id}`));
  state.resources.splice(0, state.resources.length, ...kept);
}
