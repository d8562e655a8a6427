/**
 * A CDS suggestion's resource drops references into the transient CarePlan (`#goal-...`); an
 * extension whose value was such a reference (resource-pertainsToGoal) must go with it, not stay
 * as a url without a value (R4 ext-1), and the suggested resource validates against R4.
 */
import type { ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { toSuggestedResource } from '../../src/server/cds/card-parts.ts';
import { validateResources } from '../../src/validation/validate.ts';

describe('suggested resources', () => {
  it('drops a pertainsToGoal extension whose goal is only in the CarePlan (ext-1), keeps other extensions', () => {
    const request: ServiceRequest = {
      resourceType: 'ServiceRequest',
      id: 'hsg',
      status: 'draft',
      intent: 'option',
      subject: { reference: 'Patient/p1' },
      code: { text: 'HSG' },
      extension: [
        { url: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal', valueReference: { reference: '#goal-conceive' } },
        { url: 'http://example.org/kept', valueString: 'kept' },
      ],
    };
    const suggested = toSuggestedResource(request) as ServiceRequest;
    expect(suggested.extension).toEqual([{ url: 'http://example.org/kept', valueString: 'kept' }]);
    expect(suggested.intent).toBe('proposal');
    const onlyGoal = toSuggestedResource({ ...request, extension: [request.extension![0]!] }) as ServiceRequest;
    expect(onlyGoal.extension).toBeUndefined();
    for (const r of validateResources([onlyGoal, suggested])) expect(r.outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
  });
});
