/**
 * The `trace` parameter of the served PlanDefinition/$apply (#15): off by default with the output
 * unchanged byte for byte; on, the RequestGroup carries one apply-trace extension per action
 * (conditions with their results, inputs read, the missing input with the collect Task it points
 * to), the CarePlan stays valid R4 and each extension conforms to profiles/ apply-trace; by POST
 * and by GET; declared by the OperationDefinition and the OpenAPI document; refused when it is
 * not a boolean or given to ActivityDefinition/$apply.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationOutcomeError, validateResource, validateTypedValue } from '@medplum/core';
import type { Bundle, CarePlan, Extension, OperationDefinition, RequestGroup, StructureDefinition, Task } from '@medplum/fhirtypes';
import { TRACE_EXTENSION } from '../../src/engine/index.ts';
import { PROJECT_ROOT, loadKnowledge, readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { ensureR4BaseLoaded } from '../../src/validation/r4-definitions.ts';
import { PROFILES_DIR, validateResources } from '../../src/validation/validate.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';

/** An example patient ready for the HSG, and one whose record lacks what the timing needs. */
const example = (name: string) => ({ bundle: JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', `${name}.json`), 'utf8')) as Bundle, subject: `Patient/${name}-patient` });
const { bundle, subject } = example('hsg-leukorrhea-and-iodine-test-missing');
const missingEverything = example('hsg-missing-everything');
const now = bundle.timestamp ?? '';
const PLAN = '/fhir/PlanDefinition/hysterosalpingography/$apply';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ knowledge: loadKnowledge(), clock: () => new Date(now) });
});
afterAll(async () => {
  await h.close();
});

const body = (...extra: unknown[]) => bodyFor({ bundle, subject }, ...extra);
const bodyFor = (patient: { bundle: Bundle; subject: string }, ...extra: unknown[]) => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'subject', valueString: patient.subject }, { name: 'data', resource: patient.bundle }, { name: 'now', valueDateTime: now }, ...extra],
});

const groupOf = (carePlan: CarePlan) => carePlan.contained?.find((r): r is RequestGroup => r.resourceType === 'RequestGroup');
const traces = (carePlan: CarePlan) => (groupOf(carePlan)?.extension ?? []).filter((e) => e.url === TRACE_EXTENSION);
const part = (ext: Extension, url: string) => (ext.extension ?? []).filter((e) => e.url === url);
const actionOf = (carePlan: CarePlan, id: string) => traces(carePlan).find((t) => part(t, 'actionId')[0]?.valueString === id);

describe('PlanDefinition/$apply trace', () => {
  it('is off by default: no trace, and trace=false gives the same bytes as no parameter', async () => {
    const plain = await h.post(PLAN, body());
    const off = await h.post(PLAN, body({ name: 'trace', valueBoolean: false }));
    expect(plain.status, plain.text).toBe(200);
    expect(off.text).toBe(plain.text);
    expect(plain.text).not.toContain(TRACE_EXTENSION);
  });

  it('trace=true: one extension per action; the rest of the CarePlan is what the default gives', async () => {
    const plain = (await h.post(PLAN, body())).body as CarePlan;
    const traced = (await h.post(PLAN, body({ name: 'trace', valueBoolean: true }))).body as CarePlan;
    const ids = traces(traced).map((t) => part(t, 'actionId')[0]?.valueString);
    expect(ids.length).toBeGreaterThan(5);
    expect(new Set(ids).size).toBe(ids.length);
    const withoutTrace = structuredClone(traced);
    const group = groupOf(withoutTrace)!;
    group.extension = (group.extension ?? []).filter((e) => e.url !== TRACE_EXTENSION);
    if (group.extension.length === 0) delete group.extension;
    expect(withoutTrace).toEqual(plain);
  });

  it('an action out for missing data names the input and the collect Task, which is in the CarePlan', async () => {
    const traced = (await h.post(PLAN, bodyFor(missingEverything, { name: 'trace', valueBoolean: true }))).body as CarePlan;
    const waiting = traces(traced).filter((t) => part(t, 'missing').length > 0);
    expect(waiting.length).toBeGreaterThan(0);
    const tasks = new Map((traced.contained ?? []).filter((r): r is Task => r.resourceType === 'Task').map((t) => [`#${t.id}`, t]));
    for (const t of waiting) {
      for (const missing of part(t, 'missing')) {
        const task = tasks.get(part(missing, 'task')[0]?.valueReference?.reference ?? '');
        expect(task?.code?.coding?.[0]?.code).toBe('collect-information');
        expect(part(missing, 'inputId')[0]?.valueString).toBeTruthy();
      }
    }
  });

  it('each condition carries its expression (with the rule description) and its result; the inputs their counts', async () => {
    const traced = (await h.post(PLAN, body({ name: 'trace', valueBoolean: true }))).body as CarePlan;
    const conditions = traces(traced).flatMap((t) => part(t, 'condition'));
    expect(conditions.length).toBeGreaterThan(3);
    for (const c of conditions) {
      const expression = part(c, 'expression')[0]?.valueExpression;
      expect(expression?.language).toBe('text/fhirpath');
      expect(expression?.expression).toBeTruthy();
      expect(part(c, 'result').length + part(c, 'error').length).toBe(1);
    }
    expect(conditions.some((c) => part(c, 'result')[0]?.valueString === '[false]' || part(c, 'result')[0]?.valueString === '[]')).toBe(true);
    const inputs = traces(traced).flatMap((t) => part(t, 'input'));
    expect(inputs.some((i) => (part(i, 'count')[0]?.valueUnsignedInt ?? 0) > 0)).toBe(true);
    const applied = traces(traced).find((t) => part(t, 'applicability')[0]?.valueCode === 'applicable' && part(t, 'resource').length > 0);
    const target = part(applied!, 'resource')[0]?.valueReference?.reference ?? '';
    expect((traced.contained ?? []).some((r) => `#${r.id}` === target)).toBe(true);
    expect(actionOf(traced, part(applied!, 'actionId')[0]?.valueString ?? '')).toBe(applied);
  });

  it.each([
    ['ready', { bundle, subject }],
    ['missing data', missingEverything],
  ])('%s: the traced CarePlan is valid R4 and every trace extension conforms to its StructureDefinition', async (_name, patient) => {
    const traced = (await h.post(PLAN, bodyFor(patient, { name: 'trace', valueBoolean: true }))).body as CarePlan;
    ensureR4BaseLoaded();
    expect(() => validateResource(traced)).not.toThrow();
    // And the module's own validator (R4 base plus the profiles of profiles/ that apply, e.g. the protocol CarePlan).
    const [checked] = validateResources([traced]);
    expect(checked?.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    expect(checked?.outcome.issue.at(-1)?.diagnostics).toContain('ip-protocol-careplan');
    const sd = readArtifacts([PROFILES_DIR])
      .map((a) => a.resource as StructureDefinition)
      .find((r) => r.url === TRACE_EXTENSION);
    expect(sd?.url).toBe(TRACE_EXTENSION);
    for (const ext of traces(traced)) {
      try {
        validateTypedValue({ type: 'Extension', value: ext }, { profile: sd! });
      } catch (err) {
        const issues = err instanceof OperationOutcomeError ? err.outcome.issue.filter((i) => i.severity === 'error') : [err];
        expect(issues).toEqual([]);
      }
    }
  });

  it('mode cpg: the task reference of a missing input is the Task entry’s urn:uuid', async () => {
    const cpg = (await h.post(PLAN, bodyFor(missingEverything, { name: 'trace', valueBoolean: true }, { name: 'mode', valueCode: 'cpg' }))).body as Bundle;
    const group = cpg.entry?.[0]?.resource as RequestGroup;
    const taskUrls = new Set((cpg.entry ?? []).filter((e) => e.resource?.resourceType === 'Task').map((e) => e.fullUrl));
    const refs = (group.extension ?? [])
      .filter((e) => e.url === TRACE_EXTENSION)
      .flatMap((t) => part(t, 'missing'))
      .map((m) => part(m, 'task')[0]?.valueReference?.reference);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(taskUrls.has(ref)).toBe(true);
  });

  it('GET reads trace from the query: trace=true is accepted like POST (both refused only for lacking data), trace=yes is not', async () => {
    // A GET cannot carry the data Bundle, so both answer the same refusal naming the subject.
    const token = await h.client.sign(`${BASE_URL}/fhir`);
    const get = await h.get(`${PLAN}?subject=${encodeURIComponent(subject)}&trace=true&now=${encodeURIComponent(now)}`, { token });
    const post = await h.post(PLAN, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'subject', valueString: subject },
        { name: 'trace', valueBoolean: true },
        { name: 'now', valueDateTime: now },
      ],
    });
    expect(get.status).toBe(400);
    expect(get.body).toEqual(post.body);
    expect(get.body.issue[0].diagnostics).toContain(`subject ${subject}`);
    const bad = await h.get(`${PLAN}?subject=${encodeURIComponent(subject)}&trace=yes`, { token });
    expect(bad.status).toBe(400);
    // The route schema refuses it (the OpenAPI document says trace is 'true' or 'false').
    expect(bad.body.issue[0].diagnostics).toMatch(/^querystring\.trace: .*"true"\|"false"/);
  });

  it('is refused when not a boolean, or on ActivityDefinition/$apply', async () => {
    const bad = await h.post(PLAN, body({ name: 'trace', valueString: 'yes' }));
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    const activity = await h.post('/fhir/ActivityDefinition/hsg/$apply', body({ name: 'trace', valueBoolean: true }));
    expect(activity.status).toBe(400);
    expect(JSON.stringify(activity.body)).toContain("parameter 'trace' is a PlanDefinition/$apply parameter");
  });

  it('is declared: the OperationDefinition lists it (boolean, 0..1) and the OpenAPI GET $apply has it', async () => {
    const od = (await h.get('/fhir/OperationDefinition/PlanDefinition-apply', { token: null })).body as OperationDefinition;
    const trace = od.parameter?.find((p) => p.name === 'trace');
    expect(trace).toMatchObject({ use: 'in', min: 0, max: '1', type: 'boolean' });
    expect(trace?.documentation).toContain(TRACE_EXTENSION);
    const activityOd = (await h.get('/fhir/OperationDefinition/ActivityDefinition-apply', { token: null })).body as OperationDefinition;
    expect(activityOd.parameter?.some((p) => p.name === 'trace')).toBe(false);
    const doc = (await h.get('/openapi.json', { token: null })).body;
    const names = doc.paths['/fhir/PlanDefinition/{id}/$apply'].get.parameters.map((p: { name: string }) => p.name);
    expect(names).toContain('trace');
  });
});
