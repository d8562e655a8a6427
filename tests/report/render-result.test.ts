import { describe, expect, it } from 'vitest';
import type { ActivityDefinition, Patient, PlanDefinition } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, compileKnowledge } from '../../src/engine/index.ts';
import { INPUT_REQUIRED_EXTENSION } from '../../src/engine/types.ts';
import { renderResult } from '../../src/report/render-result.ts';

const patient: Patient = { resourceType: 'Patient', id: 'p', gender: 'female' };
const hsg: ActivityDefinition = {
  resourceType: 'ActivityDefinition',
  id: 'hsg',
  url: 'http://example.org/AD/hsg',
  status: 'active',
  kind: 'ServiceRequest',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '168884001', display: 'Hysterosalpingography' }] },
};
const fp = (expression: string) => ({ kind: 'applicability' as const, expression: { language: 'text/fhirpath' as const, expression } });
const plan: PlanDefinition = {
  resourceType: 'PlanDefinition',
  id: 'p',
  url: 'http://example.org/PD/p',
  status: 'active',
  action: [
    {
      id: 'do',
      title: 'Plan the HSG',
      definitionCanonical: hsg.url,
      dynamicValue: [{ path: 'occurrencePeriod', expression: { language: 'text/fhirpath', expression: '%today.select(%today)' } }],
    },
    {
      id: 'dont',
      title: 'Pregnant',
      definitionCanonical: hsg.url,
      dynamicValue: [
        { path: 'doNotPerform', expression: { language: 'text/fhirpath', expression: 'true' } },
        { path: 'supportingInfo', expression: { language: 'text/fhirpath', expression: '%patient' } },
      ],
    },
    {
      id: 'ask',
      title: 'Needs pregnancy status',
      input: [
        {
          id: 'preg',
          type: 'Observation',
          extension: [{ url: INPUT_REQUIRED_EXTENSION, valueBoolean: true }],
          codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '82810-3', display: 'Pregnancy status' }] }],
        },
      ],
    },
    { id: 'no', title: 'Never', condition: [fp('false')] },
  ],
};

describe('renderResult', () => {
  it('shows proposed, do-not-perform (with reasons), what to collect, and why the rest is not proposed', () => {
    const knowledge = compileKnowledge([plan, hsg]);
    const result = applyPlanDefinition(plan, { subject: patient, data: buildPatientData([patient]) }, { now: '2026-11-23T09:00:00Z' }, knowledge);
    const text = renderResult(result, 'HEADING').join('\n');
    expect(text).toMatch(/^HEADING/);
    expect(text).toMatch(/\+ Plan the HSG: ServiceRequest Hysterosalpingography/);
    expect(text).toMatch(/x DO NOT PERFORM ServiceRequest Hysterosalpingography - because: Patient\/p/);
    expect(text).toMatch(/\? COLLECT Collect Pregnancy status \(Observation\): needed to decide Needs pregnancy status/);
    expect(text).toMatch(/\. Never: not applicable: condition "false" is false/);
  });
});
