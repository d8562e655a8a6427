/**
 * What the page shows, read from the $apply result (a CarePlan with its RequestGroup and requests
 * contained), the patient's Bundle and the PlanDefinition: the dated items of the timeline, the
 * cycle facts, age limits, and the trace of each action. Pure functions, no DOM.
 */
import type {
  Bundle,
  CarePlan,
  CodeableConcept,
  Observation,
  Patient,
  PlanDefinition,
  PlanDefinitionAction,
  RequestGroup,
  RequestGroupAction,
  Resource,
  Task,
} from '@medplum/fhirtypes';
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

export type TraceStatus = 'applied' | 'not applied' | 'missing data' | 'not reached';

export interface TraceRow {
  actionId: string;
  title: string;
  depth: number;
  status: TraceStatus;
  reason: string;
  conditions: { title: string; fhirpath: string }[];
  inputs: { id: string; type: string; required: boolean }[];
  /** Collect Tasks that ask for this action's missing inputs. */
  tasks: string[];
}

interface EngineTrace {
  applicability: string;
  reason: string;
  notes: string[];
}

/** The engine's own trace entries, when the RequestGroup carries them (traceExtension). */
function engineTrace(group: RequestGroup | undefined): Map<string, EngineTrace> {
  const byAction = new Map<string, EngineTrace>();
  for (const ext of group?.extension ?? []) {
    if (ext.url !== TRACE_EXTENSION) continue;
    const part = (name: string) => (ext.extension ?? []).filter((e) => e.url === name);
    const actionId = part('actionId')[0]?.valueString;
    if (!actionId) continue;
    byAction.set(actionId, {
      applicability: part('applicability')[0]?.valueCode ?? '',
      reason: part('reason')[0]?.valueString ?? '',
      notes: part('note').map((n) => n.valueString ?? ''),
    });
  }
  return byAction;
}

const INPUT_REQUIRED = 'http://infertility-protocols.org/fhir/StructureDefinition/input-required';

/**
 * Why each action of the plan is in or out. The engine's trace is used when the result carries
 * it; otherwise it is read from the result: an action is applied when the RequestGroup holds it,
 * waits for data when a collect Task names it, and is otherwise out because a condition of its
 * own was false (or its parent was out, then it was never reached).
 */
export function traceRows(plan: PlanDefinition, carePlan: CarePlan): TraceRow[] {
  const group = requestGroupOf(carePlan);
  const applied = new Set<string>();
  const collect = (carePlan.contained ?? []).filter(isCollect);
  const walkGroup = (actions: RequestGroupAction[] | undefined) => {
    for (const a of actions ?? []) {
      if (a.id) applied.add(a.id);
      walkGroup(a.action);
    }
  };
  walkGroup(group?.action);
  const fromEngine = engineTrace(group);
  // With nothing missing and no expression error every action was decided, so an action that is
  // not in the result had a false condition. Otherwise it may also be undecided: say so.
  const errors = (carePlan.contained ?? []).some((r) => r.resourceType === 'OperationOutcome' && r.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'));
  const allDecided = collect.length === 0 && !errors;
  const tasksOf = (action: PlanDefinitionAction) =>
    collect.filter((t) => (t.description ?? '').includes(`needed to decide ${action.title ?? action.id ?? ''}`)).map((t) => t.description ?? '');
  const waitsBelow = (action: PlanDefinitionAction): boolean => tasksOf(action).length > 0 || (action.action ?? []).some(waitsBelow);
  const rows: TraceRow[] = [];
  const visit = (actions: PlanDefinitionAction[] | undefined, depth: number, parentIn: boolean) => {
    for (const action of actions ?? []) {
      const actionId = action.id ?? '';
      const title = action.title ?? actionId;
      const conditions = (action.condition ?? []).map((c) => ({ title: c.expression?.description ?? c.expression?.expression ?? '', fhirpath: c.expression?.expression ?? '' }));
      const inputs = (action.input ?? []).map((i) => ({
        id: i.id ?? '',
        type: i.type,
        required: (i.extension ?? []).some((e) => e.url === INPUT_REQUIRED && e.valueBoolean === true),
      }));
      const tasks = tasksOf(action);
      let status: TraceStatus;
      let reason: string;
      const engine = fromEngine.get(actionId);
      if (engine) {
        status = engine.applicability === 'applicable' ? 'applied' : engine.applicability === 'missing-data' ? 'missing data' : 'not applied';
        reason = [engine.reason, ...engine.notes].join(' ');
      } else if (!parentIn) {
        status = 'not reached';
        reason = 'its parent action did not apply (or waits for data)';
      } else if (applied.has(actionId)) {
        status = 'applied';
        reason = conditions.length ? 'every condition was true' : 'no condition: applies with its parent';
      } else if (tasks.length) {
        status = 'missing data';
        reason = 'not decided: data it needs is missing (see the Task)';
      } else if (waitsBelow(action)) {
        status = 'missing data';
        reason = 'a decision below it waits for missing data (see the Tasks)';
      } else {
        status = 'not applied';
        const conditionText = conditions.map((c) => c.title).join('; ');
        reason = allDecided
          ? conditions.length
            ? `a condition was false: ${conditionText}`
            : 'not selected'
          : `not in the result: ${conditions.length ? `a condition was false (${conditionText})` : 'not selected'}, or not decided because data is missing - without the engine's trace the page cannot tell which`;
      }
      rows.push({ actionId, title, depth, status, reason, conditions, inputs, tasks });
      visit(action.action, depth + 1, status === 'applied' || (status === 'missing data' && tasks.length === 0));
    }
  };
  visit(plan.action, 0, true);
  return rows;
}

/** The Patient the apply is about (the first one in the Bundle). */
export function patientOf(record: Resource[]): Patient | undefined {
  return record.find((r): r is Patient => r.resourceType === 'Patient');
}
