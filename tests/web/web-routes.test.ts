/**
 * The web plugin's routes through the real server (inject): diagram pages and files, the
 * not-built page, and an unknown plan as a 404 OperationOutcome (not a stack trace).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type CdsServer } from '../../src/server/app.ts';
import { installErrorHandling } from '../../src/server/http-errors.ts';
import { webRoutes } from '../../src/server/web/plugin.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';

const knowledge = loadKnowledge();
let server: CdsServer;

beforeAll(async () => {
  server = buildServer({ baseUrl: 'http://127.0.0.1:1', auth: { required: false }, knowledge, logLevel: 'silent', clock: () => new Date('2026-03-10T09:00:00Z') });
  await server.app.ready();
});

afterAll(async () => {
  await server.app.close();
});

describe('web routes', () => {
  it('serves each plan as SVG, Mermaid and an HTML page whose boxes link to their rules', async () => {
    const svg = await server.app.inject('/diagrams/tubal-reanastomosis.svg');
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.body).toContain('href="/diagrams/tubal-reanastomosis#action-tr-ci-pregnancy"');
    const mermaid = await server.app.inject('/diagrams/tubal-reanastomosis.mmd');
    expect(mermaid.body.startsWith('flowchart LR')).toBe(true);
    const page = await server.app.inject('/diagrams/tubal-reanastomosis');
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<section class="action" id="action-tr-ci-pregnancy"');
    expect(page.body).not.toContain('<script');
    const index = await server.app.inject('/diagrams');
    expect(index.body).toContain('href="/diagrams/hysterosalpingography"');
  });

  it('answers an unknown plan with a 404 OperationOutcome', async () => {
    const response = await server.app.inject('/diagrams/no-such-plan.svg');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
  });

  it('says how to build the app when web/dist is missing, and still links the diagrams', async () => {
    const app = Fastify();
    installErrorHandling(app);
    await app.register(webRoutes, { knowledge, webRoot: mkdtempSync(join(tmpdir(), 'no-web-')) });
    const response = await app.inject('/');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('npm run build:web');
    expect(response.body).toContain('href="/diagrams"');
    await app.close();
  });
});
