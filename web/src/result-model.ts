/**
 * What the page shows, read from the $apply result (a CarePlan with its RequestGroup and requests
 * contained, and the trace the server recorded) and the patient's Bundle: the dated items of the
 * timeline, the cycle facts, age limits, and the trace of each action. Pure functions, no DOM.
 */
import type { Bundle, CarePlan, CodeableConcept, Extension, Observation, Patient, RequestGroup, RequestGroupAction, Resource, Task } from '@medplum/fhirtypes';
import { CYCLE_CODES, type CodeRef } from './cycle-codes.ts';

export const TRACE_EXTENSION = 'http://infertility-protocols.org/fhir/StructureDefinition/apply-trace';
const COLLECT = 'collect-information';

export type ItemKind = 'procedure' | 'do-not-perform' | 'collect' | 'preparation';

export interface PlanItem {
  actionId: string;
  title: string;
  resourceType: string;
  kind: ItemKind;
  /** yyyy-mm-dd; start = end for a single day; absent when the item has no date. */
  start?: string;
  end?: string;
  /** The period has a start and no end ("from ..."). */
  openEnded?: boolean;
  /** Why (do-not-perform reasons, what a collect Task needs). */
  detail?: string;
  /** Part of a choice: "choose exactly one" etc. */
  choice?: string;
}

export interface CycleFacts {
  bleedingStart?: string;
  bleedingEnd?: string;
}

export interface AgeMark {
  date: string;
  label: string;
}

export function resourcesOf(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

export function day(value: string | undefined): string | undefined {
  return value && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : undefined;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function codeText(cc: CodeableConcept | undefined): string {
  const coding = cc?.coding?.[0];
  return cc?.text ?? coding?.display ?? coding?.code ?? '';
}

function hasCode(observation: Observation, ref: CodeRef): boolean {
  return (observation.code.coding ?? []).some((c) => c.system === ref.system && c.code === ref.code);
}

function observationDate(o: Observation): string | undefined {
  return day(o.valueDateTime) ?? day(o.effectiveDateTime) ?? day(o.effectivePeriod?.start);
}

/** The newest recorded start and end of bleeding (cycle-codes.ts says which codes). */
export function cycleFacts(record: Resource[]): CycleFacts {
  const observations = record.filter((r): r is Observation => r.resourceType === 'Observation' && r.status !== 'entered-in-error');
  const newest = (ref: CodeRef) =>
    observations
      .filter((o) => hasCode(o, ref))
      .map(observationDate)
      .filter((d): d is string => d !== undefined)
      .sort()
      .pop();
  const facts: CycleFacts = {};
  const start = newest(CYCLE_CODES.bleedingStart);
  const end = newest(CYCLE_CODES.bleedingEnd);
  if (start) facts.bleedingStart = start;
  if (end && (!start || end >= start)) facts.bleedingEnd = end;
  return facts;
}

export function requestGroupOf(carePlan: CarePlan): RequestGroup | undefined {
  return carePlan.contained?.find((r): r is RequestGroup => r.resourceType === 'RequestGroup');
}

function isCollect(resource: Resource): resource is Task {
  return resource.resourceType === 'Task' && JSON.stringify(resource.code ?? {}).includes(COLLECT);
}

function periodOf(value: unknown): { start?: string; end?: string } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { start, end } = value as Record<string, unknown>;
  return { ...(typeof start === 'string' ? { start } : {}), ...(typeof end === 'string' ? { end } : {}) };
}

/** Every request, do-not-perform request and collect Task of the result, with its dates. */
export function planItems(carePlan: CarePlan): PlanItem[] {
  const contained = new Map((carePlan.contained ?? []).map((r) => [`#${r.id ?? ''}`, r]));
  const items: PlanItem[] = [];
  const walk = (actions: RequestGroupAction[] | undefined, choice: string | undefined) => {
    for (const action of actions ?? []) {
      const resource = action.resource?.reference ? contained.get(action.resource.reference) : undefined;
      if (resource && resource.resourceType !== 'RequestGroup') {
        const fields = resource as unknown as Record<string, unknown>;
        const period = periodOf(fields['occurrencePeriod'] ?? fields['executionPeriod'] ?? action.timingPeriod);
        const single = day((fields['occurrenceDateTime'] as string | undefined) ?? action.timingDateTime);
        const item: PlanItem = {
          actionId: action.id ?? resource.id ?? '',
          title: action.title ?? codeText(fields['code'] as CodeableConcept | undefined),
          resourceType: resource.resourceType,
          kind: 'preparation',
        };
        const start = single ?? day(period?.start);
        const end = single ?? day(period?.end);
        if (start) item.start = start;
        if (end) item.end = end;
        else if (start && period?.start) item.openEnded = true;
        else if (start) item.end = start;
        if (fields['doNotPerform'] === true) {
          item.kind = 'do-not-perform';
          const reasons = ((fields['reasonCode'] as CodeableConcept[] | undefined) ?? []).map(codeText).filter(Boolean);
          if (reasons.length) item.detail = reasons.join('; ');
        } else if (isCollect(resource)) {
          item.kind = 'collect';
          if (resource.description) item.detail = resource.description;
        } else if (resource.resourceType === 'ServiceRequest' && !(action.relatedAction ?? []).length) {
          item.kind = 'procedure';
        }
        if (choice) item.choice = choice;
        items.push(item);
      }
      const nested = resource?.resourceType === 'RequestGroup' ? resource.action : undefined;
      walk(nested, undefined);
      walk(action.action, action.selectionBehavior && action.selectionBehavior !== 'any' ? action.selectionBehavior.replace(/-/g, ' ') : undefined);
    }
  };
  walk(requestGroupOf(carePlan)?.action, undefined);
  return items;
}

/**
 * Age limits on the axis: each birthday that falls within [from, to], and a period that ends the
 * day before a birthday (a plan's "younger than N on the day" rule) is labelled as such.
 */
export function ageMarks(patient: Patient | undefined, from: string, to: string, items: PlanItem[]): AgeMark[] {
  const birth = day(patient?.birthDate);
  if (!birth) return [];
  const marks: AgeMark[] = [];
  for (let year = Number(from.slice(0, 4)); year <= Number(to.slice(0, 4)); year++) {
    const birthday = `${year}${birth.slice(4)}`;
    if (birthday < from || birthday > to) continue;
    const age = year - Number(birth.slice(0, 4));
    const limited = items.filter((i) => i.end === addDays(birthday, -1) && i.kind === 'procedure');
    marks.push({ date: birthday, label: `turns ${age}${limited.length ? ` (age limit: ${limited.map((i) => i.title).join(', ')} must end the day before)` : ''}` });
  }
  return marks;
}

export type TraceStatus = 'applied' | 'not applied' | 'missing data' | 'error';

export interface TraceCondition {
  /** The rule as people know it (the expression's description), else its FHIRPath. */
  label: string;
  fhirpath: string;
  /** What it evaluated to: true, false, empty, another result as JSON, or the error. */
  outcome: string;
}

export interface TraceMissing {
  inputId: string;
  type: string;
  /** The collect-information Task asking for it: its id and what it says. */
  taskId: string;
  task: string;
}

export interface TraceRow {
  actionId: string;
  title: string;
  depth: number;
  status: TraceStatus;
  reason: string;
  conditions: TraceCondition[];
  /** The inputs the action could read and how many resources each held. */
  inputs: { id: string; count: number }[];
  missing: TraceMissing[];
  /** The request made for the action (its type and code), if any. */
  request?: string;
  notes: string[];
}

const STATUS: Record<string, TraceStatus> = { applicable: 'applied', 'not-applicable': 'not applied', 'missing-data': 'missing data', error: 'error' };

function outcomeOf(result: string | undefined, error: string | undefined): string {
  if (error !== undefined) return `error: ${error}`;
  if (result === '[true]') return 'true';
  if (result === '[false]') return 'false';
  if (result === '[]') return 'empty (no data to decide)';
  return result ?? 'not evaluated';
}

/**
 * Why each action is in or out, as the served $apply recorded it (trace=true: one apply-trace
 * extension per action on the RequestGroup, depth first, see profiles/). Undefined when the result
 * carries no trace: the page does not guess one from the plan.
 */
export function traceRows(carePlan: CarePlan): TraceRow[] | undefined {
  const traces = (requestGroupOf(carePlan)?.extension ?? []).filter((e) => e.url === TRACE_EXTENSION);
  if (traces.length === 0) return undefined;
  const contained = new Map((carePlan.contained ?? []).map((r) => [`#${r.id ?? ''}`, r]));
  const parts = (ext: Extension, url: string) => (ext.extension ?? []).filter((e) => e.url === url);
  const text = (ext: Extension, url: string) => parts(ext, url)[0]?.valueString;
  const depths = new Map<string, number>();
  return traces.map((ext) => {
    const actionId = text(ext, 'actionId') ?? '';
    const parent = text(ext, 'parent');
    const depth = parent !== undefined ? (depths.get(parent) ?? -1) + 1 : 0;
    depths.set(actionId, depth);
    const row: TraceRow = {
      actionId,
      title: text(ext, 'title') ?? actionId,
      depth,
      status: STATUS[parts(ext, 'applicability')[0]?.valueCode ?? ''] ?? 'error',
      reason: text(ext, 'reason') ?? '',
      conditions: parts(ext, 'condition').map((c) => {
        const expression = parts(c, 'expression')[0]?.valueExpression;
        return { label: expression?.description ?? expression?.expression ?? '', fhirpath: expression?.expression ?? '', outcome: outcomeOf(text(c, 'result'), text(c, 'error')) };
      }),
      inputs: parts(ext, 'input').map((i) => ({ id: text(i, 'id') ?? '', count: parts(i, 'count')[0]?.valueUnsignedInt ?? 0 })),
      missing: parts(ext, 'missing').map((m) => {
        const taskId = parts(m, 'task')[0]?.valueReference?.reference ?? '';
        const task = contained.get(taskId);
        return { inputId: text(m, 'inputId') ?? '', type: parts(m, 'type')[0]?.valueCode ?? '', taskId, task: (task as Task | undefined)?.description ?? taskId };
      }),
      notes: parts(ext, 'note').map((n) => n.valueString ?? ''),
    };
    const reference = parts(ext, 'resource')[0]?.valueReference?.reference;
    const request = reference ? contained.get(reference) : undefined;
    if (request) {
      const code = codeText((request as unknown as { code?: CodeableConcept }).code);
      row.request = `${request.resourceType}${code ? `: ${code}` : ''}`;
    } else if (reference) row.request = reference;
    return row;
  });
}

/** The Patient the apply is about (the first one in the Bundle). */
export function patientOf(record: Resource[]): Patient | undefined {
  return record.find((r): r is Patient => r.resourceType === 'Patient');
}
