/**
 * Malformed shapes at the two entry points - CLI apply (in-process, the real command) and the
 * engine entry (buildPatientData + applyPlanDefinition with the real protocols): whatever element
 * of a valid record is replaced by whatever JSON value, the answer is a result or an
 * OperationOutcome input error (exit 2), never a TypeError or an internal error (exit 3).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Bundle, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { FIXTURES, ROOT, cli, demoApplyArgs } from '../support/cli.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `value` (object keys and list indexes), the root excluded. */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function replaced(value: Json, path: (string | number)[], by: Json | undefined): Json {
  const copy = structuredClone(value);
  let at: any = copy;
  for (const key of path.slice(0, -1)) at = at[key];
  const last = path[path.length - 1]!;
  if (by === undefined) {
    if (Array.isArray(at)) at.splice(last as number, 1);
    else delete at[last];
  } else at[last] = by;
  return copy;
}

const deep: Json = Array.from({ length: 200 }).reduce<Json>((inner) => ({ extension: [inner] }), { url: 'x' });

/** The values a broken exporter writes where something else belongs. */
const badValue: fc.Arbitrary<Json | undefined> = fc.constantFrom<Json | undefined>(
  undefined,
  null,
  [null],
  [],
  {},
  [{}],
  '',
  'x',
  '5',
  '2026-02-30',
  '2026-13-01T00:00:00Z',
  5,
  -1.5,
  true,
  { coding: [null] },
  { reference: null },
  [[1]],
  deep,
);

function mutation(record: Json) {
  const paths = pathsOf(record);
  return fc.tuple(fc.integer({ min: 0, max: paths.length - 1 }), badValue).map(([i, by]) => ({ path: paths[i]!, by, record: replaced(record, paths[i]!, by) }));
}

describe('malformed input shapes', () => {
  it('CLI apply: exit 0, 1 or 2 with one JSON document, never an internal error', async () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, 'patients/negative-test.json'), 'utf8')) as Json;
    await fc.assert(
      fc.asyncProperty(mutation(bundle), async ({ record }) => {
        const run = await cli(demoApplyArgs({ data: '-' }), { stdin: JSON.stringify(record) });
        expect(run.stderr).not.toMatch(/TypeError|RangeError|Cannot read properties/);
        expect([0, 1, 2]).toContain(run.code);
        expect(run.json?.resourceType).toMatch(/^(CarePlan|OperationOutcome)$/);
      }),
      { seed: 1313, numRuns: 150 },
    );
  }, 120_000);

  it('engine entry: the result, or an OperationOutcomeError naming the element', () => {
    const knowledge = loadKnowledge();
    const plans = ['hysterosalpingography', 'tubal-reanastomosis', 'infertility-hysteroscopy'].map((id) => knowledge.byId<PlanDefinition>('PlanDefinition', id)!);
    const bundle = JSON.parse(readFileSync(join(ROOT, 'examples/hsg-ci-iodine-allergy-hycosy.json'), 'utf8')) as Bundle;
    const resources = bundle.entry!.map((e) => e.resource!) as unknown as Json;
    fc.assert(
      fc.property(mutation(resources), fc.constantFrom(...plans), ({ record }, plan) => {
        const list = (Array.isArray(record) ? record : []) as unknown as Resource[];
        const subject = list.find((r): r is Patient => (r as Resource | null)?.resourceType === 'Patient') ?? ({ resourceType: 'Patient', id: 'p' } as Patient);
        try {
          applyPlanDefinition(plan, { subject, data: buildPatientData(list) }, { now: '2026-03-10T09:00:00+08:00' }, knowledge);
        } catch (err) {
          expect(err).toBeInstanceOf(OperationOutcomeError);
          const issues = (err as OperationOutcomeError).outcome.issue;
          expect(issues.every((i) => i.code !== 'exception')).toBe(true);
        }
      }),
      { seed: 1313, numRuns: 1000 },
    );
  }, 120_000);

  it('names the element and refuses an impossible date and a null coding (exit 2)', async () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, 'patients/negative-test.json'), 'utf8')) as { entry: { resource: Record<string, unknown> }[] };
    const obs = bundle.entry.find((e) => e.resource['resourceType'] === 'Observation')!.resource;
    obs['effectiveDateTime'] = '2026-02-30';
    (obs['code'] as { coding: unknown[] }).coding.push(null);
    const run = await cli(demoApplyArgs({ data: '-' }), { stdin: JSON.stringify(bundle) });
    expect(run.code).toBe(2);
    const text = run.json.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n');
    expect(text).toMatch(/Observation\.effectiveDateTime: expected a dateTime on a real calendar day/);
    expect(text).toMatch(/Observation\.code\.coding\[\d\]: null is not a FHIR value/);
  });

  it('validate still reports a malformed resource as a finding (exit 1), not as unreadable input', async () => {
    const run = await cli(['validate', '-'], { stdin: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueInteger: '5' }) });
    expect(run.code).toBe(1);
  });

  it('refuses --now on a day that does not exist (exit 2, naming --now)', async () => {
    for (const now of ['2026-02-30T09:00:00Z', '2026-02-29T09:00:00Z', '2026-04-31T00:00:00+02:00', '2026-01-01T24:00:00Z', '2026-01-01T09:00:00+15:00']) {
      const run = await cli(demoApplyArgs({ now }));
      expect(run.code, now).toBe(2);
      expect(run.json.issue[0].diagnostics).toMatch(/^--now: /);
    }
    const leap = await cli(demoApplyArgs({ now: '2028-02-29T09:00:00Z' }));
    expect(leap.code).toBe(0);
  });

  it('the engine refuses now on an impossible day (bad request, not a result)', () => {
    const knowledge = loadKnowledge();
    const plan = knowledge.byId<PlanDefinition>('PlanDefinition', 'hysterosalpingography')!;
    expect(() => applyPlanDefinition(plan, { subject: { resourceType: 'Patient', id: 'p' }, data: buildPatientData([]) }, { now: '2026-02-30T09:00:00Z' }, knowledge)).toThrow(
      /now must be/,
    );
  });
});
