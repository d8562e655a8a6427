/**
 * For the browser tests: the web app built with Vite (the real build, into web/dist), the real
 * server (buildServer: every plugin, real protocols) listening on a loopback port with a fixed
 * clinical clock, and Debian's chromium driven by playwright-core. Screenshots go to
 * SCREENSHOT_DIR (scripts/screenshots.ts sets docs/screenshots) or the gitignored .tmp/.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { buildServer, type CdsServer } from '../../../src/server/app.ts';
import type { ServerConfigInput } from '../../../src/server/config.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../../src/knowledge/load-artifacts.ts';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOT_DIR = process.env['SCREENSHOT_DIR'] ?? join(PROJECT_ROOT, '.tmp', 'web-screenshots');
/** The server's clinical clock (the $apply default when the page sends no now). */
export const SERVER_NOW = '2026-03-10T09:00:00Z';

let built: Promise<unknown> | undefined;

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * Builds web/ (vite build: the same as `npm run build:web`) when web/dist is missing or older
 * than its sources. Not every time: every server test registers the static files of web/dist, and
 * a build empties that folder while they may be reading it.
 */
export function buildWeb(): Promise<unknown> {
  const web = join(PROJECT_ROOT, 'web');
  const index = join(web, 'dist', 'index.html');
  const sources = Math.max(
    newestChange(join(web, 'src')),
    newestChange(join(web, 'index.html')),
    newestChange(join(web, 'vite.config.ts')),
    newestChange(join(web, 'patient-search-parameters.ts')),
    newestChange(join(PROJECT_ROOT, 'examples')),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return Promise.resolve();
  built ??= build({ configFile: join(web, 'vite.config.ts'), logLevel: 'error' });
  return built;
}

export interface RunningWebServer {
  server: CdsServer;
  baseUrl: string;
  close(): Promise<void>;
}

const knowledge = loadKnowledge();

/** The real server on 127.0.0.1 (its baseUrl is its real address, so JWT audiences match). */
export async function startWebServer(overrides: Partial<ServerConfigInput> = {}): Promise<RunningWebServer> {
  const port = await getPort({ host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  const server = buildServer({
    port,
    baseUrl,
    auth: { required: false },
    knowledge,
    clock: () => new Date(SERVER_NOW),
    logLevel: 'silent',
    ...overrides,
  });
  await server.app.listen({ host: '127.0.0.1', port });
  return { server, baseUrl, close: () => server.app.close() };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core (the real library, injected into the page) and returns its violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: join(PROJECT_ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
  return page.evaluate(async () => {
    // Runs in the page (the test's tsconfig has no DOM types): the whole document is checked.
    const page = globalThis as unknown as { document: unknown; axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } };
    const result = await page.axe.run(page.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}
