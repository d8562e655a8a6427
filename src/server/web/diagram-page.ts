/**
 * Server-rendered HTML for the plan diagrams, readable without JavaScript: an index of the plans
 * and, per plan, the SVG inline followed by one section per action (its rule ids, the source
 * quotes, and each condition's title with its FHIRPath in a <details>), which the SVG's node
 * links point at. Pure: graph and SVG in, HTML text out.
 */
import type { PlanDefinition } from '@medplum/fhirtypes';
import { escapeXml as escape } from '../../diagram/render-svg.ts';
import type { PlanGraph } from '../../diagram/index.ts';

const PAGE_CSS = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.45}',
  'header,main{padding:0 1.25rem}header{border-bottom:1px solid #d0d7de}',
  'a{color:#0b5cad}a:focus{outline:3px solid #0b5cad;outline-offset:2px}',
  '.scroll{overflow:auto;border:1px solid #d0d7de;max-height:80vh}',
  'section.action{border-top:1px solid #d0d7de;padding:.5rem 0}section.action:target{background:#fff8c5}',
  'blockquote{margin:.25rem 0 .25rem 1rem;padding-left:.75rem;border-left:3px solid #8c959f;color:#30363d}',
  'code{background:#f6f8fa;padding:.1rem .25rem;white-space:pre-wrap;word-break:break-word}',
  '.kind{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#3d4450}.kind code{text-transform:none}',
].join('');

function layout(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title><style>${PAGE_CSS}</style></head><body>${body}</body></html>\n`;
}

export function diagramIndexPage(plans: PlanDefinition[]): string {
  const items = plans
    .map(
      (p) =>
        `<li><a href="/diagrams/${encodeURIComponent(p.id ?? '')}">${escape(p.title ?? p.id ?? '')}</a> (<a href="/diagrams/${encodeURIComponent(p.id ?? '')}.svg">SVG</a>, <a href="/diagrams/${encodeURIComponent(p.id ?? '')}.mmd">Mermaid</a>)</li>`,
    )
    .join('');
  return layout('Protocol diagrams', `<header><h1>Protocol diagrams</h1><p><a href="/">Patient view</a></p></header><main><ul>${items}</ul></main>`);
}

export function actionAnchor(ref: string): string {
  return `action-${ref}`;
}

export function diagramPage(graph: PlanGraph, svg: string): string {
  const sections = graph.nodes
    .filter((n) => n.kind !== 'plan' && n.kind !== 'activity' && n.kind !== 'nested-plan')
    .map((n) => {
      const conditions = n.conditions
        .map((c) => `<li>${escape(c.kind)}: ${escape(c.title)}<details><summary>FHIRPath</summary><code>${escape(c.fhirpath)}</code></details></li>`)
        .join('');
      const quotes = n.citations.map((c) => `<li><strong>${escape(c.rule)}</strong><blockquote>${escape(c.quote)}</blockquote></li>`).join('');
      return [
        `<section class="action" id="${escape(actionAnchor(n.ref))}" aria-labelledby="${escape(actionAnchor(n.ref))}-h">`,
        `<h3 id="${escape(actionAnchor(n.ref))}-h">${escape(n.label)}</h3>`,
        `<p class="kind">${escape(n.kind)}${n.behaviour ? ` - ${escape(n.behaviour)}` : ''} - action id <code>${escape(n.ref)}</code>${n.rules.length ? ` - rules ${escape(n.rules.join(', '))}` : ''}</p>`,
        n.description ? `<p>${escape(n.description)}</p>` : '',
        conditions ? `<h4>Conditions</h4><ul>${conditions}</ul>` : '',
        quotes ? `<h4>Rules and source quotes</h4><ul>${quotes}</ul>` : '',
        '</section>',
      ].join('');
    })
    .join('\n');
  const id = encodeURIComponent(graph.planId);
  return layout(
    `${graph.title} - diagram`,
    [
      `<header><h1>${escape(graph.title)}</h1><p><code>${escape(graph.url)}</code> - <a href="/diagrams">all diagrams</a> - <a href="/diagrams/${id}.svg">SVG</a> - <a href="/diagrams/${id}.mmd">Mermaid</a> - <a href="/">patient view</a></p></header>`,
      '<main>',
      '<p>Each box is an action of the plan (gates are red, steps that collect missing data are dashed, choices blue) or a definition it orders (green, rounded). Grey arrows nest actions, green arrows order a definition, dashed brown arrows are relatedAction timing. Select a box for its rules, source quotes and FHIRPath below.</p>',
      `<div class="scroll" tabindex="0" role="region" aria-label="Diagram of ${escape(graph.title)}">${svg}</div>`,
      `<h2>Actions, their rules and source quotes</h2>${sections}`,
      '</main>',
    ].join('\n'),
  );
}
