/**
 * The audit's unsafe plans (findings 1, 2 and entered-in-error), end to end through the real
 * protocol artifacts: each starts from a clinical case where the procedure is proposed or
 * contraindicated and adds the one record the audit found read wrongly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeableConcept, Observation, Patient, PlanDefinition, Reference, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';

const knowledge = loadKnowledge();
const SCT = 'http://snomed.info/sct';
const LOCAL = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';
const HSG = `${SCT}|168884001`;
const HYSTEROSCOPY = `${SCT}|233545006`;
const OPEN_REVERSAL = `${LOCAL}|tubal-reanastomosis-open-microsurgical`;

interface Request {
  resourceType: string;
  doNotPerform?: boolean;
  code?: CodeableConcept;
  reasonReference?: Reference[];
  supportingInfo?: Reference[];
}

function caseRecord(plan: string, name: string): Resource[] {
  const spec = JSON.parse(readFileSync(join(PROJECT_ROOT, 'tests', 'protocols', plan, `${name}.json`), 'utf8')) as { bundle: { entry: { resource: Resource }[] } };
  return spec.bundle.entry.map((e) => e.resource);
}

function apply(planId: string, record: Resource[], now: string): Request[] {
  const plan = knowledge.byId<PlanDefinition>('PlanDefinition', planId)!;
  const subject = record.find((r): r is Patient => r.resourceType === 'Patient')!;
  const result = applyPlanDefinition(plan, { subject, data: buildPatientData(record) }, { now }, knowledge);
  return (result.carePlan?.contained ?? []) as unknown as Request[];
}

const hasCode = (r: Request, key: string) => (r.code?.coding ?? []).some((c) => `${c.system}|${c.code}` === key);
const proposed = (requests: Request[], key: string) => requests.filter((r) => r.doNotPerform !== true && hasCode(r, key));
/** The doNotPerform requests that cite `reference` as their evidence. */
const refusedCiting = (requests: Request[], reference: string) =>
  requests.filter((r) => r.doNotPerform === true && [...(r.reasonReference ?? []), ...(r.supportingInfo ?? [])].some((x) => x.reference === reference));

const pregnancyTest = (id: string, effectiveDateTime: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2106-3' }] },
  subject: { reference: 'Patient/patient' },
  effectiveDateTime,
  valueCodeableConcept: { coding: [{ system: SCT, code: '10828004' }] },
});

describe('look-backs in calendar days of now, through the protocols', () => {
  it('HSG: a positive pregnancy test dated today with no time contraindicates at 07:30+08:00 (audit finding 1)', () => {
    const record = [...caseRecord('hysterosalpingography', 'hsg-infertility-day-6-all-ready'), pregnancyTest('hcg-positive-today', '2026-03-10')];
    const requests = apply('hysterosalpingography', record, '2026-03-10T07:30:00+08:00');
    expect(proposed(requests, HSG)).toEqual([]);
    expect(refusedCiting(requests, 'Observation/hcg-positive-today').length).toBeGreaterThan(0);
  });

  it('tubal reanastomosis: a positive test timed later today than now contraindicates (audit finding 2)', () => {
    const record = [...caseRecord('tubal-reanastomosis', 'tr-eligible-day-4'), pregnancyTest('hcg-positive-later', '2026-07-14T10:00:00Z')];
    const requests = apply('tubal-reanastomosis', record, '2026-07-14T09:00:00Z');
    expect(proposed(requests, OPEN_REVERSAL)).toEqual([]);
    expect(refusedCiting(requests, 'Observation/hcg-positive-later').length).toBeGreaterThan(0);
  });
});

describe('entered-in-error is never evidence, through the protocols', () => {
  it('hysteroscopy: a newer entered-in-error "no heavy bleeding" does not mask heavy bleeding under limit 1', () => {
    const masking: Observation = {
      resourceType: 'Observation',
      id: 'heavy-bleeding-error',
      status: 'entered-in-error',
      code: { coding: [{ system: LOCAL, code: 'heavy-uterine-bleeding-now' }] },
      subject: { reference: 'Patient/patient' },
      effectiveDateTime: '2026-05-20T08:30:00Z',
      valueBoolean: false,
    };
    const requests = apply('infertility-hysteroscopy', [...caseRecord('infertility-hysteroscopy', 'hys-ci-heavy-bleeding-now'), masking], '2026-05-20T09:00:00Z');
    expect(proposed(requests, HYSTEROSCOPY)).toEqual([]);
    expect(refusedCiting(requests, 'Observation/heavy-bleeding').length).toBeGreaterThan(0);
  });

  it('HSG: an entered-in-error "no known allergy" is not the allergy history: HSG waits for it', () => {
    const record = caseRecord('hysterosalpingography', 'hsg-infertility-day-6-all-ready').map((r) =>
      r.resourceType === 'AllergyIntolerance'
        ? { ...r, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'entered-in-error' }] } }
        : r,
    );
    const requests = apply('hysterosalpingography', record, '2026-03-10T09:00:00Z');
    expect(proposed(requests, HSG)).toEqual([]);
    expect(requests.filter((r) => r.resourceType === 'Task' && hasCode(r, 'http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type|collect-information')).length).toBeGreaterThan(
      0,
    );
  });
});
