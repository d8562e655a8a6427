/**
 * The contract between the $apply engine and the CarePlan profile: what applyPlanDefinition returns
 * in R4 mode conforms to ip-protocol-careplan and to the R4 base definitions.
 */
import type { ActivityDefinition, Observation, Patient, PlanDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData, compileKnowledge } from '../../src/engine/index.ts';
import { LOINC, SCT } from '../../profiles/_authoring/profile-specs.ts';
import { isValid, validateResourceAgainst, validateResources } from '../../src/validation/validate.ts';

const CAREPLAN_PROFILE = 'http://infertility-protocols.org/fhir/StructureDefinition/ip-protocol-careplan';
const BASE = 'http://infertility-protocols.org/fhir';

const hsgOrder: ActivityDefinition = {
  resourceType: 'ActivityDefinition',
  id: 'order-hsg',
  url: `${BASE}/ActivityDefinition/order-hsg`,
  version: '0.1.0',
  status: 'active',
  kind: 'ServiceRequest',
  code: { coding: [{ system: SCT, code: '168884001' }] },
};

const plan: PlanDefinition = {
  resourceType: 'PlanDefinition',
  id: 'validation-contract',
  url: `${BASE}/PlanDefinition/validation-contract`,
  version: '0.1.0',
  status: 'active',
  action: [
    {
      id: 'hsg',
      title: 'Hysterosalpingography',
      definitionCanonical: hsgOrder.url,
      input: [{ id: 'lmp', type: 'Observation', codeFilter: [{ path: 'code', code: [{ system: LOINC, code: '8665-2' }] }] }],
      condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: '%lmp.exists()' } }],
    },
  ],
};

const patient: Patient = { resourceType: 'Patient', id: 'pat-1', gender: 'female', birthDate: '1990-05-01' };
const lmp: Observation = {
  resourceType: 'Observation',
  id: 'lmp-1',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '8665-2' }] },
  subject: { reference: 'Patient/pat-1' },
  valueDateTime: '2025-03-01',
};

describe('engine output', () => {
  const knowledge = compileKnowledge([plan, hsgOrder]);
  const apply = (records: (Patient | Observation)[]) =>
    applyPlanDefinition(plan, { subject: patient, data: buildPatientData(records) }, { now: '2025-03-08T09:00:00+08:00' }, knowledge);

  it.each([
    { name: 'with an applicable action', records: [patient, lmp] },
    { name: 'with nothing applicable', records: [patient] },
  ])('the R4 CarePlan conforms to ip-protocol-careplan $name', ({ records }) => {
    const carePlan = apply(records).carePlan;
    expect(carePlan).toBeDefined();
    const against = validateResourceAgainst(carePlan!, CAREPLAN_PROFILE);
    expect(against.issue.filter((i) => i.severity === 'error')).toEqual([]);
    const [general] = validateResources([carePlan!]);
    expect(isValid(general!.outcome), JSON.stringify(general!.outcome.issue)).toBe(true);
    expect(general!.outcome.issue.at(-1)?.diagnostics).toContain(CAREPLAN_PROFILE);
  });
});
