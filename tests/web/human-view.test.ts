/**
 * The human view in a real browser (Debian's chromium through playwright-core) against the real
 * server on loopback: what a person sees - the three protocol diagrams with their node labels,
 * the server-rendered diagram page without JavaScript, a patient's timeline with the window dates
 * $apply computed, the trace the served $apply recorded (an action out with its condition and
 * result, a missing input with its collect Task), the CDS cards, a readable message for a bad
 * Bundle and for a refused token - and axe-core finds no accessibility violation. And what the
 * page sends: $apply with trace (the rest of the output as without it), and a CDS prefetch equal
 * to what a real FHIR server holding the same record answers to each template.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Bundle, CarePlan, Parameters, RequestGroup, Resource } from '@medplum/fhirtypes';
import { TRACE_EXTENSION } from '../../src/engine/index.ts';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.ts';
import { loadRecord, prefetchFromFhirServer } from '../server/support/ehr-prefetch.ts';
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
    // At full size the drawing scrolls in its region and its labels are readable.
    await hsg.getByRole('button', { name: 'Show at full size' }).click();
    await expect(hsg.getByRole('button', { name: 'Fit to width' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await hsg.locator('svg a[href$="#action-hsg-ci-pregnancy"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur(): void } | null } }).document.activeElement?.blur());
    await screenshot(page, 'diagram-full-size');
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
    // The trace the server recorded: an action out, with its condition's label and result, and what it read.
    const out = page.locator('li.trace-row[data-action="hsg-ci-pregnancy"]');
    await expect(out.locator('.status').textContent()).resolves.toBe('not applied');
    await expect(out.locator('.reason').textContent()).resolves.toBe('- not applicable: condition "HSG-C3: pregnancy" is false');
    await out.locator('summary').first().click();
    const condition = out.locator('ul.conditions li').first();
    await expect(condition.textContent()).resolves.toMatch(/^if HSG-C3: pregnancy: false/);
    await condition.locator('summary', { hasText: 'FHIRPath' }).click();
    await expect(condition.locator('code').textContent()).resolves.toBe('%pregnant');
    const root = page.locator('li.trace-row[data-action="hsg"]');
    await root.locator('summary').first().click();
    await expect(root.locator('.inputs').textContent()).resolves.toMatch(/%infertility \(1 resource\) .*%reanastomosis \(0 resources\)/);
    // The screenshots show the page, not the focus ring of the last click.
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur(): void } | null } }).document.activeElement?.blur());
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
    await expect(waiting.locator('.reason').textContent()).resolves.toContain('not decided: required data missing (menstrualData, pregnancyStatus, iodineAllergyStatus)');
    await expect(waiting.locator('.task').allTextContents()).resolves.toEqual(
      expect.arrayContaining([
        'Missing %menstrualData (Observation) - Task: Collect Date menstruation ended (Observation): needed to decide Timing: 5-7 days after the menses are clean.',
        expect.stringMatching(/^Missing %iodineAllergyStatus \(AllergyIntolerance\) - Task: Collect Allergy to contrast media/),
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

describe('what the page sends', () => {
  let fhir: FhirTestServer;
  beforeAll(async () => {
    fhir = await startFhirTestServer({ everything: false });
  });
  afterAll(async () => {
    await fhir.close();
  });

  it('asks $apply for the trace; without trace the served CarePlan is the same, less the trace extensions', async () => {
    const page = await newPage();
    const applyCall = page.waitForResponse((r) => r.url().endsWith('/fhir/PlanDefinition/$apply'));
    await applyExample(page, open.baseUrl, 'hsg-missing-everything', 'hysterosalpingography');
    const response = await applyCall;
    const sent = response.request().postDataJSON() as Parameters;
    expect(sent.parameter?.find((p) => p.name === 'trace')).toEqual({ name: 'trace', valueBoolean: true });
    const traced = (await response.json()) as CarePlan;
    await page.close();

    const without: Parameters = { ...sent, parameter: (sent.parameter ?? []).filter((p) => p.name !== 'trace') };
    const post = (body: Parameters) =>
      fetch(`${open.baseUrl}/fhir/PlanDefinition/$apply`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    const plainText = await (await post(without)).text();
    const offText = await (await post({ ...without, parameter: [...(without.parameter ?? []), { name: 'trace', valueBoolean: false }] })).text();
    expect(offText).toBe(plainText);
    expect(plainText).not.toContain(TRACE_EXTENSION);
    const group = traced.contained?.find((r): r is RequestGroup => r.resourceType === 'RequestGroup');
    expect(group?.extension?.some((e) => e.url === TRACE_EXTENSION)).toBe(true);
    if (group) {
      group.extension = (group.extension ?? []).filter((e) => e.url !== TRACE_EXTENSION);
      if (group.extension.length === 0) delete group.extension;
    }
    expect(traced).toEqual(JSON.parse(plainText));
  });

  it('prefetches what a FHIR server holding the same record answers to each template', async () => {
    const example = 'hsg-ci-iodine-allergy-hycosy';
    const page = await newPage();
    const cdsCall = page.waitForRequest((r) => r.url().endsWith('/cds-services/hysterosalpingography-patient-view'));
    await applyExample(page, open.baseUrl, example, 'hysterosalpingography');
    const sent = (await cdsCall).postDataJSON() as { context: { patientId: string }; prefetch: Record<string, Resource | null> };
    await page.getByRole('heading', { name: /CDS cards/ }).waitFor({ timeout: 30_000 });
    await expect(page.locator('.not-prefetched').count()).resolves.toBe(0);
    await page.close();

    const discovery = (await (await fetch(`${open.baseUrl}/cds-services`)).json()) as { services: { id: string; prefetch?: Record<string, string> }[] };
    const templates = discovery.services.find((s) => s.id === 'hysterosalpingography-patient-view')?.prefetch ?? {};
    const bundle = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', `${example}.json`), 'utf8')) as Bundle;
    await loadRecord(
      fhir,
      (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])),
    );
    const fromServer = await prefetchFromFhirServer(fhir, templates, sent.context.patientId);
    const matched = (answer: Resource | null | undefined) =>
      answer?.resourceType === 'Bundle'
        ? (answer.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort()
        : answer
          ? `${answer.resourceType}/${answer.id}`
          : answer;
    expect(Object.keys(sent.prefetch).sort()).toEqual(Object.keys(templates).sort());
    for (const key of Object.keys(templates)) expect(matched(sent.prefetch[key]), key).toEqual(matched(fromServer[key]));
    // Not every resource of a type: the Observation searches differ by their codes.
    const observationKeys = Object.keys(templates).filter((k) => templates[k]?.startsWith('Observation?'));
    expect(new Set(observationKeys.map((k) => JSON.stringify(matched(sent.prefetch[k])))).size).toBeGreaterThan(2);
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
