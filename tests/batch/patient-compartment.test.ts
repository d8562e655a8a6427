/**
 * SAFE-1 in batch: the partition routes a line by one patient link (subject, patient...); the
 * shard's apply checks the whole compartment, so a line routed to a patient whose record it is not
 * is not read for her, is reported at its file:line, and is named in her outputs' OperationOutcome.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CarePlan, OperationOutcome } from '@medplum/fhirtypes';
import { runBatch } from '../../src/batch/run-batch.ts';
import { KNOWLEDGE, NOW } from '../support/cli.ts';

const PLAN = { url: 'http://example.org/fhir/PlanDefinition/demo-protocol', version: '1.0.0' };
const hcg = (id: string, links: string) =>
  `{"resourceType":"Observation","id":"${id}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2106-3"}]},${links},"effectiveDateTime":"2026-11-20","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}}`;

const BASE = {
  'Patient.ndjson': [
    '{"resourceType":"Patient","id":"p0","gender":"female","birthDate":"1990-01-01"}',
    '{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1991-01-01"}',
  ],
  'Observation.ndjson': [hcg('hcg-p0', '"subject":{"reference":"Patient/p0"}'), hcg('hcg-p1', '"subject":{"reference":"Patient/p1/_history/2"}')],
};
// Routed to p0 by its (non-R4) `patient` element, but its subject is a Group: whose test is it?
const LEAK = hcg('hcg-ward', '"subject":{"reference":"Group/ward-3"},"patient":{"reference":"Patient/p0"}');

async function run(files: Record<string, string[]>, workers = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'ip-safe1-'));
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), lines.map((l) => `${l}\n`).join(''));
  const out = mkdtempSync(join(tmpdir(), 'ip-safe1-out-'));
  const summary = await runBatch({ inDir: dir, outDir: out, knowledgePaths: [KNOWLEDGE], planRefs: [PLAN], now: NOW, mode: 'r4', workers });
  const carePlans = readFileSync(join(out, 'CarePlan.ndjson'), 'utf8').split('\n').filter(Boolean);
  const failures = readFileSync(join(out, 'OperationOutcome.ndjson'), 'utf8').split('\n').filter(Boolean);
  return { summary, carePlans, failures };
}

describe('batch: a line routed to a patient whose compartment it is not in', () => {
  it('is not read for her, is reported at file:line, and her CarePlan says so; everything else is unchanged', async () => {
    const clean = await run(BASE);
    expect(clean.failures).toEqual([]);
    const leaked = await run({ ...BASE, 'Observation.ndjson': [...BASE['Observation.ndjson'], LEAK] });

    expect(leaked.failures).toHaveLength(1);
    const failure = JSON.parse(leaked.failures[0]!) as OperationOutcome;
    expect(failure.issue?.[0]).toMatchObject({ severity: 'error', code: 'processing', expression: ['Observation.ndjson:3'] });
    expect(failure.issue?.[0]?.diagnostics).toMatch(/^Observation\.ndjson:3: Observation\/hcg-ward is not used for Patient\/p0: its patient cannot be established/);

    // p1 (and p0 apart from the warning) exactly as without the line; the test is not cited.
    expect(leaked.carePlans[1]).toBe(clean.carePlans[1]);
    const p0 = JSON.parse(leaked.carePlans[0]!) as CarePlan;
    expect(JSON.stringify(p0.contained?.filter((r) => r.resourceType !== 'OperationOutcome'))).not.toContain('hcg-ward');
    const request = p0.contained?.find((r) => r.resourceType === 'ServiceRequest') as { reasonReference?: unknown };
    expect(request.reasonReference).toEqual([{ reference: 'Observation/hcg-p0' }]);
    const oo = p0.contained?.find((r): r is OperationOutcome => r.resourceType === 'OperationOutcome');
    expect(oo?.issue).toEqual([expect.objectContaining({ severity: 'warning', code: 'processing', expression: ['Observation.ndjson:3'] })]);
    const { contained, extension, ...rest } = p0;
    const cleanP0 = JSON.parse(clean.carePlans[0]!) as CarePlan;
    expect(extension).toEqual([{ url: 'http://hl7.org/fhir/StructureDefinition/cqf-messages', valueReference: { reference: '#outcome' } }]);
    expect({ ...rest, contained: contained?.filter((r) => r !== oo) }).toEqual(cleanP0);
  });

  it('the same output with several workers', async () => {
    const files = { ...BASE, 'Observation.ndjson': [...BASE['Observation.ndjson'], LEAK] };
    const [one, two] = await Promise.all([run(files, 1), run(files, 2)]);
    expect(two.carePlans).toEqual(one.carePlans);
    expect(two.failures).toEqual(one.failures);
  });
});
