/**
 * Plan diagrams: a PlanDefinition (resolved in a CompiledKnowledge) -> graph model -> SVG laid
 * out by ELK, or Mermaid text. Used by the CLI `diagram` command, the server's diagram pages and
 * docs/protocols.md (scripts/protocol-docs.ts).
 */
import type { PlanDefinition } from '@medplum/fhirtypes';
import { notFound } from '../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { buildPlanGraph, type PlanGraph } from './plan-graph.ts';
import { renderPlanMermaid } from './render-mermaid.ts';
import { renderPlanSvg, type SvgOptions } from './render-svg.ts';

export { buildPlanGraph, renderPlanMermaid, renderPlanSvg };
export type { PlanGraph, SvgOptions };
export type { ConditionView, DiagramEdge, DiagramNode, NodeKind } from './plan-graph.ts';
export { blockquoteOf, readCitation, ruleCitations, type Citation } from './citation.ts';

export type DiagramFormat = 'svg' | 'mermaid';

/** A plan by canonical (`url[|version]`), `PlanDefinition/<id>` or bare id; not-found otherwise. */
export function findPlan(knowledge: CompiledKnowledge, reference: string): PlanDefinition {
  const id = reference.replace(/^PlanDefinition\//, '');
  const found = knowledge.resolve<PlanDefinition>(reference, 'PlanDefinition') ?? (id.includes('/') ? undefined : knowledge.byId<PlanDefinition>('PlanDefinition', id));
  if (!found) throw notFound(`PlanDefinition ${reference} is not known (give its canonical url[|version] or its id)`);
  return found;
}

/** The PlanDefinitions of the knowledge, by id (the ones a diagram can be drawn of). */
export function listPlans(knowledge: CompiledKnowledge): PlanDefinition[] {
  return knowledge
    .all()
    .filter((r): r is PlanDefinition => r.resourceType === 'PlanDefinition')
    .sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
}

export async function renderPlanDiagram(plan: PlanDefinition, knowledge: CompiledKnowledge, format: DiagramFormat, options: SvgOptions = {}): Promise<string> {
  const graph = buildPlanGraph(plan, knowledge);
  return format === 'svg' ? renderPlanSvg(graph, options) : renderPlanMermaid(graph);
}
