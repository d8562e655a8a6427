/**
 * PlanGraph -> Mermaid flowchart text (renders on GitHub and in most Markdown viewers). The same
 * nodes and edges as the SVG; Mermaid lays it out itself. Deterministic: graph order, stable ids.
 */
import type { DiagramNode, NodeKind, PlanGraph } from './plan-graph.ts';

const CLASS_DEFS: Record<NodeKind, string> = {
  plan: 'fill:#e6ebf2,stroke:#1f2937,color:#1a1a1a',
  action: 'fill:#f6f8fa,stroke:#57606a,color:#1a1a1a',
  gate: 'fill:#fdecea,stroke:#b42318,stroke-width:3px,color:#1a1a1a',
  collect: 'fill:#fff5d6,stroke:#8a5a00,stroke-dasharray:5 3,color:#1a1a1a',
  choice: 'fill:#e8f0fe,stroke:#1a56db,color:#1a1a1a',
  activity: 'fill:#eaf7ee,stroke:#1a7f37,color:#1a1a1a',
  'nested-plan': 'fill:#f1eafd,stroke:#6e40c9,color:#1a1a1a',
};

/** Mermaid labels are quoted: a double quote is written as the #quot; entity, < and > likewise. */
function label(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function mermaidId(id: string): string {
  return id.replace(/[^A-Za-z0-9_]/g, '_');
}

function nodeLabel(node: DiagramNode): string {
  const parts = [node.rules.length ? node.rules.join(', ') : '', node.label];
  if (node.behaviour) parts.push(`[${node.behaviour}]`);
  for (const c of node.conditions) parts.push(`${c.kind === 'applicability' ? 'if' : c.kind} ${c.title}`);
  return parts
    .filter(Boolean)
    .map((p) => label(p))
    .join('<br/>');
}

function shape(node: DiagramNode): [string, string] {
  if (node.kind === 'gate') return ['{{', '}}'];
  if (node.kind === 'activity' || node.kind === 'nested-plan') return ['(', ')'];
  if (node.kind === 'choice') return ['[/', '/]'];
  return ['[', ']'];
}

export function renderPlanMermaid(graph: PlanGraph): string {
  const lines = ['flowchart LR'];
  for (const node of graph.nodes) {
    const [open, close] = shape(node);
    lines.push(`  ${mermaidId(node.id)}${open}"${nodeLabel(node)}"${close}`);
  }
  for (const edge of graph.edges) {
    const arrow = edge.kind === 'timing' ? '-.->' : edge.kind === 'orders' ? '==>' : '-->';
    const text = edge.kind === 'timing' && edge.label ? `|"${label(edge.label)}"|` : '';
    lines.push(`  ${mermaidId(edge.source)} ${arrow}${text} ${mermaidId(edge.target)}`);
  }
  for (const [kind, style] of Object.entries(CLASS_DEFS)) lines.push(`  classDef ${kind.replace('-', '_')} ${style}`);
  const byKind = new Map<string, string[]>();
  for (const node of graph.nodes) byKind.set(node.kind, [...(byKind.get(node.kind) ?? []), mermaidId(node.id)]);
  for (const [kind, ids] of byKind) lines.push(`  class ${ids.join(',')} ${kind.replace('-', '_')}`);
  return `${lines.join('\n')}\n`;
}
