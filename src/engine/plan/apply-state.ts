/**
 * The state of one PlanDefinition/$apply: what has been produced so far (requests, RequestGroup
 * actions by id, goals used, allocated ids) and the scope an action is evaluated in. Everything
 * here lives for one apply only; nothing is shared between applies.
 */
import type { DataRequirement, Patient, PlanDefinition, PlanDefinitionGoal, Reference, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { issue, OperationOutcomeError, outcome } from '../../errors/operation-outcome.ts';
import type { Clock } from '../../fhirpath/fhirpath-engine.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import type { Variables } from '../expression.ts';
import type { MissingDataCollector } from '../missing-data.ts';
import type { ResolvedOptions } from '../options.ts';
import type { ActionTrace, ApplyContext, Issues } from '../types.ts';

export const REQUEST_GROUP_ID = 'requestgroup';

export interface UsedGoal {
  resourceId: string;
  goal: PlanDefinitionGoal;
  index: number;
}

/** An emitted RequestGroup action with its request, kept for relatedAction resolution and the SAFE-6 merge. */
export interface EmittedAction {
  action: RequestGroupAction;
  request?: Resource;
  trace: ActionTrace;
}

export interface ApplyState {
  readonly knowledge: CompiledKnowledge;
  readonly context: ApplyContext;
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly subjectRef: Reference<Patient>;
  readonly issues: Issues;
  readonly missing: MissingDataCollector;
  /** Requests and nested RequestGroups, in creation order. */
  readonly resources: Resource[];
  /** Every emitted RequestGroup action by id, with its request, for relatedAction resolution. */
  readonly byActionId: Map<string, EmittedAction>;
  /** Goals referenced by applied actions, keyed by plan canonical + goal id, in first-use order. */
  readonly goalsUsed: Map<string, UsedGoal>;
  /** Ids of contained resources / bundle entries; generated ids never collide. */
  readonly ids: Set<string>;
  readonly inputCache: Map<DataRequirement, Resource[]>;
  /** Input date filters' look-back bounds by duration (inputs.ts), worked out once per apply. */
  readonly lookBacks: Map<string, [number | undefined, number | undefined]>;
  readonly planStack: string[];
}

export interface Scope {
  plan: PlanDefinition;
  /** Prefix for generated resource ids (nested plans), so contained ids stay unique. */
  idPrefix: string;
  variables: Variables;
  /** The `PlanDefinition.action[i]...` path, for issues. */
  path: string;
}

export function canonicalOf(resource: { url?: string; version?: string; id?: string; resourceType: string }): string {
  if (!resource.url) return `${resource.resourceType}/${resource.id ?? ''}`;
  return resource.version ? `${resource.url}|${resource.version}` : resource.url;
}

/** A FHIR id made of an action id or path: characters outside [A-Za-z0-9-.] become '-', at most 64. */
export function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 64);
}

/** Records an issue of the apply; in strict mode an error ends the apply instead. */
export function fail(state: ApplyState, severity: 'error' | 'warning', code: 'processing' | 'not-found' | 'not-supported' | 'invalid', message: string, where: string): void {
  const found = issue(severity, code, message, [where]);
  if (severity === 'error' && state.options.strict) throw new OperationOutcomeError(outcome(found));
  state.issues.push(found);
}

/** A contained-resource id: `base` if free, else base-2, base-3, ... (deterministic: allocation order). */
export function allocateId(state: ApplyState, base: string): string {
  let id = base;
  for (let n = 2; state.ids.has(id); n++) id = `${base.slice(0, 60)}-${n}`;
  state.ids.add(id);
  return id;
}

/**
 * Marks what exists now; the returned function removes what was added since. Only sizes are kept:
 * entries are only ever added (or rolled back newest first), and a Map iterates in insertion order,
 * so what was added since is what lies beyond the recorded size. (Copying the key sets at every
 * applicable action made this quadratic in the number of actions.)
 */
export function checkpoint(state: ApplyState): () => void {
  const resources = state.resources.length;
  const actionIds = state.byActionId.size;
  const goals = state.goalsUsed.size;
  return () => {
    state.resources.length = resources;
    keepFirst(state.byActionId, actionIds);
    keepFirst(state.goalsUsed, goals);
  };
}

function keepFirst(map: Map<string, unknown>, count: number): void {
  if (map.size <= count) return;
  let seen = 0;
  for (const key of [...map.keys()]) if (seen++ >= count) map.delete(key);
}
