/** The text renderer (and so `npm run demo`) labels an action left out for missing data as undecided, not as not applicable. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { renderResult } from '../../src/report/render-result.ts';
import { ROOT } from '../support/cli.ts';

describe('renderResult: missing data', () => {
  it('lists actions undecided for missing data under their own heading, apart from those checked and not applicable', () => {
    const knowledge = loadKnowledge();
    const bundle = JSON.parse(readFileSync(join(ROOT, 'examples/tr-missing-fitness-and-menses.json'), 'utf8')) as Bundle;
    const record = (bundle.entry ?? []).map((e) => e.resource as Resource);
    const subject = record.find((r): r is Patient => r.resourceType === 'Patient')!;
    const plan = knowledge.byId<PlanDefinition>('PlanDefinition', 'tubal-reanastomosis')!;
    const result = applyPlanDefinition(plan, { subject, data: buildPatientData(record) }, { now: bundle.timestamp! }, knowledge);
    const lines = renderResult(result, 'TR');
    const missingAt = lines.indexOf('  not decided - data missing (record it, then apply again):');
    const notApplicableAt = lines.indexOf('  checked, not applicable:');
    expect(missingAt).toBeGreaterThan(0);
    expect(notApplicableAt).toBeGreaterThan(missingAt);
    const missingSection = lines.slice(missingAt + 1, notApplicableAt);
    expect(missingSection.length).toBeGreaterThan(0);
    expect(missingSection.every((l) => l.includes('required data missing'))).toBe(true);
    expect(lines.slice(notApplicableAt + 1).some((l) => l.includes('required data missing'))).toBe(false);
    expect(lines.join('\n')).not.toContain('checked, not proposed');
  });
});
