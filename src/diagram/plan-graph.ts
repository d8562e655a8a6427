/**
 * A PlanDefinition as a graph for people: one node per action (its applicability conditions, the
 * rules it cites and their source quotes), one node per ActivityDefinition or nested plan it
 * orders, and edges for nesting, ordering and relatedAction timing. Pure: the plan and the
 * compiled knowledge in, a plain data model out; the SVG and Mermaid renderers read only this.
 * What a node "is" (gate, collect step, choice) is read from the artifacts' structure - a
 * doNotPerform request, a CPG collect-information Task, a selectionBehavior - never from codes.
 */
import type { ActivityDefinition, Duration, PlanDefinition, PlanDefinitionAction, PlanDefinitionActionRelatedAction, Range } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { CPG_ACTIVITY_TYPE_SYSTEM } from '../engine/types.ts';
import { readCitation, type Citation } from './citation.ts';

export type NodeKind = 'plan' | 'action' | 'gate' | 'collect' | 'choice' | 'activity' | 'nested-plan';
export type EdgeKind = 'contains' | 'orders' | 'timing';

export interface ConditionView {
  kind: string;
  /** The expression's description: what the rule means, for people. */
  title: string;
  fhirpath: string;
}

export interface DiagramNode {
  id: string;
  kind: NodeKind;
  label: string;
  /** The action id (action nodes) or canonical (activity nodes): what a link points at. */
  ref: string;
  /** "choose exactly one", "all or none"...: the selection and grouping behaviours. */
  behaviour?: string;
  conditions: ConditionView[];
  citations: Citation[];
  /** The rule ids cited, in order of first mention. */
  rules: string[];
  description?: string;
}

export interface DiagramEdge {
  id: string;
  kind: EdgeKind;
  source: string;
  target: string;
  label?: string;
}

export interface PlanGraph {
  planId: string;
  title: string;
  url: string;
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

const SELECTION_TEXT: Record<string, string> = {
  any: 'choose any',
  all: 'all of them',
  'all-or-none': 'all or none',
  'exactly-one': 'choose exactly one',
  'at-most-one': 'choose at most one',
  'one-or-more': 'choose one or more',
};

function quantityText(q: Duration | undefined): string {
  if (!q || q.value === undefined) return '';
  return `${q.value} ${q.unit ?? q.code ?? ''}`.trim();
}

function rangeText(r: Range | undefined): string {
  if (!r) return '';
  const low = quantityText(r.low);
  const high = quantityText(r.high);
  return low && high ? `${low} to ${high}` : low || high;
}

/** "30 min before start", "after end": the relationship in words (the target is the edge's end). */
export function relatedActionText(related: PlanDefinitionActionRelatedAction): string {
  const offset = quantityText(related.offsetDuration) || rangeText(related.offsetRange);
  const words = related.relationship.replace('concurrent-with-', 'concurrent with ').replace(/^(before|after)-/, '$1 ');
  return `${offset ? `${offset} ` : ''}${words}`.trim();
}

function citationsOf(action: PlanDefinitionAction): Citation[] {
  return (action.documentation ?? []).flatMap((d) => readCitation(d) ?? []);
}

function isCollectTask(ad: ActivityDefinition | undefined): boolean {
  return ad?.kind === 'Task' && (ad.code?.coding ?? []).some((c) => c.system === CPG_ACTIVITY_TYPE_SYSTEM && c.code === 'collect-information');
}

function kindOf(action: PlanDefinitionAction, ad: ActivityDefinition | undefined): NodeKind {
  if (ad?.doNotPerform === true || (action.dynamicValue ?? []).some((d) => d.path === 'doNotPerform')) return 'gate';
  if (isCollectTask(ad)) return 'collect';
  if (action.selectionBehavior && (action.action?.length ?? 0) > 0 && action.selectionBehavior !== 'any') return 'choice';
  return 'action';
}

function behaviourOf(action: PlanDefinitionAction): string | undefined {
  const parts: string[] = [];
  if (action.selectionBehavior && (action.action?.length ?? 0) > 0) parts.push(SELECTION_TEXT[action.selectionBehavior] ?? action.selectionBehavior);
  if (action.requiredBehavior === 'must') parts.push('required');
  if (action.requiredBehavior === 'must-unless-documented') parts.push('required unless documented');
  return parts.length ? parts.join(', ') : undefined;
}

/** Builds the graph of one plan. Node ids are stable (derived from action ids and canonicals). */
export function buildPlanGraph(plan: PlanDefinition, knowledge: CompiledKnowledge): PlanGraph {
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const byCanonical = new Map<string, string>();
  const actionNodeIds = new Map<string, string>();
  const pending: { from: string; related: PlanDefinitionActionRelatedAction }[] = [];
  const planNodeId = `plan-${plan.id ?? 'plan'}`;
  nodes.push({ id: planNodeId, kind: 'plan', label: plan.title ?? plan.name ?? plan.id ?? 'PlanDefinition', ref: plan.url ?? '', conditions: [], citations: [], rules: [] });

  let counter = 0;
  const visit = (actions: PlanDefinitionAction[] | undefined, parentId: string, path: string) => {
    (actions ?? []).forEach((action, index) => {
      const actionId = action.id ?? `${path}${index + 1}`;
      const nodeId = `action-${actionId}`;
      actionNodeIds.set(actionId, nodeId);
      const canonical = action.definitionCanonical;
      const definition = canonical ? knowledge.resolve(canonical) : undefined;
      const ad = definition?.resourceType === 'ActivityDefinition' ? definition : undefined;
      const citations = citationsOf(action);
      const node: DiagramNode = {
        id: nodeId,
        kind: kindOf(action, ad),
        label: action.title ?? action.description ?? actionId,
        ref: actionId,
        conditions: (action.condition ?? []).map((c) => ({
          kind: c.kind,
          title: c.expression?.description ?? c.expression?.name ?? c.expression?.expression ?? '',
          fhirpath: c.expression?.expression ?? '',
        })),
        citations,
        rules: [...new Set(citations.map((c) => c.rule))],
      };
      const behaviour = behaviourOf(action);
      if (behaviour) node.behaviour = behaviour;
      if (action.description) node.description = action.description;
      nodes.push(node);
      edges.push({ id: `e${++counter}`, kind: 'contains', source: parentId, target: nodeId });
      if (canonical) {
        let targetId = byCanonical.get(canonical);
        if (!targetId) {
          targetId = `def-${byCanonical.size + 1}`;
          byCanonical.set(canonical, targetId);
          const isPlan = definition?.resourceType === 'PlanDefinition';
          const title = definition && 'title' in definition ? definition.title : undefined;
          nodes.push({
            id: targetId,
            kind: isPlan ? 'nested-plan' : 'activity',
            label: `${isPlan ? 'PlanDefinition' : (ad?.kind ?? 'ActivityDefinition')}: ${title ?? canonical.split('/').pop() ?? canonical}`,
            ref: canonical,
            conditions: [],
            citations: [],
            rules: [],
          });
        }
        edges.push({ id: `e${++counter}`, kind: 'orders', source: nodeId, target: targetId, label: node.kind === 'gate' ? 'do not perform' : 'orders' });
      }
      for (const related of action.relatedAction ?? []) pending.push({ from: nodeId, related });
      visit(action.action, nodeId, `${actionId}.`);
    });
  };
  visit(plan.action, planNodeId, 'action-');
  for (const { from, related } of pending) {
    const target = related.actionId ? actionNodeIds.get(related.actionId) : undefined;
    if (!target) continue;
    edges.push({ id: `e${++counter}`, kind: 'timing', source: from, target, label: relatedActionText(related) });
  }
  return { planId: plan.id ?? '', title: plan.title ?? plan.id ?? '', url: plan.url ?? '', nodes, edges };
}
