/**
 * The page's reading of an $apply result, on real results of the real protocols (the engine run
 * in-process): dated items, open-ended periods, the bleeding band, age marks, and the trace - the
 * engine's own when the RequestGroup carries it, otherwise read from the result without claiming
 * more than it shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Bundle, CarePlan, PlanDefinition } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { ageMarks, cycleFacts, patientOf, planItems, resourcesOf, traceRows } from '../../web/src/result-model.ts';

const knowledge = loadKnowledge();
const hsg = knowledge.byId<PlanDefinition>('PlanDefinition', 'hysterosalpingography')!;

function apply(example: string, traceExtension = false): { carePlan: CarePlan; bundle: Bundle } {
  const bundle = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', `${example}.json`), 'utf8')) as Bundle;
  const record = resourcesOf(bundle);
  const result = applyPlanDefinition(hsg, { subject: patientOf(record)!, data: buildPatientData(record) }, { now: bundle.timestamp!, traceExtension }, knowledge);
  return { carePlan: result.carePlan!, bundle };
}

describe('result model', () => {
  it('lists every dated item with its window, and an open-ended period as such', () => {
    const { carePlan, bundle } = apply('hsg-infertility-day-6-all-ready');
    const items = planItems(carePlan);
    expect(items.find((i) => i.actionId === 'hsg-order')).toMatchObject({ kind: 'procedure', start: '2026-03-10', end: '2026-03-11', choice: 'exactly one' });
    expect(items.find((i) => i.actionId === 'hsg-laparoscopic-chromopertubation')).toMatchObject({ start: '2026-03-10', openEnded: true });
    expect(items.find((i) => i.actionId === 'hsg-atropine')).toMatchObject({ kind: 'preparation', resourceType: 'MedicationRequest', start: '2026-03-10' });
    expect(cycleFacts(resourcesOf(bundle))).toEqual({ bleedingStart: '2026-02-27', bleedingEnd: '2026-03-04' });
  });

  it('marks a birthday in range, and a procedure period that ends the day before it as an age limit', () => {
    const marks = ageMarks({ resourceType: 'Patient', birthDate: '1986-07-20' }, '2026-07-01', '2026-07-31', [
      { actionId: 'x', title: 'Reversal', resourceType: 'ServiceRequest', kind: 'procedure', start: '2026-07-16', end: '2026-07-19' },
    ]);
    expect(marks).toEqual([{ date: '2026-07-20', label: 'turns 40 (age limit: Reversal must end the day before)' }]);
    expect(ageMarks({ resourceType: 'Patient', birthDate: '1986-09-20' }, '2026-07-01', '2026-07-31', [])).toEqual([]);
  });

  it("uses the engine's trace when the result carries it", () => {
    const { carePlan } = apply('hsg-missing-everything', true);
    const rows = traceRows(hsg, carePlan);
    const timing = rows.find((r) => r.actionId === 'hsg-timing')!;
    expect(timing.status).toBe('missing data');
    expect(timing.reason).not.toContain('see the Task');
    expect(timing.tasks.some((t) => t.startsWith('Collect Date menstruation ended'))).toBe(true);
    expect(timing.inputs.map((i) => i.id)).toEqual(['menstrualData', 'pregnancyStatus', 'iodineAllergyStatus']);
  });

  it('without the trace, says an action out of the result is false-or-undecided when data is missing, and false when everything was decided', () => {
    const missing = traceRows(hsg, apply('hsg-missing-everything').carePlan);
    expect(missing.find((r) => r.actionId === 'hsg-timing')).toMatchObject({ status: 'missing data' });
    expect(missing.find((r) => r.actionId === 'hsg-fitness-not-assessed')?.reason).toMatch(/^not in the result: .* or not decided because data is missing/);
    const complete = traceRows(hsg, apply('hsg-infertility-day-6-all-ready').carePlan);
    expect(complete.find((r) => r.actionId === 'hsg-order')?.status).toBe('applied');
    expect(complete.find((r) => r.actionId === 'hsg-ci-pregnancy')?.reason).toBe('a condition was false: HSG-C3: pregnancy');
    expect(complete.find((r) => r.actionId === 'hsg-alternative-hycosy')?.status).toBe('not applied');
    expect(complete.find((r) => r.actionId === 'hycosy-order')?.status).toBe('not reached');
  });
});
