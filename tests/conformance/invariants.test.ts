/**
 * The structural invariants must be able to fail: each check is shown a result broken in exactly
 * one way and must name that break, and a conformant engine result must pass them all.
 */
import type { Bundle, CarePlan, CommunicationRequest, RequestGroup, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { activityResultViolations, bundleViolations, carePlanViolations, invalidDates, invertedPeriods } from './support/invariants.ts';

const rg: RequestGroup = {
  resourceType: 'RequestGroup',
  id: 'rg',
  instantiatesCanonical: ['http://example.org/PlanDefinition/p|1'],
  status: 'draft',
  intent: 'proposal',
  subject: { reference: 'Patient/p1' },
  action: [{ id: 'a', resource: { reference: '#sr' } }],
};
const sr: ServiceRequest = { resourceType: 'ServiceRequest', id: 'sr', status: 'draft', intent: 'option', subject: { reference: 'Patient/p1' }, code: { text: 'x' } };

function carePlan(contained: CarePlan['contained'], extra: Partial<CarePlan> = {}): CarePlan {
  return {
    resourceType: 'CarePlan',
    id: 'cp',
    contained,
    instantiatesCanonical: ['http://example.org/PlanDefinition/p|1'],
    status: 'draft',
    intent: 'proposal',
    subject: { reference: 'Patient/p1' },
    created: '2026-11-23T09:00:00Z',
    activity: [{ reference: { reference: '#rg' } }],
    ...extra,
  };
}

describe('R4 CarePlan invariants', () => {
  it('accept a conformant CarePlan', () => {
    expect(carePlanViolations(carePlan([rg, sr]))).toEqual([]);
  });

  it('name a duplicate contained id', () => {
    expect(carePlanViolations(carePlan([rg, sr, { ...sr, resourceType: 'ServiceRequest' }]))).toContain("contained id 'sr' is used by more than one contained resource");
  });

  it('name a #reference that resolves to nothing and a contained resource nothing references', () => {
    const dangling = { ...sr, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal', valueReference: { reference: '#goal-x' } }] };
    const orphan: ServiceRequest = { ...sr, id: 'orphan' };
    const problems = carePlanViolations(carePlan([rg, dangling, orphan]));
    expect(problems.some((p) => p.includes("'#goal-x' does not resolve to a contained resource"))).toBe(true);
    expect(problems).toContain('contained ServiceRequest/orphan is not referenced (dom-3)');
  });

  it('name a request inside the RequestGroup whose intent is not option, and a status option', () => {
    const problems = carePlanViolations(carePlan([rg, { ...sr, intent: 'proposal', status: 'option' as ServiceRequest['status'] }]));
    expect(problems).toContain("R4: ServiceRequest/sr inside the RequestGroup has intent 'proposal', not 'option'");
    expect(problems.some((p) => /status 'option'/.test(p))).toBe(true);
  });

  it('do not ask intent of a type R4 gives none (CommunicationRequest)', () => {
    const cr: CommunicationRequest = { resourceType: 'CommunicationRequest', id: 'sr', status: 'draft', subject: { reference: 'Patient/p1' } };
    expect(carePlanViolations(carePlan([rg, cr]))).toEqual([]);
  });

  it('name an R4 constraint the base validation finds (rqg-1: resource and sub-actions on one action)', () => {
    const both: RequestGroup = { ...rg, action: [{ id: 'a', resource: { reference: '#sr' }, action: [{ id: 'b', resource: { reference: '#sr' } }] }] };
    expect(carePlanViolations(carePlan([both, sr])).some((p) => /rqg-1/.test(p))).toBe(true);
  });
});

describe('dates', () => {
  it('accept every FHIR date precision and name impossible or malformed ones', () => {
    expect(invalidDates({ ...sr, occurrencePeriod: { start: '2026', end: '2026-11-23T09:00:00+01:00' }, authoredOn: '2026-11' }, 'x')).toEqual([]);
    expect(invalidDates({ ...sr, occurrenceDateTime: '2026-02-30' }, 'SR')).toEqual(["SR.occurrenceDateTime: '2026-02-30' is not a valid FHIR dateTime"]);
    expect(invalidDates({ ...sr, authoredOn: '2026-11-23T09:00' }, 'SR')).toHaveLength(1);
    expect(invalidDates({ ...rg, action: [{ timingDateTime: '2026-13-01' }] }, 'RG')).toEqual(["RG.action[0].timingDateTime: '2026-13-01' is not a valid FHIR dateTime"]);
  });

  it('name a Period whose start is after its end (per-1)', () => {
    expect(invertedPeriods({ ...sr, occurrencePeriod: { start: '2026-12-02', end: '2026-12-01' } }, 'SR')).toEqual([
      'SR.occurrencePeriod: start 2026-12-02 is after end 2026-12-01',
    ]);
    expect(invertedPeriods({ ...sr, occurrencePeriod: { start: '2026-12-01', end: '2026-12-01' } }, 'SR')).toEqual([]);
  });
});

describe('CPG Bundle invariants', () => {
  const url = (n: number) => `urn:uuid:00000000-0000-5000-8000-00000000000${n}`;
  const bundle = (entries: Bundle['entry']): Bundle => ({ resourceType: 'Bundle', id: 'b', type: 'collection', timestamp: '2026-11-23T09:00:00Z', entry: entries });
  const cpgRg: RequestGroup = { ...rg, action: [{ id: 'a', resource: { reference: url(2) } }] };

  it('accept a conformant Bundle', () => {
    expect(
      bundleViolations(
        bundle([
          { fullUrl: url(1), resource: cpgRg },
          { fullUrl: url(2), resource: sr },
        ]),
      ),
    ).toEqual([]);
  });

  it('name a RequestGroup that is not first, a duplicate fullUrl, an unresolved urn and a leftover #reference', () => {
    const problems = bundleViolations(
      bundle([
        { fullUrl: url(2), resource: sr },
        {
          fullUrl: url(2),
          resource: {
            ...cpgRg,
            action: [
              { id: 'a', resource: { reference: url(9) } },
              { id: 'b', resource: { reference: '#sr' } },
            ],
          },
        },
      ]),
    );
    expect(problems).toContain('the first Bundle entry is not the RequestGroup');
    expect(problems.some((p) => /used by more than one entry \(bdl-7\)/.test(p))).toBe(true);
    expect(problems.some((p) => p.includes(`'${url(9)}' does not resolve to a Bundle entry`))).toBe(true);
    expect(problems.some((p) => p.includes("local reference '#sr' left in CPG output"))).toBe(true);
  });
});

describe('ActivityDefinition/$apply result invariants', () => {
  it('name an R4 structure error and an invalid date', () => {
    const problems = activityResultViolations({ ...sr, subject: undefined as unknown as ServiceRequest['subject'], authoredOn: '2026-02-30' });
    expect(problems.some((p) => p.startsWith('R4 validation'))).toBe(true);
    expect(problems).toContain("ServiceRequest.authoredOn: '2026-02-30' is not a valid FHIR dateTime");
  });
});
