/**
 * PlanGraph -> SVG. ELK (elkjs, the Eclipse Layout Kernel's layered algorithm) places the nodes
 * and routes the edges; this file only sizes the boxes from their text and writes the SVG. The
 * output is deterministic (ELK is, for the same input) and self-contained: system fonts, no
 * script, every node a link (to its rules and quotes) with a tooltip holding the FHIRPath.
 */
import ElkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkLayouter, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { DiagramEdge, DiagramNode, NodeKind, PlanGraph } from './plan-graph.ts';

export interface SvgOptions {
  /** Where a node links to (its rules and quotes); no link when absent. */
  href?: (node: DiagramNode) => string | undefined;
}

/** Fill, border and the short badge of each kind; text is dark on light fills (contrast >= 7:1). */
const STYLE: Record<NodeKind, { fill: string; stroke: string; badge: string }> = {
  plan: { fill: '#e6ebf2', stroke: '#1f2937', badge: 'PLAN' },
  action: { fill: '#f6f8fa', stroke: '#57606a', badge: 'ACTION' },
  gate: { fill: '#fdecea', stroke: '#b42318', badge: 'GATE: do not perform' },
  collect: { fill: '#fff5d6', stroke: '#8a5a00', badge: 'COLLECT missing data' },
  choice: { fill: '#e8f0fe', stroke: '#1a56db', badge: 'CHOICE' },
  activity: { fill: '#eaf7ee', stroke: '#1a7f37', badge: 'DEFINITION' },
  'nested-plan': { fill: '#f1eafd', stroke: '#6e40c9', badge: 'NESTED PLAN' },
};

const FONT = 12;
const LINE = 15;
const CHAR = 6.6;
const WRAP = 40;
const PAD = 8;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Greedy word wrap at `width` characters (a long word is cut). */
export function wrap(text: string, width = WRAP): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (rest.length > width) {
      if (current) lines.push(current);
      current = '';
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    if (!current) current = rest;
    else if (current.length + 1 + rest.length <= width) current += ` ${rest}`;
    else {
      lines.push(current);
      current = rest;
    }
  }
  if (current) lines.push(current);
  return lines.length ? lines : [''];
}

interface NodeText {
  badge: string;
  lines: { text: string; bold?: boolean }[];
}

function nodeText(node: DiagramNode): NodeText {
  const style = STYLE[node.kind];
  const badge = [node.kind === 'choice' ? `CHOICE: ${node.behaviour ?? ''}` : style.badge, node.rules.length ? node.rules.join(', ') : ''].filter(Boolean).join(' | ');
  const lines: NodeText['lines'] = wrap(node.label).map((text) => ({ text, bold: true }));
  if (node.behaviour && node.kind !== 'choice') lines.push({ text: `[${node.behaviour}]` });
  for (const c of node.conditions) {
    const prefix = c.kind === 'applicability' ? 'if ' : `${c.kind}: `;
    for (const text of wrap(`${prefix}${c.title}`)) lines.push({ text });
  }
  return { badge, lines };
}

function sizeOf(text: NodeText): { width: number; height: number } {
  const longest = Math.max(text.badge.length * 0.92, ...text.lines.map((l) => l.text.length * (l.bold ? 1.08 : 1)));
  return { width: Math.ceil(longest * CHAR + 2 * PAD), height: (text.lines.length + 1) * LINE + 2 * PAD - 2 };
}

function tooltip(node: DiagramNode): string {
  const parts = [node.label];
  if (node.description) parts.push(node.description);
  for (const c of node.conditions) parts.push(`${c.kind} - ${c.title}\nFHIRPath: ${c.fhirpath}`);
  for (const c of node.citations) parts.push(`${c.rule}: ${c.quote}${c.source ? ` (${c.source})` : ''}`);
  if (node.kind === 'activity' || node.kind === 'nested-plan') parts.push(node.ref);
  return parts.join('\n\n');
}

// elk.bundled.js is CommonJS (module.exports = the constructor); its typings declare an ES default
// export, which under NodeNext reads as the module namespace. Node hands ESM the constructor.
const ELK = ElkModule as unknown as new () => ElkLayouter;

const ELK_OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.spacing.nodeNode': '14',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.spacing.edgeLabel': '2',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.layered.crossingMinimization.semiInteractive': 'false',
  'elk.randomSeed': '1',
};

function edgeLabelSize(label: string): { width: number; height: number } {
  return { width: Math.ceil(label.length * CHAR * 0.9) + 4, height: LINE };
}

function renderNode(node: DiagramNode, laid: ElkNode, text: NodeText, options: SvgOptions): string {
  const style = STYLE[node.kind];
  const x = laid.x ?? 0;
  const y = laid.y ?? 0;
  const w = laid.width ?? 0;
  const h = laid.height ?? 0;
  const rows = [`<text x="${x + PAD}" y="${y + PAD + FONT - 1}" class="badge">${escapeXml(text.badge)}</text>`];
  text.lines.forEach((line, i) => {
    rows.push(`<text x="${x + PAD}" y="${y + PAD + FONT - 1 + (i + 1) * LINE}"${line.bold ? ' class="label"' : ''}>${escapeXml(line.text)}</text>`);
  });
  const shape =
    node.kind === 'gate'
      ? `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="2" fill="${style.fill}" stroke="${style.stroke}" stroke-width="2.5"/>`
      : `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${node.kind === 'activity' || node.kind === 'nested-plan' ? 10 : 4}" fill="${style.fill}" stroke="${style.stroke}" stroke-width="1.5"${node.kind === 'collect' ? ' stroke-dasharray="5 3"' : ''}/>`;
  const body = `<title>${escapeXml(tooltip(node))}</title>${shape}${rows.join('')}`;
  const href = options.href?.(node);
  // The link's accessible name is its visible text (badge, label, conditions).
  const inner = href ? `<a href="${escapeXml(href)}">${body}</a>` : body;
  return `<g id="${escapeXml(node.id)}" class="node ${node.kind}" data-ref="${escapeXml(node.ref)}">${inner}</g>`;
}

function renderEdge(edge: DiagramEdge, laid: ElkExtendedEdge): string {
  const points = (laid.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
  if (points.length === 0) return '';
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(p.x)},${round(p.y)}`).join(' ');
  const labels = (laid.labels ?? []).map((l) => `<text x="${round(l.x ?? 0)}" y="${round((l.y ?? 0) + FONT - 2)}" class="edge-label">${escapeXml(l.text ?? '')}</text>`).join('');
  return `<g class="edge ${edge.kind}" data-source="${escapeXml(edge.source)}" data-target="${escapeXml(edge.target)}"><path d="${d}" marker-end="url(#arrow-${edge.kind})"/>${labels}</g>`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const CSS = [
  'text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;font-size:12px;fill:#1a1a1a}',
  'text.label{font-weight:600}',
  'text.badge{font-size:10.5px;fill:#3d4450;letter-spacing:.02em}',
  'text.edge-label{font-size:11px;fill:#5b3a00}',
  '.edge path{fill:none;stroke:#6b7280;stroke-width:1.2}',
  '.edge.orders path{stroke:#1a7f37}',
  '.edge.timing path{stroke:#8a5a00;stroke-dasharray:6 3}',
  'a:focus rect,a:hover rect{stroke:#0b5cad;stroke-width:3.5}',
].join('');

function marker(kind: string, color: string): string {
  return `<marker id="arrow-${kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
}

/** Lays the graph out with ELK and writes it as an SVG document. */
export async function renderPlanSvg(graph: PlanGraph, options: SvgOptions = {}): Promise<string> {
  const texts = new Map(graph.nodes.map((n) => [n.id, nodeText(n)]));
  const elkGraph: ElkNode = {
    id: 'root',
    layoutOptions: ELK_OPTIONS,
    children: graph.nodes.map((n) => ({ id: n.id, ...sizeOf(texts.get(n.id)!) })),
    edges: graph.edges.map((e) => ({
      id: e.id,
      sources: [e.source],
      targets: [e.target],
      ...(e.kind === 'timing' && e.label ? { labels: [{ text: e.label, ...edgeLabelSize(e.label) }] } : {}),
    })),
  };
  const laid = await new ELK().layout(elkGraph);
  const laidNodes = new Map((laid.children ?? []).map((n) => [n.id, n]));
  const laidEdges = new Map((laid.edges ?? []).map((e) => [e.id, e]));
  const width = Math.ceil((laid.width ?? 0) + 24);
  const height = Math.ceil((laid.height ?? 0) + 24);
  const titleId = `title-${graph.planId}`;
  // An image cannot hold links (they would be hidden from assistive technology): with links the
  // drawing is a labelled group whose boxes are links.
  const role = options.href ? 'group' : 'img';
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-12 -12 ${width} ${height}" width="${width}" height="${height}" role="${role}" aria-labelledby="${escapeXml(titleId)}" class="plan-diagram" data-plan="${escapeXml(graph.planId)}">`,
    `<title id="${escapeXml(titleId)}">${escapeXml(`Diagram of the PlanDefinition ${graph.title} (${graph.url})`)}</title>`,
    `<style>${CSS}</style>`,
    `<defs>${marker('contains', '#6b7280')}${marker('orders', '#1a7f37')}${marker('timing', '#8a5a00')}</defs>`,
    `<rect x="-12" y="-12" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  for (const edge of graph.edges) out.push(renderEdge(edge, laidEdges.get(edge.id) ?? { id: edge.id, sources: [], targets: [] }));
  for (const node of graph.nodes) out.push(renderNode(node, laidNodes.get(node.id) ?? { id: node.id }, texts.get(node.id)!, options));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
