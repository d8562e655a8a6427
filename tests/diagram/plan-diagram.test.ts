import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlanGraph, findPlan, renderPlanMermaid, renderPlanSvg } from '../../src/diagram/index.ts';
import { DOCS_PATH, protocolDocs } from '../../src/diagram/protocol-docs.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { cli } from '../support/cli.ts';

const knowledge = loadKnowledge();
const hsg = findPlan(knowledge, 'hysterosalpingography');

describe('plan graph', () => {
  const graph = buildPlanGraph(hsg, knowledge);
  const node = (ref: string) => graph.nodes.find((n) => n.ref === ref)!;

  it('has one node per action, with its conditions, rule ids and source quotes', () => {
    const pregnancy = node('hsg-ci-pregnancy');
    expect(pregnancy.kind).toBe('gate');
    expect(pregnancy.conditions).toEqual([{ kind: 'applicability', title: 'HSG-C3: pregnancy', fhirpath: '%pregnant' }]);
    expect(pregnancy.rules).toContain('HSG-C3');
    expect(pregnancy.citations.find((c) => c.rule === 'HSG-C3')?.quote).toContain('pregnancy, menstruation');
  });

  it('marks collect steps and choices by their structure, with the selection behaviour in words', () => {
    expect(node('hsg-fitness-not-assessed').kind).toBe('collect');
    expect(node('hsg-patency-test')).toMatchObject({ kind: 'choice', behaviour: 'choose exactly one, required' });
  });

  it('draws each ordered definition once, and relatedAction timing with its offset', () => {
    const atropine = graph.edges.find((e) => e.kind === 'timing' && e.source === 'action-hsg-atropine');
    expect(atropine).toMatchObject({ target: 'action-hsg-order', label: '30 min before start' });
    const after = graph.edges.find((e) => e.kind === 'timing' && e.source === 'action-hsg-instruction-no-tub-bath');
    expect(after?.label).toBe('after end');
    const definitions = graph.nodes.filter((n) => n.kind === 'activity').map((n) => n.ref);
    expect(new Set(definitions).size).toBe(definitions.length);
    const hsgDefinition = graph.nodes.find((n) => n.ref.endsWith('ActivityDefinition/hysterosalpingography|0.1.0'))!;
    const orders = graph.edges.filter((e) => e.kind === 'orders' && e.target === hsgDefinition.id);
    expect(orders.length).toBeGreaterThan(5);
  });
});

describe('SVG and Mermaid', () => {
  it('lays the plan out into an SVG whose nodes carry their labels, links and FHIRPath tooltips, the same every time', async () => {
    const graph = buildPlanGraph(hsg, knowledge);
    const svg = await renderPlanSvg(graph, { href: (n) => `/x#${n.ref}` });
    expect(svg).toMatch(/^<svg [^>]*role="group"/);
    expect(svg).toContain('>Do not perform HSG: pregnancy</text>');
    expect(svg).toContain('<a href="/x#hsg-ci-pregnancy"');
    expect(svg).toContain('FHIRPath: %pregnant');
    expect(svg).toContain('>30 min before start</text>');
    const boxes = [...svg.matchAll(/<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/g)].slice(1);
    expect(boxes.length).toBe(graph.nodes.length);
    // ELK placed them: no two boxes overlap.
    const rects = boxes.map((m) => m.slice(1).map(Number) as [number, number, number, number]);
    for (let i = 0; i < rects.length; i++)
      for (let j = i + 1; j < rects.length; j++) {
        const [ax, ay, aw, ah] = rects[i]!;
        const [bx, by, bw, bh] = rects[j]!;
        expect(ax + aw <= bx || bx + bw <= ax || ay + ah <= by || by + bh <= ay).toBe(true);
      }
    expect(await renderPlanSvg(graph, { href: (n) => `/x#${n.ref}` })).toBe(svg);
  });

  it('writes Mermaid flowchart text with gates, choices and timing edges', () => {
    const text = renderPlanMermaid(buildPlanGraph(hsg, knowledge));
    expect(text.startsWith('flowchart LR\n')).toBe(true);
    expect(text).toContain('action_hsg_ci_pregnancy{{"HSG-C3, SAFE-2');
    expect(text).toContain('action_hsg_atropine -.->|"30 min before start"| action_hsg_order');
    expect(text).not.toMatch(/\["[^"\n]*"[^\]]/);
  });
});

describe('docs/protocols.md', () => {
  it('embeds the current drawing of every plan (run `npm run docs:protocols` when this fails)', async () => {
    const files = await protocolDocs(knowledge, readFileSync(join(PROJECT_ROOT, DOCS_PATH), 'utf8'));
    expect(files.get(DOCS_PATH)).toContain('![Diagram of Hysterosalpingography (HSG) in the infertility work-up](diagrams/hysterosalpingography.svg)');
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'docs/protocols.md',
        'docs/diagrams/hysterosalpingography.svg',
        'docs/diagrams/infertility-hysteroscopy.svg',
        'docs/diagrams/tubal-reanastomosis.svg',
      ]),
    );
    for (const [path, content] of files) expect(readFileSync(join(PROJECT_ROOT, path), 'utf8'), `${path} is stale`).toBe(content);
  });
});

describe('CLI diagram', () => {
  it('prints the Mermaid text, or writes the SVG to --out', async () => {
    const mermaid = await cli(['diagram', '--plan', 'http://infertility-protocols.org/fhir/PlanDefinition/tubal-reanastomosis|0.1.0', '--format', 'mermaid']);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toContain('Tubal ligation reversal');
    const out = join(mkdtempSync(join(tmpdir(), 'diagram-')), 'tr.svg');
    const written = await cli(['diagram', '--plan', 'tubal-reanastomosis', '--out', out]);
    expect(written.code).toBe(0);
    expect(written.json.issue[0].severity).toBe('information');
    expect(readFileSync(out, 'utf8')).toContain('data-plan="tubal-reanastomosis"');
  });

  it('refuses an unknown plan or format with an OperationOutcome and an input exit code', async () => {
    const unknown = await cli(['diagram', '--plan', 'no-such-plan']);
    expect(unknown.code).toBe(2);
    expect(unknown.json.issue[0]).toMatchObject({ code: 'not-found' });
    expect(unknown.json.issue[0].diagnostics).toContain('no-such-plan');
    const format = await cli(['diagram', '--plan', 'tubal-reanastomosis', '--format', 'png']);
    expect(format.code).toBe(2);
    expect(format.json.issue[0].diagnostics).toContain('--format');
  });
});
