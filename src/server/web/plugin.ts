/**
 * The human view as a Fastify plugin: the built web app (Vite + Preact, no CDN) at `/`, and the
 * plan diagrams rendered on the server so they read without JavaScript:
 * `/diagrams` (index), `/diagrams/<plan id>` (HTML: SVG + each action's rules, quotes and
 * FHIRPath), `/diagrams/<plan id>.svg` and `/diagrams/<plan id>.mmd` (Mermaid). Nothing here
 * takes patient data: the app calls the served $apply and CDS endpoints, with their own auth.
 * The drawings are made once per plan and kept for the life of this plugin instance.
 * The app is a package of its own on npm (`infertility-protocols-web`, web/package.json) so that
 * the library stays small (issue #14): served from the checkout's web/dist when it is built, else
 * from that package when it is installed next to this one, at this library's version only (it
 * calls this server's $apply and CDS services), else `/` says how to install or build it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { buildPlanGraph, findPlan, listPlans, renderPlanMermaid, renderPlanSvg, type PlanGraph } from '../../diagram/index.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { PROJECT_ROOT, projectVersion } from '../../knowledge/load-artifacts.ts';
import { escapeXml as escape } from '../../diagram/render-svg.ts';
import { actionAnchor, diagramIndexPage, diagramPage } from './diagram-page.ts';

/** Where `npm run build:web` writes the app in a checkout. */
export const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist');

/** The npm package that ships the built app (web/package.json). */
export const WEB_PACKAGE = 'infertility-protocols-web';

export interface LocateWebPageOptions {
  /** The checkout's build (default web/dist). */
  checkoutDist?: string;
  /** The module the package is resolved from, as Node resolves a dependency (default this one). */
  resolveFrom?: string;
  /** The version the package must have (default this library's). */
  version?: string;
}

/** The app's folder, or the page `/` answers in its place (status 200: the diagrams still work). */
export type WebPage = { found: true; root: string } | { found: false; html: string };

export interface WebRoutesOptions {
  knowledge: CompiledKnowledge;
  /** The built app's folder in place of the checkout's web/dist (then the installed package, as {@link locateWebPage}). */
  webRoot?: string;
  /** Where {@link locateWebPage} looks (for tests; unset in the server). */
  locate?: LocateWebPageOptions;
}

interface Drawing {
  graph: PlanGraph;
  svg: string;
}

const missingPage = (problem: string, version: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>infertility-protocols</title></head><body><main>
<h1>infertility-protocols</h1>
<p>${problem}</p>
<p>Installed from npm: run <code>npm install ${WEB_PACKAGE}@${escape(version)}</code> (the page, a package of its own) next to <code>infertility-protocols</code> and restart the server.
In a checkout of the repository: run <code>npm run build:web</code> and restart the server.</p>
<p>The protocol diagrams need neither: <a href="/diagrams">protocol diagrams</a>.</p>
</main></body></html>
`;

const hasIndex = (root: string): boolean => existsSync(join(root, 'index.html'));

/** The installed package's folder, or undefined when Node cannot resolve it from `from`. */
function installedWebPackage(from: string): string | undefined {
  try {
    return dirname(createRequire(from).resolve(`${WEB_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}

/** The `version` of a package.json, or a placeholder when it has none or is not JSON (the page is then not served, not a crash). */
function readVersion(manifest: string): string {
  try {
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : '(no version)';
  } catch {
    return '(unreadable package.json)';
  }
}

/** Where the built app is: the checkout's web/dist, else the installed package of this version. */
export function locateWebPage(options: LocateWebPageOptions = {}): WebPage {
  const checkoutDist = options.checkoutDist ?? WEB_DIST;
  if (hasIndex(checkoutDist)) return { found: true, root: checkoutDist };
  const version = options.version ?? projectVersion();
  const installed = installedWebPackage(options.resolveFrom ?? import.meta.url);
  if (installed === undefined) return { found: false, html: missingPage('The patient view is not installed here.', version) };
  const installedVersion = readVersion(join(installed, 'package.json'));
  const root = join(installed, 'dist');
  if (installedVersion !== version) {
    return {
      found: false,
      html: missingPage(
        `${WEB_PACKAGE} ${escape(installedVersion)} is installed, but this server is infertility-protocols ${escape(version)}: the page calls this server's $apply and CDS services and is served only at the server's version.`,
        version,
      ),
    };
  }
  if (!hasIndex(root)) return { found: false, html: missingPage(`${WEB_PACKAGE} is installed but has no <code>dist/index.html</code>.`, version) };
  return { found: true, root };
}

export const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, options) => {
  const { knowledge } = options;
  const page = locateWebPage(options.webRoot === undefined ? options.locate : { ...options.locate, checkoutDist: options.webRoot });
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

  if (page.found) {
    // Only the files present at start-up get routes (no catch-all that would shadow a 404).
    await app.register(fastifyStatic, { root: page.root, prefix: '/', wildcard: false, index: 'index.html' });
  } else {
    app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(page.html));
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
