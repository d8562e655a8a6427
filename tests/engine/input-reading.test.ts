/**
 * How an action's inputs read the record (audit findings 1, 2 and entered-in-error, SAFE-2 and
 * SAFE-10): a look-back is calendar days in the offset of `now` up to the end of today, a date-only
 * value is its local day (month, year) in that offset, a record dated after today is left out and
 * named, and a record entered in error is never evidence - before sort and limit, and never for a
 * required input.
 */
import type { AllergyIntolerance, DataRequirement, Observation, OperationOutcomeIssue, PlanDefinitionAction, Resource, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { calendarSpan } from '../../src/engine/dates.ts';
import { applyPlanDefinition, buildPatientData, compileKnowledge } from '../../src/engine/index.ts';
import { filterByRequirement, satisfiesRequirement } from '../../src/engine/inputs.ts';
import { INPUT_REQUIRED_EXTENSION } from '../../src/engine/types.ts';
import { applicable, planDefinition, testPatient } from '../support/definitions.ts';

const patient = testPatient;
const HCG = { system: 'http://loinc.org', code: '2106-3' };
const SCT = 'http://snomed.info/sct';
const POSITIVE = { system: SCT, code: '10828004' };
const NEGATIVE = { system: SCT, code: '260385009' };
const days = (value: number) => ({ value, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' });

/** The newest-first 7-day look-back the protocols put on pregnancy results. */
const lastSevenDays = (extra: Partial<DataRequirement> = {}): DataRequirement => ({
  id: 'tests',
  type: 'Observation',
  codeFilter: [{ path: 'code', code: [HCG] }],
  dateFilter: [{ path: 'effective', valueDuration: days(7) }],
  sort: [{ path: 'effective', direction: 'descending' }],
  ...extra,
});

const hcg = (id: string, effective: string | { start?: string; end?: string }, result = POSITIVE, extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [HCG] },
  subject: { reference: 'Patient/p1' },
  ...(typeof effective === 'string' ? { effectiveDateTime: effective } : { effectivePeriod: effective }),
  valueCodeableConcept: { coding: [result] },
  ...extra,
});

/** The ids an input binds at `now`, with the issues the reading raised. */
function read(requirement: DataRequirement, records: Resource[], now: string): { ids: string[]; issues: OperationOutcomeIssue[] } {
  const issues: OperationOutcomeIssue[] = [];
  const found = filterByRequirement(requirement, {
    data: buildPatientData([patient, ...records]),
    subject: patient,
    knowledge: compileKnowledge([]),
    nowText: now,
    issues,
    where: 'PlanDefinition/test-plan#a',
    lookBacks: new Map(),
  });
  return { ids: found.map((r) => r.id ?? '?'), issues };
}

const BEIJING_MORNING = '2026-03-10T07:30:00+08:00';

describe('a look-back is calendar days in the offset of now (audit finding 1)', () => {
  it('a result dated today with no time counts early in the morning east of UTC', () => {
    // 07:30+08:00 is 23:30Z the day before: UTC midnight of 2026-03-10 was "after now".
    expect(read(lastSevenDays(), [hcg('today', '2026-03-10')], BEIJING_MORNING).ids).toEqual(['today']);
    expect(read(lastSevenDays(), [hcg('today', '2026-03-10')], '2026-03-10T16:00:00+08:00').ids).toEqual(['today']);
  });

  it('reaches back seven calendar days, not eight: a date-only result of day -8 is out, day -7 is in', () => {
    const records = [hcg('day-8', '2026-03-02', NEGATIVE), hcg('day-7', '2026-03-03', NEGATIVE)];
    expect(read(lastSevenDays(), records, BEIJING_MORNING).ids).toEqual(['day-7']);
    expect(read(lastSevenDays(), records, '2026-03-10T23:59:00-11:00').ids).toEqual(['day-7']);
  });

  it('a day -7 result counts whatever its time of day (the FHIRPath side compares calendar dates)', () => {
    const records = [hcg('early', '2026-03-03T08:00:00Z'), hcg('late', '2026-03-03T10:00:00Z'), hcg('day-8', '2026-03-02T23:59:00Z')];
    expect(read(lastSevenDays(), records, '2026-03-10T09:00:00Z').ids).toEqual(['late', 'early']);
  });

  it('a dateTime written on a day inside the look-back counts even when its instant falls outside in now offset', () => {
    // 2026-03-02T20:00-12:00 is 2026-03-03T16:00+08:00 (in); 2026-03-03T01:00+14:00 is 2026-03-02T19:00+08:00 but written on day -7 (in).
    const records = [hcg('west', '2026-03-02T20:00:00-12:00'), hcg('east', '2026-03-03T01:00:00+14:00')];
    expect(read(lastSevenDays(), records, BEIJING_MORNING).ids).toEqual(['west', 'east']);
  });

  it('a date known only to the month or year is read as the whole month or year (the widest reading)', () => {
    const records = [hcg('this-month', '2026-03'), hcg('last-month', '2026-02'), hcg('this-year', '2026'), hcg('last-year', '2025')];
    expect(read(lastSevenDays(), records, BEIJING_MORNING).ids.sort()).toEqual(['this-month', 'this-year']);
  });

  it('calendarSpan: a date-only value is its local day, month or year in the offset given; a dateTime is its instant', () => {
    const plus8 = 8 * 36e5;
    expect(calendarSpan('2026-03-10', plus8)).toEqual([Date.parse('2026-03-09T16:00:00Z'), Date.parse('2026-03-10T16:00:00Z') - 1]);
    expect(calendarSpan('2026-02', 0)).toEqual([Date.parse('2026-02-01T00:00:00Z'), Date.parse('2026-03-01T00:00:00Z') - 1]);
    expect(calendarSpan('2024', -5 * 36e5)).toEqual([Date.parse('2024-01-01T05:00:00Z'), Date.parse('2025-01-01T05:00:00Z') - 1]);
    expect(calendarSpan('2026-03-10T07:30:00+08:00', 0)).toEqual([Date.parse('2026-03-09T23:30:00Z'), Date.parse('2026-03-09T23:30:00Z')]);
    expect(calendarSpan(undefined, 0)).toBeUndefined();
  });
});

describe('the look-back ends at the end of today; what is dated after today is named (audit finding 2)', () => {
  it('a result timed later today than now counts', () => {
    const { ids, issues } = read(lastSevenDays(), [hcg('later', '2026-03-10T10:00:00Z'), hcg('earlier', '2026-03-10T08:00:00Z')], '2026-03-10T09:00:00Z');
    expect(ids).toEqual(['later', 'earlier']);
    expect(issues).toEqual([]);
  });

  it('a result dated tomorrow (in now offset) is left out with a warning naming it and the input', () => {
    const records = [hcg('tomorrow', '2026-03-11'), hcg('tomorrow-morning', '2026-03-11T00:30:00+08:00'), hcg('today', '2026-03-10T23:30:00+08:00')];
    const { ids, issues } = read(lastSevenDays(), records, BEIJING_MORNING);
    expect(ids).toEqual(['today']);
    expect(issues.map((i) => [i.severity, i.diagnostics])).toEqual([
      [
        'warning',
        expect.stringMatching(
          /^Observation\/tomorrow is dated after today \(Observation\.effective 2026-03-11, now 2026-03-10T07:30:00\+08:00\): the look-back of input 'tests' \(PlanDefinition\/test-plan#a\) leaves it out/,
        ),
      ],
      ['warning', expect.stringMatching(/^Observation\/tomorrow-morning is dated after today/)],
    ]);
  });

  it('a Period that starts after today is dated after today; one that started before and runs on counts', () => {
    const records = [hcg('future', { start: '2026-03-12' }), hcg('running', { start: '2026-03-09', end: '2026-03-20' })];
    const { ids, issues } = read(lastSevenDays(), records, '2026-03-10T09:00:00Z');
    expect(ids).toEqual(['running']);
    expect(issues.map((i) => i.diagnostics)).toEqual([expect.stringMatching(/^Observation\/future is dated after today/)]);
  });
});

describe('entered-in-error is never evidence (SAFE-10)', () => {
  const eie = hcg('newer-error', '2026-03-10T08:00:00Z', NEGATIVE, { status: 'entered-in-error' });
  const positive = hcg('positive', '2026-03-09T08:00:00Z');

  it('a newer entered-in-error record does not mask the newest valid one under limit 1, and is reported', () => {
    const { ids, issues } = read(lastSevenDays({ limit: 1 }), [positive, eie], '2026-03-10T09:00:00Z');
    expect(ids).toEqual(['positive']);
    expect(issues).toEqual([
      {
        severity: 'information',
        code: 'informational',
        diagnostics: "Observation/newer-error is not used: it is entered-in-error, so it is not part of the patient's record (SAFE-10)",
      },
    ]);
  });

  it('verificationStatus entered-in-error (any system), Goal lifecycleStatus and DocumentReference docStatus count too', () => {
    const allergy: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      id: 'nka',
      patient: { reference: 'Patient/p1' },
      code: { coding: [{ system: SCT, code: '716186003' }] },
      verificationStatus: { coding: [{ system: 'http://example.org/local', code: 'entered-in-error' }] },
    };
    const requirement: DataRequirement = { id: 'allergies', type: 'AllergyIntolerance', codeFilter: [{ path: 'code', code: [{ system: SCT, code: '716186003' }] }] };
    expect(read(requirement, [allergy], '2026-03-10T09:00:00Z').ids).toEqual([]);
    const goal = { resourceType: 'Goal' as const, id: 'g', lifecycleStatus: 'entered-in-error' as const, description: { text: 'x' }, subject: { reference: 'Patient/p1' } };
    expect(read({ type: 'Goal' }, [goal], '2026-03-10T09:00:00Z').ids).toEqual([]);
    const doc = {
      resourceType: 'DocumentReference' as const,
      id: 'd',
      status: 'current' as const,
      docStatus: 'entered-in-error' as const,
      content: [{ attachment: { url: 'http://example.org/d' } }],
      subject: { reference: 'Patient/p1' },
    };
    expect(read({ type: 'DocumentReference' }, [doc], '2026-03-10T09:00:00Z').ids).toEqual([]);
  });

  it('a cancelled record stays in the input: the artifacts read status themselves', () => {
    const cancelled = hcg('cancelled', '2026-03-10T08:00:00Z', NEGATIVE, { status: 'cancelled' });
    expect(read(lastSevenDays({ limit: 1 }), [positive, cancelled], '2026-03-10T09:00:00Z').ids).toEqual(['cancelled']);
  });

  it('an entered-in-error record never satisfies a required input', () => {
    expect(satisfiesRequirement([eie], lastSevenDays())).toBe(false);
    expect(satisfiesRequirement([eie, positive], lastSevenDays())).toBe(true);
  });

  it('end to end: a required input holding only an entered-in-error record asks for the data (collect Task), once reported', () => {
    const required = lastSevenDays({ extension: [{ url: INPUT_REQUIRED_EXTENSION, valueBoolean: true }] });
    const actions: PlanDefinitionAction[] = [
      { id: 'first', title: 'First', input: [required], condition: [applicable('%tests.exists()')] },
      { id: 'second', title: 'Second', input: [{ ...required, id: 'sameTests' }], condition: [applicable('%sameTests.exists()')] },
    ];
    const plan = planDefinition(actions);
    const result = applyPlanDefinition(plan, { subject: patient, data: buildPatientData([patient, eie]) }, { now: '2026-03-10T09:00:00Z' }, compileKnowledge([plan]));
    expect(result.trace.map((t) => t.applicability)).toEqual(['missing-data', 'missing-data']);
    expect(result.resources.filter((r): r is Task => r.resourceType === 'Task').map((t) => t.id)).toEqual(['collect-tests']);
    expect(result.outcome.issue.filter((i) => i.diagnostics?.includes('entered-in-error'))).toHaveLength(1);
  });
});
