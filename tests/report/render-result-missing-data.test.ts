/** The text renderer (and so `npm run demo`) labels an action left out for missing data as undecided, not as not applicable. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { renderResult } from '../../src/report/render-result.ts';
import { ROOT } from '../support/cli.ts';

const knowledge = loadKnowledge();

/** One bundled example applied with one plan at the example's own time. */
function applyExample(file: string, planId: string) {
  const bundle = JSON.parse(readFileSync(join(ROOT, 'examples', file), 'utf8')) as Bundle;
  const record = (bundle.entry ?? []).map((e) => e.resource as Resource);
  const subject = record.find((r): r is Patient => r.resourceType === 'Patient')!;
  const plan = knowledge.byId<PlanDefinition>('PlanDefinition', planId)!;
  return applyPlanDefinition(plan, { subject, data: buildPatientData(record) }, { now: bundle.timestamp! }, knowledge);
}

describe('renderResult: missing data', () => {
  it('lists actions undecided for missing data under their own heading, apart from those checked and not applicable', () => {
    const result = applyExample('tr-missing-fitness-and-menses.json', 'tubal-reanastomosis');
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

describe('a group whose only undecided actions wait for data', () => {
  const result = applyExample('hsg-missing-everything.json', 'hysterosalpingography');

  it('is traced as not decided (missing-data) up to the root, naming the actions that wait, never as not applicable', () => {
    const root = result.trace[0]!;
    expect(root.actionId).toBe('hsg');
    expect(root.applicability).toBe('missing-data');
    expect(root.reason).toMatch(/^not decided: none of its \d+ actions applies with the data on record, and hsg-assessment waits for required data$/);
    const assessment = root.children.find((t) => t.actionId === 'hsg-assessment')!;
    expect(assessment.applicability).toBe('missing-data');
    expect(assessment.reason).toContain('hsg-plan waits for required data');
    // A group with no action waiting for data is still simply not applicable.
    expect(root.children.find((t) => t.actionId === 'hsg-ivf-referral')!.applicability).toBe('not-applicable');
  });

  it('the text renderer names the waiting actions (what to record), not their groups, and does not list the groups as not applicable', () => {
    const lines = renderResult(result, 'HSG');
    const missingAt = lines.indexOf('  not decided - data missing (record it, then apply again):');
    const notApplicableAt = lines.indexOf('  checked, not applicable:');
    const missingSection = lines.slice(missingAt + 1, notApplicableAt);
    expect(missingSection).toHaveLength(1);
    expect(missingSection[0]).toMatch(/required data missing \(menstrualData, pregnancyStatus, iodineAllergyStatus\)/);
    expect(lines.join('\n')).not.toMatch(/none of its \d+ actions applies$/m);
  });
});
