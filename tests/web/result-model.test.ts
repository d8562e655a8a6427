/**
 * The page's reading of an $apply result, on real results of the real protocols (the engine run
 * in-process, with the trace extensions the served $apply adds for trace=true): dated items,
 * open-ended periods, the bleeding band, age marks, and the trace rows read from the extensions.
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
    // Chromopertubation keeps the HSG window, with an end (audit finding 7, SAFE-8).
    expect(items.find((i) => i.actionId === 'hsg-laparoscopic-chromopertubation')).toMatchObject({ start: '2026-03-10', end: '2026-03-11' });
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

  it('reads the trace the result carries: status, reason, each condition with its result, inputs with counts, the missing input with its Task', () => {
    const { carePlan } = apply('hsg-missing-everything', true);
    const rows = traceRows(carePlan)!;
    const timing = rows.find((r) => r.actionId === 'hsg-timing')!;
    expect(timing.status).toBe('missing data');
    expect(timing.reason).toContain('not decided: required data missing (menstrualData');
    expect(timing.missing[0]).toEqual({
      inputId: 'menstrualData',
      type: 'Observation',
      taskId: '#collect-menstrualData',
      task: 'Collect Date menstruation ended (Observation): needed to decide Timing: 5-7 days after the menses are clean.',
    });
    expect(timing.inputs.map((i) => i.id)).toEqual(['menstrualData', 'pregnancyStatus', 'iodineAllergyStatus']);
    expect(timing.inputs.every((i) => i.count === 0)).toBe(true);
    const plan = rows.find((r) => r.actionId === 'hsg-plan')!;
    expect(timing.depth).toBe(plan.depth + 1);

    const complete = traceRows(apply('hsg-infertility-day-6-all-ready', true).carePlan)!;
    const pregnancy = complete.find((r) => r.actionId === 'hsg-ci-pregnancy')!;
    expect(pregnancy.status).toBe('not applied');
    expect(pregnancy.reason).toBe('not applicable: condition "HSG-C3: pregnancy" is false');
    expect(pregnancy.conditions).toEqual([expect.objectContaining({ label: 'HSG-C3: pregnancy', outcome: 'false' })]);
    expect(pregnancy.conditions[0]?.fhirpath).toContain('%pregnant');
    const order = complete.find((r) => r.actionId === 'hsg-order')!;
    expect(order.status).toBe('applied');
    expect(order.request).toMatch(/^ServiceRequest: /);
    expect(complete.find((r) => r.actionId === 'hsg-alternative-hycosy')?.status).toBe('not applied');
  });

  it('without the trace there are no rows: the page does not guess them from the plan', () => {
    expect(traceRows(apply('hsg-missing-everything').carePlan)).toBeUndefined();
  });
});
