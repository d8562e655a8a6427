/**
 * A read-only view over one $apply result for card building: the RequestGroup's actions with the
 * resource each one proposes, its trace (why), and what kind of recommendation it is.
 */
import type { PlanDefinition, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import type { PatientData } from '../../data/patient-data.ts';
import { CPG_ACTIVITY_TYPE_SYSTEM, type ActionTrace, type ApplyResult } from '../../engine/types.ts';
import type { ProtocolFacts } from './protocol-facts.ts';

export type LeafKind = 'proposal' | 'contraindication' | 'collect';

export interface Leaf {
  action: RequestGroupAction;
  resource: Resource;
  kind: LeafKind;
  /** Enclosing RequestGroup actions, outermost first. */
  ancestors: RequestGroupAction[];
}

export interface ResultView {
  /** What the protocol's artifacts say, derived once (choice groups, order checks, card text). */
  facts: ProtocolFacts;
  plan: PlanDefinition;
  result: ApplyResult;
  data: PatientData;
  leaves: Leaf[];
  traceOf(action: RequestGroupAction): ActionTrace | undefined;
  traceById(actionId: string): ActionTrace | undefined;
  /** A resource of the patient's record named by a reference (`Type/id`). */
  recordEntry(reference: string): Resource | undefined;
}

const SELECTION_GROUPS = new Set(['exactly-one', 'at-most-one']);

export function isCollectInformation(resource: Resource): boolean {
  return resource.resourceType === 'Task' && (resource.code?.coding ?? []).some((c) => c.system === CPG_ACTIVITY_TYPE_SYSTEM && c.code === 'collect-information');
}

function kindOf(resource: Resource): LeafKind {
  if (isCollectInformation(resource)) return 'collect';
  if ((resource as { doNotPerform?: boolean }).doNotPerform === true) return 'contraindication';
  return 'proposal';
}

function localId(reference: string | undefined): string | undefined {
  if (!reference) return undefined;
  const hash = reference.lastIndexOf('#');
  if (hash >= 0) return reference.slice(hash + 1);
  const slash = reference.lastIndexOf('/');
  return slash >= 0 ? reference.slice(slash + 1) : reference;
}

/** The nearest enclosing choice group (exactly-one / at-most-one), if any. */
export function selectionGroupOf(leaf: Leaf): RequestGroupAction | undefined {
  for (let i = leaf.ancestors.length - 1; i >= 0; i--) {
    const a = leaf.ancestors[i];
    if (a?.selectionBehavior && SELECTION_GROUPS.has(a.selectionBehavior)) return a;
  }
  return undefined;
}

export function buildResultView(facts: ProtocolFacts, result: ApplyResult, data: PatientData): ResultView {
  const byId = new Map<string, Resource>();
  for (const r of result.resources) if (r.id) byId.set(r.id, r);
  const traces = new Map<string, ActionTrace>();
  const tracesByResource = new Map<string, ActionTrace>();
  const walkTrace = (nodes: ActionTrace[]) => {
    for (const t of nodes) {
      traces.set(t.actionId, t);
      const rid = localId(t.resource);
      if (rid) tracesByResource.set(rid, t);
      walkTrace(t.children);
    }
  };
  walkTrace(result.trace);

  const leaves: Leaf[] = [];
  const walk = (actions: RequestGroupAction[] | undefined, ancestors: RequestGroupAction[]) => {
    for (const action of actions ?? []) {
      const id = localId(action.resource?.reference);
      const resource = id ? byId.get(id) : undefined;
      if (resource && resource.resourceType !== 'Goal') leaves.push({ action, resource, kind: kindOf(resource), ancestors });
      walk(action.action, [...ancestors, action]);
    }
  };
  walk(result.requestGroup.action, []);

  return {
    facts,
    plan: facts.plan,
    result,
    data,
    leaves,
    traceOf: (action) => (action.id ? traces.get(action.id) : undefined) ?? tracesByResource.get(localId(action.resource?.reference) ?? ''),
    traceById: (actionId) => traces.get(actionId),
    recordEntry: (reference) => data.byReference(reference),
  };
}
