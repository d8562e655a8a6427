/**
 * The human view in a real browser (Debian's chromium through playwright-core) against the real
 * server on loopback: what a person sees - the three protocol diagrams with their node labels,
 * the server-rendered diagram page without JavaScript, a patient's timeline with the window dates
 * $apply computed, the collect Task of a missing-data case, the CDS cards, a readable message for
 * a bad Bundle and for a refused token - and axe-core finds no accessibility violation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestClient, type TestClient } from '../server/support/client-keys.ts';
import { axeViolations, buildWeb, launchBrowser, screenshot, startWebServer, type RunningWebServer } from './support/web-server.ts';

let browser: Browser;
let open: RunningWebServer;

beforeAll(async () => {
  await buildWeb();
  [browser, open] = await Promise.all([launchBrowser(), startWebServer()]);
}, 180_000);

afterAll(async () => {
  await browser.close();
  await open.close();
});

async function newPage(javaScriptEnabled = true): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, javaScriptEnabled });
  return context.newPage();
}

async function applyExample(page: Page, baseUrl: string, example: string, plan?: string): Promise<void> {
  await page.goto(`${baseUrl}/#patient`);
  await page.getByLabel('Example patient').selectOption(example);
  if (plan) await page.getByLabel('Protocol', { exact: true }).selectOption(plan);
  await page.getByRole('button', { name: 'Apply' }).click();
}

function expectNoViolations(violations: Awaited<ReturnType<typeof axeViolations>>): void {
  expect(violations.map((v) => `${v.id} (${v.impact ?? ''}): ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`)).toEqual([]);
}

describe('protocol diagrams', () => {
  it('shows the three protocols drawn, with their node labels, keyboard-reachable links and no axe violation', async () => {
    const page = await newPage();
    await page.goto(`${open.baseUrl}/`);
    for (const plan of ['hysterosalpingography', 'infertility-hysteroscopy', 'tubal-reanastomosis']) {
      await page.locator(`section.diagram[data-plan="${plan}"] svg.plan-diagram`).waitFor({ timeout: 30_000 });
    }
    const hsg = page.locator('section.diagram[data-plan="hysterosalpingography"]');
    await expect(hsg.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('Hysterosalpingography (HSG) in the infertility work-up');
    const labels = await hsg.locator('svg text').allTextContents();
    expect(labels).toContain('Do not perform HSG: pregnancy');
    expect(labels).toContain('30 min before start');
    expect(labels.some((l) => l.startsWith('CHOICE: choose exactly one'))).toBe(true);
    const reversal = await page.locator('section.diagram[data-plan="tubal-reanastomosis"] svg text').allTextContents();
    expect(reversal.some((l) => l.includes('Do not perform the reversal: pregnancy'))).toBe(true);
    const hysteroscopy = await page.locator('section.diagram[data-plan="infertility-hysteroscopy"] svg text').allTextContents();
    expect(hysteroscopy.length).toBeGreaterThan(50);
    // Each node links to its rules and quotes; the links are in the tab order.
    const link = hsg.locator('svg a[href$="#action-hsg-ci-pregnancy"]');
    await expect(link.count()).resolves.toBe(1);
    await screenshot(page, 'diagrams');
    expectNoViolations(await axeViolations(page));
    await page.close();
  });

  it('serves each diagram as a page readable without JavaScript: the SVG, and each action with its rules, quotes and FHIRPath', async () => {
    const page = await newPage(false);
    await page.goto(`${open.baseUrl}/diagrams/hysterosalpingography#action-hsg-ci-pregnancy`);
    await expect(page.locator('svg.plan-diagram text', { hasText: 'Do not perform HSG: pregnancy' }).count()).resolves.toBeGreaterThan(0);
    const section = page.locator('section#action-hsg-ci-pregnancy');
    await expect(section.textContent()).resolves.toContain('HSG-C3');
    await expect(section.textContent()).resolves.toContain('3, pregnancy, menstruation;');
    await section.locator('summary', { hasText: 'FHIRPath' }).first().click();
    await expect(section.locator('code', { hasText: '%pregnant' }).first().isVisible()).resolves.toBe(true);
    await screenshot(page, 'diagram-page-no-js');
    await page.close();
    const index = await newPage(false);
    await index.goto(`${open.baseUrl}/diagrams`);
    await expect(index.getByRole('link').allTextContents()).resolves.toEqual(expect.arrayContaining(['Tubal ligation reversal (tubal reanastomosis)']));
    await index.close();
  });
});

describe('patient view', () => {
  it('applies the example patient through $apply and shows the cycle timeline with the window dates, the trace and the CDS cards', async () => {
    const page = await newPage();
    await applyExample(page, open.baseUrl, 'hsg-infertility-day-6-all-ready', 'hysterosalpingography');
    await page.getByRole('heading', { name: 'Cycle timeline' }).waitFor({ timeout: 30_000 });
    // Menses 2026-02-27..2026-03-04; day 5-7 after them, from today (2026-03-10) at the earliest.
    const order = page.locator('table.dates tr[data-action="hsg-order"]');
    await expect(order.locator('td').allTextContents()).resolves.toEqual([
      'Hysterosalpingography 5-7 days after the menses (exactly one)',
      'procedure window (ServiceRequest)',
      '2026-03-10',
      '2026-03-11',
      'day 6 to 7',
    ]);
    await expect(page.locator('table.dates tr', { hasText: 'Bleeding (recorded)' }).locator('td').allTextContents()).resolves.toEqual([
      'Bleeding (recorded)',
      'cycle',
      '2026-02-27',
      '2026-03-04',
      '',
    ]);
    await expect(page.locator('svg.timeline text', { hasText: 'now' }).count()).resolves.toBeGreaterThan(0);
    const applied = page.locator('li.trace-row[data-action="hsg-order"] .status');
    await expect(applied.textContent()).resolves.toBe('applied');
    await expect(page.locator('li.trace-row[data-action="hsg-ci-pregnancy"]').textContent()).resolves.toContain('a condition was false: HSG-C3: pregnancy');
    await page.getByRole('heading', { name: /CDS cards/ }).waitFor();
    const summaries = await page.locator('li.card .summary').allTextContents();
    expect(summaries.length).toBeGreaterThan(0);
    await page.getByRole('heading', { name: 'Cycle timeline' }).evaluate((e) => {
      e.scrollIntoView();
    });
    await screenshot(page, 'patient-timeline');
    await page.getByRole('heading', { name: 'Trace: why each action is in or out' }).evaluate((e) => {
      e.scrollIntoView();
    });
    await screenshot(page, 'patient-trace');
    await page.getByRole('heading', { name: /CDS cards/ }).evaluate((e) => {
      e.scrollIntoView();
    });
    await screenshot(page, 'patient-cards');
    expectNoViolations(await axeViolations(page));
    await page.close();
  });

  it('shows what is missing and the collect-information Task that asks for it', async () => {
    const page = await newPage();
    await applyExample(page, open.baseUrl, 'hsg-missing-everything', 'hysterosalpingography');
    await page.getByRole('heading', { name: 'Cycle timeline' }).waitFor({ timeout: 30_000 });
    const waiting = page.locator('li.trace-row[data-action="hsg-timing"]');
    await expect(waiting.locator('.status').textContent()).resolves.toBe('missing data');
    await waiting.locator('summary').click();
    await expect(waiting.locator('.task').allTextContents()).resolves.toEqual(
      expect.arrayContaining([
        expect.stringContaining('Missing - Task: Collect Date menstruation ended (Observation): needed to decide Timing: 5-7 days after the menses are clean'),
      ]),
    );
    const collect = await page.locator('ul.undated li.collect').allTextContents();
    expect(collect.some((t) => t.includes('Collect: Date menstruation ended'))).toBe(true);
    await waiting.scrollIntoViewIfNeeded();
    await screenshot(page, 'patient-missing-data');
    expectNoViolations(await axeViolations(page));
    await page.close();
  });

  it('says in words what is wrong with a bad Bundle: not JSON, not a Bundle, or refused by $apply', async () => {
    const page = await newPage();
    await page.goto(`${open.baseUrl}/#patient`);
    await page.locator('#plan option').first().waitFor({ state: 'attached' });
    await page.getByLabel('Patient Bundle (FHIR JSON)').fill('{ "resourceType": "Bundle", entry: [');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^The Bundle is not valid JSON: .*Paste a FHIR Bundle/);
    await page.getByLabel('Patient Bundle (FHIR JSON)').fill('{ "resourceType": "Patient", "id": "p1" }');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This is JSON but not a FHIR Bundle');
    // Valid JSON, a Bundle with a Patient, but an entry the server refuses: its OperationOutcome is shown.
    await page
      .getByLabel('Patient Bundle (FHIR JSON)')
      .fill(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }, { resource: { id: 'x' } }] }));
    await page.getByRole('button', { name: 'Apply' }).click();
    const refused = page.getByRole('alert');
    await refused.waitFor();
    await expect(refused.textContent()).resolves.toMatch(/^\$apply failed \(4\d\d\): \S/);
    await expect(refused.textContent()).resolves.not.toMatch(/at \S+\.ts:\d+|TypeError|stack/);
    await screenshot(page, 'patient-bad-bundle');
    expectNoViolations(await axeViolations(page));
    await page.close();
  });
});

describe('with authentication on', () => {
  let client: TestClient;
  let secured: RunningWebServer;

  beforeAll(async () => {
    client = await startTestClient();
    secured = await startWebServer({ auth: { trustedIssuers: [{ iss: client.iss, jwksUrl: client.jwksUrl }] } });
  });

  afterAll(async () => {
    await secured.close();
    await client.close();
  });

  it('asks for a bearer token when none is given, and applies with the tokens pasted', async () => {
    const page = await newPage();
    await applyExample(page, secured.baseUrl, 'tr-eligible-day-4', 'tubal-reanastomosis');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('refused (401): the server requires a signed bearer token - paste one under "Authorization"');
    await page.getByText('Authorization (when the server requires signed tokens)').click();
    await page.getByLabel('Bearer token for $apply').fill(await client.sign(`${secured.baseUrl}/fhir`));
    await page.getByLabel('Bearer token for the CDS call').fill(await client.sign(`${secured.baseUrl}/cds-services/tubal-reanastomosis-patient-view`));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('heading', { name: 'Cycle timeline' }).waitFor({ timeout: 30_000 });
    await expect(page.locator('li.card .summary').count()).resolves.toBeGreaterThan(0);
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await page.close();
  });
});
