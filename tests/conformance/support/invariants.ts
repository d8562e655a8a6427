/**
 * Structural invariants every $apply result must satisfy, whatever the scenario. Each check returns
 * readable violation strings (empty = conformant) so a failing scenario says exactly what broke.
 *
 * Sources of the rules:
 * - R4 base structure and constraints (rqg-1, per-1, bdl-7, ...) through validateResources.
 * - R4 references.html "Contained Resources": a local reference `#id` resolves to a resource in
 *   `contained`; resource.html dom-3: every contained resource is referenced from the container.
 * - CPG / R5 $apply: requests inside the RequestGroup carry intent `option`; the R4 text's
 *   "status option" is an erratum, so no `status: option` may appear anywhere.
 * - R4 datatypes: date / dateTime / instant lexical forms, and real calendar dates.
 */
import type { Bundle, CarePlan, OperationOutcome, RequestGroup, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { R4_MODEL } from '../../../src/fhirpath/fhirpath-engine.ts';
import { isValid, validateResourceAgainst, validateResources } from '../../../src/validation/validate.ts';

export const CAREPLAN_PROFILE = 'http://infertility-protocols.org/fhir/StructureDefinition/ip-protocol-careplan';

/** Error-level issues of an outcome, one line each (warnings such as unknown CPG profiles are fine). */
function errorLines(outcome: OperationOutcome, where: string): string[] {
  if (isValid(outcome)) return [];
  return (outcome.issue ?? [])
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${where}: ${i.details?.text ?? i.diagnostics ?? i.code} at ${(i.expression ?? []).join(', ')}`);
}

/** Every `reference` string in a value, with the JSON path it sits at. */
export function referencesIn(value: unknown, path = ''): { path: string; reference: string }[] {
  const found: { path: string; reference: string }[] = [];
  const walk = (v: unknown, p: string) => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        walk(x, `${p}[${i}]`);
      });
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'reference' && typeof x === 'string') found.push({ path: `${p}.reference`, reference: x });
        else walk(x, p ? `${p}.${k}` : k);
      }
    }
  };
  walk(value, path);
  return found;
}

// R4 datatypes: the regular expressions of date, dateTime and instant.
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const DATE_RE = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`);
const DATE_TIME_RE = new RegExp(
  `^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`,
);
const INSTANT_RE = new RegExp(
  `^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`,
);

/** 2026-02-30 matches the regular expression but is not a day. */
function isCalendarDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return true;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

const TEMPORAL: Record<string, RegExp> = { date: DATE_RE, dateTime: DATE_TIME_RE, instant: INSTANT_RE };
const model = R4_MODEL as unknown as {
  path2Type: Record<string, string>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
};

/** The R4 type of `owner.name` (following contentReference and the base types), or undefined. */
function elementType(owner: string, name: string): { type: string; path: string } | undefined {
  for (let t: string | undefined = owner; t; t = t.includes('.') ? 'BackboneElement' : model.type2Parent[t]) {
    const key = `${t}.${name}`;
    const elsewhere = model.pathsDefinedElsewhere[key];
    if (elsewhere) return { type: model.path2Type[elsewhere] ?? elsewhere, path: elsewhere };
    const type = model.path2Type[key];
    if (type) return { type, path: key };
  }
  return undefined;
}

/** Every date/dateTime/instant in a resource, typed by the R4 model, must be lexically valid and a real day. */
export function invalidDates(resource: Resource, where: string): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, owner: string, path: string) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, owner, `${path}[${i}]`);
      });
      return;
    }
    if (!value || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    if (typeof obj.resourceType === 'string' && path !== '') owner = obj.resourceType;
    for (const [key, child] of Object.entries(obj)) {
      if (key === 'resourceType' || key.startsWith('_')) continue;
      const info = elementType(owner, key);
      if (!info) continue;
      const childPath = `${path}.${key}`;
      const re = TEMPORAL[info.type];
      if (re) {
        for (const v of Array.isArray(child) ? child : [child]) {
          if (typeof v !== 'string' || !re.test(v) || !isCalendarDay(v)) problems.push(`${where}${childPath}: '${String(v)}' is not a valid FHIR ${info.type}`);
        }
        continue;
      }
      // Complex types are walked under their type name; backbone elements under their path.
      const next = info.type === 'BackboneElement' || info.type === 'Element' ? info.path : info.type === 'Resource' ? owner : info.type;
      walk(child, next, childPath);
    }
  };
  walk(resource, resource.resourceType, '');
  return problems;
}

/** per-1: a Period's start is not after its end (compared as instants, date-only = start of day). */
export function invertedPeriods(resource: Resource, where: string): string[] {
  const problems: string[] = [];
  const walk = (v: unknown, p: string) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        walk(x, `${p}[${i}]`);
      });
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.start === 'string' && typeof o.end === 'string' && /Period$|period$/.test(p.replace(/\[\d+\]$/, ''))) {
      const s = Date.parse(o.start.length === 10 ? `${o.start}T00:00:00Z` : o.start);
      const e = Date.parse(o.end.length === 10 ? `${o.end}T23:59:59Z` : o.end);
      if (s > e) problems.push(`${where}${p}: start ${o.start} is after end ${o.end}`);
    }
    for (const [k, x] of Object.entries(o)) walk(x, `${p}.${k}`);
  };
  walk(resource, '');
  return problems;
}

function statusOption(value: unknown, where: string): string[] {
  return referencesPathsWhere(value, (k, v) => k === 'status' && v === 'option').map((p) => `${where}${p}: status 'option' (the R4 erratum; intent carries option)`);
}

function referencesPathsWhere(value: unknown, test: (key: string, v: unknown) => boolean, path = ''): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...referencesPathsWhere(v, test, `${path}[${i}]`)));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (test(k, v)) out.push(`${path}.${k}`);
      out.push(...referencesPathsWhere(v, test, `${path}.${k}`));
    }
  }
  return out;
}

/** Whether the R4 type has an `intent` element (CommunicationRequest and SupplyRequest do not). */
function hasIntent(type: string): boolean {
  return model.path2Type[`${type}.intent`] !== undefined;
}

/** Requests referenced from a RequestGroup's actions (any depth), resolved by a lookup. */
function requestsOf(group: RequestGroup, lookup: (ref: string) => Resource | undefined): Resource[] {
  const out: Resource[] = [];
  const walk = (actions: RequestGroupAction[] | undefined) => {
    for (const a of actions ?? []) {
      const target = a.resource?.reference ? lookup(a.resource.reference) : undefined;
      if (target) out.push(target);
      walk(a.action);
    }
  };
  walk(group.action);
  return out;
}

function intentViolations(group: RequestGroup, lookup: (ref: string) => Resource | undefined, where: string): string[] {
  const problems: string[] = [];
  const seen = new Set<Resource>();
  const visit = (g: RequestGroup) => {
    for (const r of requestsOf(g, lookup)) {
      if (seen.has(r)) continue;
      seen.add(r);
      const intent = (r as { intent?: string }).intent;
      if (hasIntent(r.resourceType) && intent !== 'option') problems.push(`${where}: ${r.resourceType}/${r.id} inside the RequestGroup has intent '${intent ?? ''}', not 'option'`);
      if (r.resourceType === 'RequestGroup') visit(r);
    }
  };
  visit(group);
  return problems;
}

/** R4 mode: the CarePlan and everything it contains. */
export function carePlanViolations(carePlan: CarePlan): string[] {
  const problems: string[] = [];
  const contained = carePlan.contained ?? [];
  const ids = contained.map((r) => r.id);
  ids.forEach((id, i) => {
    if (!id) problems.push(`contained[${i}] (${contained[i]!.resourceType}) has no id`);
    else if (ids.indexOf(id) !== i) problems.push(`contained id '${id}' is used by more than one contained resource`);
  });
  const byLocal = new Map<string, Resource>(contained.filter((r) => r.id).map((r) => [`#${r.id}`, r]));
  const referenced = new Set<string>();
  for (const { path, reference } of referencesIn(carePlan)) {
    if (!reference.startsWith('#')) continue;
    referenced.add(reference);
    if (!byLocal.has(reference)) problems.push(`${path}: '${reference}' does not resolve to a contained resource`);
  }
  for (const r of contained) if (r.id && !referenced.has(`#${r.id}`)) problems.push(`contained ${r.resourceType}/${r.id} is not referenced (dom-3)`);

  const [general] = validateResources([carePlan]);
  problems.push(...errorLines(general!.outcome, 'R4 validation'));
  if (carePlan.subject?.reference?.startsWith('Patient/')) {
    problems.push(...errorLines(validateResourceAgainst(carePlan, CAREPLAN_PROFILE), 'ip-protocol-careplan'));
  }
  const group = carePlan.activity?.map((a) => a.reference?.reference).find((ref) => ref && byLocal.get(ref)?.resourceType === 'RequestGroup');
  if (!group) problems.push('CarePlan.activity does not reference a contained RequestGroup');
  else problems.push(...intentViolations(byLocal.get(group) as RequestGroup, (ref) => byLocal.get(ref), 'R4'));
  problems.push(...statusOption(carePlan, 'CarePlan'));
  problems.push(...invalidDates(carePlan, 'CarePlan'));
  problems.push(...invertedPeriods(carePlan, 'CarePlan'));
  return problems;
}

/** CPG mode: the Bundle, RequestGroup first, every urn:uuid reference resolving to an entry. */
export function bundleViolations(bundle: Bundle): string[] {
  const problems: string[] = [];
  const entries = bundle.entry ?? [];
  if (entries[0]?.resource?.resourceType !== 'RequestGroup') problems.push('the first Bundle entry is not the RequestGroup');
  const fullUrls = entries.map((e) => e.fullUrl);
  fullUrls.forEach((u, i) => {
    if (!u) problems.push(`entry[${i}] has no fullUrl`);
    else if (fullUrls.indexOf(u) !== i) problems.push(`fullUrl ${u} is used by more than one entry (bdl-7)`);
  });
  const byUrl = new Map(entries.filter((e) => e.fullUrl && e.resource).map((e) => [e.fullUrl!, e.resource!] as const));
  const referenced = new Set<string>();
  entries.forEach((e, i) => {
    for (const { path, reference } of referencesIn(e.resource, `entry[${i}].resource`)) {
      if (reference.startsWith('#')) problems.push(`${path}: local reference '${reference}' left in CPG output (no contained resources there)`);
      if (reference.startsWith('urn:uuid:')) {
        referenced.add(reference);
        if (!byUrl.has(reference)) problems.push(`${path}: '${reference}' does not resolve to a Bundle entry`);
      }
    }
  });
  entries.slice(1).forEach((e, i) => {
    if (e.fullUrl && !referenced.has(e.fullUrl)) problems.push(`entry[${i + 1}] ${e.resource?.resourceType}/${e.resource?.id} is not referenced by any other entry`);
  });
  for (const [i, result] of validateResources([bundle, ...entries.map((e) => e.resource!).filter(Boolean)]).entries()) {
    problems.push(...errorLines(result.outcome, i === 0 ? 'R4 validation of the Bundle' : `R4 validation of entry[${i - 1}]`));
  }
  const group = entries[0]?.resource as RequestGroup | undefined;
  if (group?.resourceType === 'RequestGroup') problems.push(...intentViolations(group, (ref) => byUrl.get(ref), 'CPG'));
  problems.push(...statusOption(bundle, 'Bundle'));
  for (const e of entries)
    if (e.resource)
      problems.push(...invalidDates(e.resource, `${e.resource.resourceType}/${e.resource.id}`), ...invertedPeriods(e.resource, `${e.resource.resourceType}/${e.resource.id}`));
  problems.push(...invalidDates(bundle, 'Bundle'));
  return problems;
}

/** ActivityDefinition/$apply: one resource, valid R4, no status option, valid dates. */
export function activityResultViolations(resource: Resource): string[] {
  const [general] = validateResources([resource]);
  return [
    ...errorLines(general!.outcome, 'R4 validation'),
    ...statusOption(resource, resource.resourceType),
    ...invalidDates(resource, resource.resourceType),
    ...invertedPeriods(resource, resource.resourceType),
  ];
}
