/**
 * The human view as a Fastify plugin: the built web app (web/dist, Vite + Preact, no CDN) at `/`,
 * and the plan diagrams rendered on the server so they read without JavaScript:
 * `/diagrams` (index), `/diagrams/<plan id>` (HTML: SVG + each action's rules, quotes and
 * FHIRPath), `/diagrams/<plan id>.svg` and `/diagrams/<plan id>.mmd` (Mermaid). Nothing here
 * takes patient data: the app calls the served $apply and CDS endpoints, with their own auth.
 * The drawings are made once per plan and kept for the life of this plugin instance.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { buildPlanGraph, findPlan, listPlans, renderPlanMermaid, renderPlanSvg, type PlanGraph } from '../../diagram/index.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { PROJECT_ROOT } from '../../knowledge/load-artifacts.ts';
import { actionAnchor, diagramIndexPage, diagramPage } from './diagram-page.ts';

/** Where `npm run build:web` writes the app. */
export const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist');

export interface WebRoutesOptions {
  knowledge: CompiledKnowledge;
  /** The built app (default web/dist); when it is missing `/` says how to build it. */
  webRoot?: string;
}

interface Drawing {
  graph: PlanGraph;
  svg: string;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>infertility-protocols</title></head><body><main>
<h1>infertility-protocols</h1>
<p>The patient view is not built on this installation: run <code>npm run build:web</code> and restart the server.</p>
<p>The protocol diagrams need no build: <a href="/diagrams">protocol diagrams</a>.</p>
</main></body></html>
`;

export const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, options) => {
  const { knowledge } = options;
  const root = options.webRoot ?? WEB_DIST;
  const drawings = new Map<string, Promise<Drawing>>();
  const draw = (plan: PlanDefinition): Promise<Drawing> => {
    const key = plan.id ?? '';
    let drawing = drawings.get(key);
    if (!drawing) {
      const graph = buildPlanGraph(plan, knowledge);
      const href = (node: { kind: string; ref: string }) =>
        node.kind === 'activity' || node.kind === 'nested-plan' || node.kind === 'plan' ? undefined : `/diagrams/${encodeURIComponent(key)}#${actionAnchor(node.ref)}`;
      drawing = renderPlanSvg(graph, { href }).then((svg) => ({ graph, svg }));
      drawings.set(key, drawing);
    }
    return drawing;
  };

  if (existsSync(join(root, 'index.html'))) {
    // Only the files present at start-up get routes (no catch-all that would shadow a 404).
    await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: 'index.html' });
  } else {
    app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
  }

  app.get('/diagrams', (_request, reply) => reply.type('text/html; charset=utf-8').send(diagramIndexPage(listPlans(knowledge))));

  app.get<{ Params: { name: string } }>('/diagrams/:name', async (request, reply) => {
    const match = /^(.+?)(\.svg|\.mmd)?$/.exec(request.params.name);
    const plan = findPlan(knowledge, match?.[1] ?? request.params.name);
    const extension = match?.[2];
    if (extension === '.mmd') return reply.type('text/plain; charset=utf-8').send(renderPlanMermaid(buildPlanGraph(plan, knowledge)));
    const { graph, svg } = await draw(plan);
    if (extension === '.svg') return reply.type('image/svg+xml; charset=utf-8').send(svg);
    return reply.type('text/html; charset=utf-8').send(diagramPage(graph, svg));
  });
};
