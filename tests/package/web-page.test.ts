/**
 * Where `serve` finds the web page (src/server/web/plugin.ts, locateWebPage): the checkout's build,
 * else the `infertility-protocols-web` package installed next to the library (resolved by Node from a
 * module in a project folder, as from the installed library), only at the library's version. Real
 * folders under the temp dir; tests/package/consumer.test.ts does the same with the packed tarballs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { installErrorHandling } from '../../src/server/http-errors.ts';
import { locateWebPage, WEB_PACKAGE, webRoutes } from '../../src/server/web/plugin.ts';

let project: string;
let noCheckout: string;
/** A module of the project (what Node resolves the package from; it need not exist). */
let from: string;

function installWebPackage(version: string, withIndex = true): string {
  const folder = join(project, 'node_modules', WEB_PACKAGE);
  mkdirSync(join(folder, 'dist'), { recursive: true });
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({ name: WEB_PACKAGE, version, type: 'module', exports: { './dist/*': './dist/*', './package.json': './package.json' } }),
  );
  if (withIndex) writeFileSync(join(folder, 'dist/index.html'), '<!doctype html><title>installed page</title>');
  return folder;
}

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'ip-web-page-'));
  noCheckout = join(project, 'no-checkout-build');
  from = join(project, 'node_modules/infertility-protocols/dist/api/server.js');
});

afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('locateWebPage', () => {
  it('prefers the checkout build when it has an index.html', () => {
    const checkout = join(project, 'checkout-dist');
    mkdirSync(checkout);
    writeFileSync(join(checkout, 'index.html'), '<!doctype html>');
    installWebPackage('0.1.0');
    expect(locateWebPage({ checkoutDist: checkout, resolveFrom: from, version: '0.1.0' })).toEqual({ found: true, root: checkout });
  });

  it('finds the installed package of the same version', () => {
    const folder = installWebPackage('0.1.0');
    expect(locateWebPage({ checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' })).toEqual({ found: true, root: join(folder, 'dist') });
  });

  it('without the package: a page that says to install it at the library version, and to build it in a checkout', () => {
    const page = locateWebPage({ checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' });
    expect(page.found).toBe(false);
    const html = page.found ? '' : page.html;
    expect(html).toContain(`npm install ${WEB_PACKAGE}@0.1.0`);
    expect(html).toContain('npm run build:web');
    expect(html).toContain('href="/diagrams"');
  });

  it("refuses a page of another version (it calls this server's operations), naming both versions", () => {
    installWebPackage('0.0.9');
    const page = locateWebPage({ checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' });
    expect(page.found).toBe(false);
    const html = page.found ? '' : page.html;
    expect(html).toContain(`${WEB_PACKAGE} 0.0.9 is installed`);
    expect(html).toContain('infertility-protocols 0.1.0');
    expect(html).toContain(`npm install ${WEB_PACKAGE}@0.1.0`);
  });

  it('an installed package whose package.json is not JSON, or has no version, is not served, and nothing throws', () => {
    const folder = installWebPackage('0.1.0');
    writeFileSync(join(folder, 'package.json'), '{ not json');
    const broken = locateWebPage({ checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' });
    expect(broken.found).toBe(false);
    expect(broken.found ? '' : broken.html).toContain(`npm install ${WEB_PACKAGE}@0.1.0`);
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: WEB_PACKAGE }));
    const unversioned = locateWebPage({ checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' });
    expect(unversioned.found).toBe(false);
    expect(unversioned.found ? '' : unversioned.html).toContain(`${WEB_PACKAGE} (no version) is installed`);
  });

  it('an installed package without dist/index.html is reported, not served', () => {
    installWebPackage('0.1.0', false);
    const page = locateWebPage({ checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' });
    expect(page.found).toBe(false);
    expect(page.found ? '' : page.html).toContain('has no <code>dist/index.html</code>');
  });
});

describe('webRoutes with the installed package', () => {
  it('serves the installed page at /, and the "install" page (200) when its version differs', async () => {
    const knowledge = loadKnowledge();
    installWebPackage('0.1.0');
    const app = Fastify();
    installErrorHandling(app);
    await app.register(webRoutes, { knowledge, locate: { checkoutDist: noCheckout, resolveFrom: from, version: '0.1.0' } });
    const served = await app.inject('/');
    expect(served.statusCode).toBe(200);
    expect(served.body).toContain('installed page');
    await app.close();

    const other = Fastify();
    installErrorHandling(other);
    await other.register(webRoutes, { knowledge, locate: { checkoutDist: noCheckout, resolveFrom: from, version: '0.2.0' } });
    const refused = await other.inject('/');
    expect(refused.statusCode).toBe(200);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.body).toContain(`npm install ${WEB_PACKAGE}@0.2.0`);
    expect(refused.body).not.toContain('installed page');
    await other.close();
  });
});
