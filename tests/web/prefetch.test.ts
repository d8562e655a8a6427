/**
 * The page's prefetch (web/src/prefetch.ts) with the search parameters the page is built with:
 * each template is answered as its FHIR query - a read gives the resource or null, a search the
 * searchset of the matches of its type AND parameters (patient, code, value-concept), never every
 * resource of the type; urn:uuid references count as the resource they name; what the in-memory
 * matcher cannot evaluate is left out and named. (That the page's answers equal a real FHIR
 * server's for the real templates is checked in the browser, tests/web/human-view.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Observation, Resource } from '@medplum/fhirtypes';
import { loadSearchParameters, prefetchFromBundle } from '../../web/src/prefetch.ts';
import { patientSearchParameterBundle } from '../../web/patient-search-parameters.ts';

beforeAll(() => {
  loadSearchParameters(patientSearchParameterBundle());
});

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const observation = (id: string, patient: string, code: string, value?: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  subject: { reference: patient },
  code: { coding: [{ system: LOINC, code }] },
  ...(value ? { valueCodeableConcept: { coding: [{ system: SCT, code: value }] } } : {}),
});
const bundleOf = (...resources: Resource[]): Bundle => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });
const ids = (answer: Resource | null | undefined) => ((answer as Bundle | null)?.entry ?? []).map((e) => e.resource?.id);
const context = { patientId: 'p1', userId: 'Practitioner/x' };

const record = bundleOf(
  { resourceType: 'Patient', id: 'p1' },
  { resourceType: 'Patient', id: 'p2' },
  observation('lmp', 'Patient/p1', '8665-2'),
  observation('hcg-negative', 'Patient/p1', '2106-3', '260385009'),
  observation('hcg-positive', 'Patient/p1', '2106-3', '10828004'),
  observation('other-lmp', 'Patient/p2', '8665-2'),
  observation('weight', 'Patient/p1', '29463-7'),
);

describe('prefetch as an EHR answers the templates', () => {
  it('a read gives the resource, or null when the record has none', () => {
    const { prefetch } = prefetchFromBundle({ patient: 'Patient/{{context.patientId}}', practitioner: '{{context.userId}}' }, record, context);
    expect(prefetch['patient']).toEqual({ resourceType: 'Patient', id: 'p1' });
    expect(prefetch['practitioner']).toBeNull();
  });

  it("a search gives the matches of its parameters only: the patient's, with the codes (and values) named", () => {
    const { prefetch, notPrefetched } = prefetchFromBundle(
      {
        lmp: `Observation?patient={{context.patientId}}&code=${LOINC}|8665-2`,
        negativeTest: `Observation?patient={{context.patientId}}&code=${LOINC}|2106-3,${LOINC}|2118-8&value-concept=${SCT}|260385009`,
        none: `Observation?patient={{context.patientId}}&code=${LOINC}|0000-0`,
        conditions: 'Condition?patient={{context.patientId}}',
      },
      record,
      context,
    );
    expect(notPrefetched).toEqual([]);
    expect(ids(prefetch['lmp'])).toEqual(['lmp']);
    expect(ids(prefetch['negativeTest'])).toEqual(['hcg-negative']);
    expect(prefetch['none']).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect(prefetch['conditions']).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect((prefetch['lmp'] as Bundle).entry?.[0]?.search).toEqual({ mode: 'match' });
  });

  it('a reference to another entry by its urn:uuid fullUrl counts as that resource (as a server stores it)', () => {
    const uuid = 'urn:uuid:3f1c2a8e-9b7d-4e61-a0c5-2d8f6b4e1a90';
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: uuid, resource: { resourceType: 'Patient', id: 'p1' } },
        { fullUrl: 'urn:uuid:7a0e5c1d-2b3f-4d6e-8f9a-1b2c3d4e5f60', resource: observation('lmp', uuid, '8665-2') },
      ],
    };
    const { prefetch } = prefetchFromBundle({ lmp: 'Observation?patient={{context.patientId}}' }, bundle, context);
    expect(ids(prefetch['lmp'])).toEqual(['lmp']);
    expect(((prefetch['lmp'] as Bundle).entry?.[0]?.resource as Observation).subject).toEqual({ reference: 'Patient/p1' });
  });

  it('leaves out, and names, what the matcher cannot evaluate as a server would: :in, unknown parameters, _include', () => {
    const { prefetch, notPrefetched } = prefetchFromBundle(
      {
        byValueSet: 'Observation?patient={{context.patientId}}&code:in=http://example.org/ValueSet/x',
        unknown: 'Observation?patient={{context.patientId}}&shoe-size=42',
        included: 'Observation?patient={{context.patientId}}&_include=Observation:subject',
        fine: `Observation?patient={{context.patientId}}&code=${LOINC}|8665-2`,
      },
      record,
      context,
    );
    expect(Object.keys(prefetch)).toEqual(['fine']);
    expect(notPrefetched.map((n) => n.key)).toEqual(['byValueSet', 'unknown', 'included']);
    expect(notPrefetched[0]?.why).toContain("':in' modifier of 'code'");
    expect(notPrefetched[1]?.why).toContain("'shoe-size'");
  });
});
