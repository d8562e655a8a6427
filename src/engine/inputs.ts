/**
 * Binds an action's `input` DataRequirements to variables: each requirement with an `id` becomes
 * `%<id>` = the subject's resources of that type, filtered by codeFilter and dateFilter, sorted and
 * limited as it says. Filtering runs over the per-apply index, so conditions read a handful of
 * resources instead of scanning the record.
 */
import type { Coding, DataRequirement, Extension, Resource } from '@medplum/fhirtypes';
import { codeElementOf, codingKey, type PatientData } from '../data/patient-data.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { addDuration, instantOf, isDateOnly } from './dates.ts';
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

/** The date range [from, to] (epoch ms) a value found at a dateFilter path covers. */
function dateRangeAt(resource: Resource, path: string): [number, number] | undefined {
  for (const v of valuesAt(resource, path)) {
    if (typeof v === 'string') {
      const t = instantOf(v);
      if (t !== undefined) return [t, endOf(v) ?? t];
    } else if (v && typeof v === 'object' && ('start' in v || 'end' in v)) {
      const p = v as { start?: string; end?: string };
      const s = instantOf(p.start) ?? instantOf(p.end);
      const e = endOf(p.end) ?? endOf(p.start);
      if (s !== undefined && e !== undefined) return [s, e];
    }
  }
  return undefined;
}

/**
 * Whether a required input is satisfied: at least one resource, and - when the requirement names
 * `mustSupport` elements (e.g. Patient `birthDate`) - one resource that has every one of them.
 */
export function satisfiesRequirement(found: readonly Resource[], requirement: DataRequirement): boolean {
  const elements = requirement.mustSupport ?? [];
  return found.some((r) => elements.every((path) => valuesAt(r, path).length > 0));
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

/** The last instant a date-only bound covers (its whole day); a dateTime bound is exact. */
function endOf(value: string | undefined): number | undefined {
  const t = instantOf(value);
  return t !== undefined && value && isDateOnly(value) ? t + 864e5 - 1 : t;
}

type DateFilter = NonNullable<DataRequirement['dateFilter']>[number];

type Bounds = [number | undefined, number | undefined];

/** [now - duration, now] in epoch ms; the same duration is worked out once per apply (`lookBacks`). */
function lookBack(duration: NonNullable<DateFilter['valueDuration']>, deps: InputFilterDeps): Bounds {
  const key = `${duration.value ?? ''} ${duration.code ?? ''} ${duration.unit ?? ''}`;
  let bounds = deps.lookBacks?.get(key);
  if (!bounds) {
    bounds = [instantOf(addDuration(deps.nowText, duration, -1)), instantOf(deps.nowText)];
    deps.lookBacks?.set(key, bounds);
  }
  return bounds;
}

/** Applies a DataRequirement to the subject's record. */
export function filterByRequirement(requirement: DataRequirement, deps: InputFilterDeps): Resource[] {
  const type = requirement.type;
  const codeElement = codeElementOf(type);
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
  for (const filter of requirement.dateFilter ?? []) {
    const path = filter.path ?? filter.searchParam;
    if (!path) continue;
    let from: number | undefined;
    let to: number | undefined;
    if (filter.valueDateTime) {
      from = instantOf(filter.valueDateTime);
      to = endOf(filter.valueDateTime);
    }
    if (filter.valuePeriod) {
      from = instantOf(filter.valuePeriod.start);
      to = endOf(filter.valuePeriod.end);
    }
    if (filter.valueDuration) {
      // A Duration means "within the last <duration>" before now.
      [from, to] = lookBack(filter.valueDuration, deps);
    }
    candidates = candidates.filter((r) => {
      const range = dateRangeAt(r, path);
      if (!range) return false;
      return (from === undefined || range[1] >= from) && (to === undefined || range[0] <= to);
    });
  }
  let result = [...candidates];
  for (const sort of [...(requirement.sort ?? [])].reverse()) {
    const dir = sort.direction === 'descending' ? -1 : 1;
    const keyed = result.map((r) => ({ r, t: dateRangeAt(r, sort.path)?.[0] ?? Number.NEGATIVE_INFINITY }));
    keyed.sort((a, b) => dir * (a.t - b.t));
    result = keyed.map((k) => k.r);
  }
  if (requirement.limit !== undefined) result = result.slice(0, requirement.limit);
  return result;
}
