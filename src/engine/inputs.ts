/**
 * Binds an action's `input` DataRequirements to variables: each requirement with an `id` becomes
 * `%<id>` = the subject's resources of that type, filtered by codeFilter and dateFilter, sorted and
 * limited as it says. Filtering runs over the per-apply index, so conditions read a handful of
 * resources instead of scanning the record.
 */
import type { Coding, DataRequirement, Extension, Resource } from '@medplum/fhirtypes';
import { codeElementOf, codingKey, type PatientData } from '../data/patient-data.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { addDuration, calendarSpan, durationMillis, durationUnit, instantOf, isDateOnly, offsetMillisOf } from './dates.ts';
import { INPUT_REQUIRED_EXTENSION, type Issues } from './types.ts';
import { issue } from '../errors/operation-outcome.ts';

export function isRequiredInput(requirement: DataRequirement): boolean {
  return (requirement.extension ?? []).some((e: Extension) => e.url === INPUT_REQUIRED_EXTENSION && e.valueBoolean === true);
}

function pushValue(into: unknown[], v: unknown): void {
  if (Array.isArray(v)) for (const item of v as unknown[]) into.push(item);
  else if (v !== undefined) into.push(v);
}

/** Plain-JS walk of a simple dotted path (`code`, `value`, `interpretation`), flattening arrays. */
function valuesAt(resource: unknown, path: string): unknown[] {
  let current: unknown[] = [resource];
  for (const name of path.split('.')) {
    const next: unknown[] = [];
    for (const item of current) {
      if (!item || typeof item !== 'object') continue;
      const obj = item as Record<string, unknown>;
      if (name in obj) {
        pushValue(next, obj[name]);
        continue;
      }
      // A choice element (`value`, `effective`) matches any of its typed names (an upper-case letter follows).
      for (const key of Object.keys(obj)) {
        const next0 = key.charCodeAt(name.length);
        if (next0 >= 65 && next0 <= 90 && key.startsWith(name)) pushValue(next, obj[key]);
      }
    }
    current = next;
  }
  return current;
}

function codingKeysAt(resource: Resource, path: string): string[] {
  const keys: string[] = [];
  for (const v of valuesAt(resource, path)) {
    if (typeof v === 'string') keys.push(codingKey(undefined, v));
    else if (v && typeof v === 'object') {
      const o = v as { coding?: Coding[]; system?: string; code?: string };
      if (o.coding) for (const c of o.coding) keys.push(codingKey(c.system, c.code));
      else if (o.code) keys.push(codingKey(o.system, o.code));
    }
  }
  return keys;
}

/**
 * The widest span a record's date can mean, in now's offset (`offsetMs`): a date-only value is its
 * whole local day (month, year: see calendarSpan - the widest reading keeps a contraindication
 * dated only to the month inside a look-back, and the artifact's FHIRPath decides what it means);
 * a dateTime is its instant together with the calendar day it is written on, because the
 * artifacts' FHIRPath compares that written date (`toString().substring(0, 10).toDate()`) with
 * `today() - 7 days`, and the prefilter must never be narrower than the expression it feeds.
 */
function recordSpan(value: string | undefined, offsetMs: number): [number, number] | undefined {
  const span = calendarSpan(value, offsetMs);
  if (!span || !value || isDateOnly(value)) return span;
  const writtenDay = calendarSpan(value.slice(0, 10), offsetMs);
  return writtenDay ? [Math.min(span[0], writtenDay[0]), Math.max(span[1], writtenDay[1])] : span;
}

function isPeriod(v: unknown): v is { start?: string; end?: string } {
  return !!v && typeof v === 'object' && ('start' in v || 'end' in v);
}

/** The date range [from, to] (epoch ms) a value found at a dateFilter path covers. */
function dateRangeAt(resource: Resource, path: string, offsetMs: number): [number, number] | undefined {
  for (const v of valuesAt(resource, path)) {
    if (typeof v === 'string') {
      const span = recordSpan(v, offsetMs);
      if (span) return span;
    } else if (isPeriod(v)) {
      const s = recordSpan(v.start, offsetMs)?.[0] ?? recordSpan(v.end, offsetMs)?.[0];
      const e = recordSpan(v.end, offsetMs)?.[1] ?? recordSpan(v.start, offsetMs)?.[1];
      if (s !== undefined && e !== undefined) return [s, e];
    }
  }
  return undefined;
}

/** The instant a record sorts by: a dateTime's own instant, a date-only value's first local instant. */
function sortInstantAt(resource: Resource, path: string, offsetMs: number): number | undefined {
  for (const v of valuesAt(resource, path)) {
    const t = typeof v === 'string' ? calendarSpan(v, offsetMs)?.[0] : isPeriod(v) ? (calendarSpan(v.start, offsetMs) ?? calendarSpan(v.end, offsetMs))?.[0] : undefined;
    if (t !== undefined) return t;
  }
  return undefined;
}

/** The first date written at `path` (a Period's start, else its end), to name it in a message. */
function dateTextAt(resource: Resource, path: string): string | undefined {
  for (const v of valuesAt(resource, path)) {
    if (typeof v === 'string') return v;
    if (isPeriod(v)) return v.start ?? v.end;
  }
  return undefined;
}

/**
 * R4: a record `entered-in-error` "should not have been part of this patient's record" - it is
 * not evidence of anything. Read from the generic status elements (Observation, Procedure,
 * ServiceRequest... `status`; Goal `lifecycleStatus`; DocumentReference `docStatus`; Condition,
 * AllergyIntolerance `verificationStatus`), so no protocol has to remember it. `cancelled` is not
 * treated the same way: its meaning differs by type (a cancelled Observation never happened, a
 * cancelled MedicationRequest is a real event in the record), and the artifacts read it themselves.
 */
export function isEnteredInError(resource: Resource): boolean {
  const r = resource as { status?: unknown; lifecycleStatus?: unknown; docStatus?: unknown; verificationStatus?: { coding?: Coding[] } };
  if (r.status === 'entered-in-error' || r.lifecycleStatus === 'entered-in-error' || r.docStatus === 'entered-in-error') return true;
  return (r.verificationStatus?.coding ?? []).some((c) => c.code === 'entered-in-error');
}

function resourceName(resource: Resource): string {
  return resource.id ? `${resource.resourceType}/${resource.id}` : `${resource.resourceType} (no id)`;
}

/** Adds an issue once per apply (several inputs can read, and leave out, the same record). */
function pushOnce(issues: Issues, added: ReturnType<typeof issue>): void {
  if (!issues.some((i) => i.diagnostics === added.diagnostics)) issues.push(added);
}

/**
 * Whether a required input is satisfied: at least one resource, and - when the requirement names
 * `mustSupport` elements (e.g. Patient `birthDate`) - one resource that has every one of them.
 */
export function satisfiesRequirement(found: readonly Resource[], requirement: DataRequirement): boolean {
  const elements = requirement.mustSupport ?? [];
  // A record entered in error is not evidence, so it never stands for data that was asked for.
  return found.some((r) => !isEnteredInError(r) && elements.every((path) => valuesAt(r, path).length > 0));
}

export interface InputFilterDeps {
  data: PatientData;
  /** The apply's subject: an input of its type means the subject itself, not other records of that type. */
  subject: Resource;
  knowledge: CompiledKnowledge;
  nowText: string;
  issues: Issues;
  where: string;
  /** Look-back bounds by duration, for one apply (one `nowText`). */
  lookBacks?: Map<string, [number | undefined, number | undefined]>;
}

/** The codes a requirement's codeFilters name (for Task.reasonCode and prefetch templates). */
export function requirementCodings(requirement: DataRequirement, knowledge: CompiledKnowledge): Coding[] {
  const codings: Coding[] = [];
  for (const filter of requirement.codeFilter ?? []) {
    for (const c of filter.code ?? []) codings.push(c);
    if (filter.valueSet) {
      for (const key of knowledge.valueSetKeys(filter.valueSet) ?? []) {
        const bar = key.indexOf('|');
        codings.push({ system: key.slice(0, bar) || undefined, code: key.slice(bar + 1) });
      }
    }
  }
  return codings;
}

type DateFilter = NonNullable<DataRequirement['dateFilter']>[number];

type Bounds = [number | undefined, number | undefined];

/**
 * "Within the last <duration>" as calendar days in now's offset (epoch ms): from the first instant
 * of (today - duration) to the last instant of today, today being now's own date. The artifacts'
 * FHIRPath compares calendar dates (`>= today() - 7 days`, today() in now's offset), and this
 * prefilter must never be narrower: exact instants [now - 7 d, now] dropped a result dated today
 * but timed later than now, or dated today with no time early in the morning east of UTC, and
 * reached an eighth calendar day back. A sub-day duration stays exact from now back. Worked out once
 * per duration and apply (`lookBacks`).
 */
function lookBack(duration: NonNullable<DateFilter['valueDuration']>, deps: InputFilterDeps, offsetMs: number): Bounds {
  const key = `${duration.value ?? ''} ${duration.code ?? ''} ${duration.unit ?? ''}`;
  let bounds = deps.lookBacks?.get(key);
  if (!bounds) {
    const today = deps.nowText.slice(0, 10);
    const unit = durationUnit(duration);
    const subDay = unit === 'h' || unit === 'min' || unit === 's';
    const millis = durationMillis(duration);
    const from = subDay ? (millis === undefined ? undefined : instantOf(deps.nowText)! - millis) : calendarSpan(addDuration(today, duration, -1), offsetMs)?.[0];
    bounds = [from, calendarSpan(today, offsetMs)?.[1]];
    deps.lookBacks?.set(key, bounds);
  }
  return bounds;
}

/**
 * A record dated after today is a data error or clock skew. The look-back leaves it out (counted,
 * a future-dated negative result would clear a procedure; the engine cannot know a result's
 * polarity) and says so, naming it, so that a future-dated positive is seen rather than silently lost.
 */
function reportDatedAfterToday(resource: Resource, path: string, requirement: DataRequirement, deps: InputFilterDeps): void {
  const input = requirement.id ? `input '${requirement.id}'` : `a ${requirement.type} input`;
  pushOnce(
    deps.issues,
    issue(
      'warning',
      'processing',
      `${resourceName(resource)} is dated after today (${requirement.type}.${path} ${dateTextAt(resource, path) ?? ''}, now ${deps.nowText}): the look-back of ${input} (${deps.where}) leaves it out; a record dated in the future is a data error or clock skew - check it`,
    ),
  );
}

/** Applies a DataRequirement to the subject's record. */
export function filterByRequirement(requirement: DataRequirement, deps: InputFilterDeps): Resource[] {
  const type = requirement.type;
  const codeElement = codeElementOf(type);
  const offsetMs = offsetMillisOf(deps.nowText);
  let candidates: readonly Resource[] = type === deps.subject.resourceType ? [deps.subject] : deps.data.byType(type);
  const filters = requirement.codeFilter ?? [];
  for (const [i, filter] of filters.entries()) {
    const keys = deps.knowledge.codeFilterKeys(filter);
    if (!keys) {
      deps.issues.push(
        issue('error', 'not-found', `${deps.where}: ValueSet ${filter.valueSet} cannot be expanded locally (unknown, or defined by filters)`, [`${deps.where}.codeFilter[${i}]`]),
      );
      return [];
    }
    const path = filter.path ?? filter.searchParam ?? codeElement ?? 'code';
    if (path === codeElement && i === 0 && type !== deps.subject.resourceType) {
      candidates = deps.data.byCodes(type, keys);
    } else {
      // A code with no system in the filter matches that code in any system.
      candidates = candidates.filter((r) => codingKeysAt(r, path).some((k) => keys.has(k) || keys.has(codingKey(undefined, k.slice(k.indexOf('|') + 1)))));
    }
  }
  // Before any date filter, sort and limit: `limit: 1` must pick the newest record that counts.
  const notEvidence = candidates.filter(isEnteredInError);
  if (notEvidence.length > 0) {
    for (const r of notEvidence) {
      pushOnce(deps.issues, issue('information', 'informational', `${resourceName(r)} is not used: it is entered-in-error, so it is not part of the patient's record (SAFE-10)`));
    }
    candidates = candidates.filter((r) => !isEnteredInError(r));
  }
  for (const filter of requirement.dateFilter ?? []) {
    const path = filter.path ?? filter.searchParam;
    if (!path) continue;
    let from: number | undefined;
    let to: number | undefined;
    if (filter.valueDateTime) [from, to] = calendarSpan(filter.valueDateTime, offsetMs) ?? [undefined, undefined];
    if (filter.valuePeriod) {
      from = calendarSpan(filter.valuePeriod.start, offsetMs)?.[0];
      to = calendarSpan(filter.valuePeriod.end, offsetMs)?.[1];
    }
    // A Duration means "within the last <duration>", in calendar days up to the end of today.
    const isLookBack = filter.valueDuration !== undefined;
    if (filter.valueDuration) [from, to] = lookBack(filter.valueDuration, deps, offsetMs);
    candidates = candidates.filter((r) => {
      const range = dateRangeAt(r, path, offsetMs);
      if (!range) return false;
      if (to !== undefined && range[0] > to) {
        if (isLookBack) reportDatedAfterToday(r, path, requirement, deps);
        return false;
      }
      return from === undefined || range[1] >= from;
    });
  }
  let result = [...candidates];
  for (const sort of [...(requirement.sort ?? [])].reverse()) {
    const dir = sort.direction === 'descending' ? -1 : 1;
    const keyed = result.map((r) => ({ r, t: sortInstantAt(r, sort.path, offsetMs) ?? Number.NEGATIVE_INFINITY }));
    keyed.sort((a, b) => dir * (a.t - b.t));
    result = keyed.map((k) => k.r);
  }
  if (requirement.limit !== undefined) result = result.slice(0, requirement.limit);
  return result;
}
