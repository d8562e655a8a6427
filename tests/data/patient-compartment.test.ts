/**
 * SAFE-1 at the data boundary: which resources an apply for one patient may read, for every form a
 * reference to her can take, and what is reported for the rest.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AllergyIntolerance, Bundle, Observation, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { derivePatientCompartmentLinks, LINKS_FILE, renderPatientCompartmentLinks } from '../../scripts/build-patient-compartment.ts';
import { PATIENT_COMPARTMENT_LINKS } from '../../src/data/patient-compartment-links.ts';
import { bundleEntries, findSubject, patientCompartmentParams, selectPatientCompartment, type EntryInfo } from '../../src/data/patient-compartment.ts';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';

const MRN = 'http://hospital.example.org/mrn';
const alice: Patient = { resourceType: 'Patient', id: 'alice', identifier: [{ system: MRN, value: 'A-1' }] };
const bea: Patient = { resourceType: 'Patient', id: 'bea', identifier: [{ system: MRN, value: 'B-2' }] };

const obs = (id: string, subject?: Reference, extra: Partial<Observation> = {}): Observation =>
  ({ resourceType: 'Observation', id, status: 'final', code: { text: id }, ...(subject ? { subject } : {}), ...extra }) as Observation;
const allergy = (id: string, patient: Reference, extra: Partial<AllergyIntolerance> = {}): AllergyIntolerance =>
  ({ resourceType: 'AllergyIntolerance', id, patient, ...extra }) as AllergyIntolerance;

/** Ids kept for `subject`, and the kind of each dropped resource. */
function select(resources: Resource[], subject: Patient, options: Parameters<typeof selectPatientCompartment>[2] = {}) {
  const result = selectPatientCompartment(resources, subject, options);
  return {
    kept: result.resources.map((r) => `${r.resourceType}/${r.id}`),
    dropped: Object.fromEntries(result.dropped.map((d) => [`${d.resource.resourceType}/${d.resource.id}`, d.kind])),
    result,
  };
}

describe('the compartment table', () => {
  it('is the build output of the R4 CompartmentDefinition and SearchParameters (re-run scripts/build-patient-compartment.ts)', () => {
    expect(readFileSync(LINKS_FILE, 'utf8')).toBe(renderPatientCompartmentLinks());
    expect(PATIENT_COMPARTMENT_LINKS).toEqual(derivePatientCompartmentLinks());
  });

  it('resolves each parameter to the element paths it reads', () => {
    expect(PATIENT_COMPARTMENT_LINKS['Observation']).toEqual({ subject: ['subject'], performer: ['performer'] });
    expect(PATIENT_COMPARTMENT_LINKS['Condition']).toEqual({ patient: ['subject'], asserter: ['asserter'] });
    expect(PATIENT_COMPARTMENT_LINKS['Task']).toEqual({ patient: ['for'], focus: ['focus'] });
    expect(PATIENT_COMPARTMENT_LINKS['Procedure']?.['performer']).toEqual(['performer.actor']);
    expect(patientCompartmentParams('AllergyIntolerance')).toEqual(['patient', 'recorder', 'asserter']);
    expect(patientCompartmentParams('Practitioner')).toEqual([]);
  });
});

describe('reference forms that name the subject', () => {
  const bundleWith = (resources: Resource[], fullUrls: string[]): Map<Resource, EntryInfo> =>
    bundleEntries({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource, i) => ({ resource, fullUrl: fullUrls[i]! })) }, 'Bundle', '');

  it.each<[string, Reference]>([
    ['relative', { reference: 'Patient/bea' }],
    ['relative, versioned', { reference: 'Patient/bea/_history/3' }],
    ['absolute (no base known)', { reference: 'http://x.example/fhir/Patient/bea' }],
    ['absolute, versioned (no base known)', { reference: 'http://x.example/fhir/Patient/bea/_history/1' }],
    ['logical (identifier system + value)', { identifier: { system: MRN, value: 'B-2' } }],
    ['logical, typed Patient', { type: 'Patient', identifier: { system: MRN, value: 'B-2' } }],
  ])('%s: kept', (_form, subject) => {
    expect(select([bea, obs('o', subject)], bea).kept).toEqual(['Patient/bea', 'Observation/o']);
  });

  it('absolute URLs name her only on a known base', () => {
    const onBase = obs('on', { reference: 'https://ehr.example/fhir/Patient/bea' });
    const versioned = obs('versioned', { reference: 'https://ehr.example/fhir/Patient/bea/_history/2' });
    const elsewhere = obs('elsewhere', { reference: 'https://other.example/fhir/Patient/bea' });
    const { kept, dropped, result } = select([bea, onBase, versioned, elsewhere], bea, { bases: ['https://ehr.example/fhir/'] });
    expect(kept).toEqual(['Patient/bea', 'Observation/on', 'Observation/versioned']);
    expect(dropped).toEqual({ 'Observation/elsewhere': 'unknown-patient' });
    expect(result.dropped[0]?.reason).toMatch(/another server/);
  });

  it("the base of her own absolute fullUrl is the data's base", () => {
    const here = obs('here', { reference: 'https://ehr.example/fhir/Patient/bea' });
    const there = obs('there', { reference: 'https://other.example/fhir/Patient/bea' });
    const entries = bundleWith(
      [bea, here, there],
      ['https://ehr.example/fhir/Patient/bea', 'https://ehr.example/fhir/Observation/here', 'https://ehr.example/fhir/Observation/there'],
    );
    expect(select([bea, here, there], bea, { entries }).dropped).toEqual({ 'Observation/there': 'unknown-patient' });
  });

  it('urn:uuid and urn:oid references resolve through the Bundle entries', () => {
    const mine = obs('mine', { reference: 'urn:uuid:0b4c6a6e-0000-4000-8000-00000000000b' });
    const hers = obs('hers', { reference: 'urn:uuid:0a4c6a6e-0000-4000-8000-00000000000a' });
    const nowhere = obs('nowhere', { reference: 'urn:uuid:ffffffff-0000-4000-8000-000000000000' });
    const resources = [alice, bea, mine, hers, nowhere];
    const entries = bundleWith(resources, [
      'urn:uuid:0a4c6a6e-0000-4000-8000-00000000000a',
      'urn:uuid:0b4c6a6e-0000-4000-8000-00000000000b',
      'urn:uuid:1',
      'urn:uuid:2',
      'urn:uuid:3',
    ]);
    const { kept, dropped } = select(resources, bea, { entries });
    expect(kept).toEqual(['Patient/bea', 'Observation/mine']);
    expect(dropped).toEqual({ 'Patient/alice': 'other-patient', 'Observation/hers': 'other-patient', 'Observation/nowhere': 'unknown-patient' });
    const byOid = obs('by-oid', { reference: 'urn:oid:1.2.3.4' });
    expect(select([bea, byOid], bea, { entries: bundleWith([bea, byOid], ['urn:oid:1.2.3.4', 'urn:uuid:5']) }).kept).toEqual(['Patient/bea', 'Observation/by-oid']);
  });

  it('a contained reference is never a patient reference', () => {
    expect(select([bea, obs('o', { reference: '#bea' })], bea).dropped).toEqual({ 'Observation/o': 'unknown-patient' });
  });
});

describe('what is dropped and what is kept', () => {
  it("another patient's resources are dropped, whatever the reference form", () => {
    const resources: Resource[] = [
      alice,
      bea,
      allergy('alice-iodine', { reference: 'Patient/alice' }),
      obs('alice-versioned', { reference: 'Patient/alice/_history/2' }),
      obs('alice-absolute', { reference: 'http://x.example/fhir/Patient/alice' }),
      obs('alice-mrn', { identifier: { system: MRN, value: 'A-1' } }),
      obs('bea-hcg', { reference: 'Patient/bea' }),
    ];
    const { kept, dropped, result } = select(resources, bea);
    expect(kept).toEqual(['Patient/bea', 'Observation/bea-hcg']);
    expect(dropped).toEqual({
      'Patient/alice': 'other-patient',
      'AllergyIntolerance/alice-iodine': 'other-patient',
      'Observation/alice-versioned': 'other-patient',
      'Observation/alice-absolute': 'other-patient',
      'Observation/alice-mrn': 'other-patient',
    });
    expect(result.dropped.find((d) => d.resource.id === 'alice-iodine')?.reason).toBe('its patient is Patient/alice, not the subject Patient/bea');
  });

  it('one warning issue per dropped resource, naming Type/id, where it was, and why', () => {
    const resources: Resource[] = [alice, bea, allergy('alice-iodine', { reference: 'Patient/alice' })];
    const entries = bundleEntries({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) }, 'Bundle', 'two.json ');
    const { issues } = selectPatientCompartment(resources, bea, { entries });
    expect(issues).toEqual([
      {
        severity: 'warning',
        code: 'processing',
        expression: ['Bundle.entry[0].resource'],
        diagnostics: "Patient/alice (two.json entry[0]) is not used: it is another patient than the subject Patient/bea (SAFE-1: only the subject's compartment is read)",
      },
      {
        severity: 'warning',
        code: 'processing',
        expression: ['Bundle.entry[2].resource'],
        diagnostics:
          "AllergyIntolerance/alice-iodine (two.json entry[2]) is not used: its patient is Patient/alice, not the subject Patient/bea (SAFE-1: only the subject's compartment is read)",
      },
    ]);
  });

  it('a resource whose patient cannot be established is dropped and says why', () => {
    const resources: Resource[] = [
      bea,
      obs('no-subject'),
      obs('display-only', { display: 'Bea' }),
      obs('unknown-mrn', { identifier: { system: MRN, value: 'Z-9' } }),
      obs('group', { reference: 'Group/ward-3' }),
      obs('contained', { reference: '#p1' }),
      obs('garbage', { reference: 'not a reference' }),
    ];
    const { kept, dropped, result } = select(resources, bea);
    expect(kept).toEqual(['Patient/bea']);
    expect(Object.values(dropped)).toEqual(Array(6).fill('unknown-patient'));
    expect(result.dropped.map((d) => d.reason)).toEqual([
      'its patient cannot be established: none of subject, performer names the subject Patient/bea',
      'its patient cannot be established: subject is a reference with neither a resolvable reference nor an identifier',
      `its patient cannot be established: subject is identifier ${MRN}|Z-9 is not one of the subject's`,
      'its patient cannot be established: none of subject, performer names the subject Patient/bea',
      'its patient cannot be established: none of subject, performer names the subject Patient/bea',
      "its patient cannot be established: subject is 'not a reference' is not a reference this engine can read",
    ]);
  });

  it('named in its own link and another patient in a secondary one: hers (compartment membership)', () => {
    const performedByAlice = obs('o', { reference: 'Patient/bea' }, { performer: [{ reference: 'Patient/alice' }] });
    expect(select([alice, bea, performedByAlice], bea).kept).toEqual(['Patient/bea', 'Observation/o']);
  });

  it("another patient's record that names her only as asserter/performer is not hers", () => {
    // Bea asserting her daughter Alice's iodine allergy does not make it Bea's allergy.
    const asserted = allergy('alice-iodine', { reference: 'Patient/alice' }, { asserter: { reference: 'Patient/bea' } });
    const { kept, dropped } = select([alice, bea, asserted], bea);
    expect(kept).toEqual(['Patient/bea']);
    expect(dropped['AllergyIntolerance/alice-iodine']).toBe('other-patient');
    // For Alice it is hers.
    expect(select([alice, bea, asserted], alice).kept).toEqual(['Patient/alice', 'AllergyIntolerance/alice-iodine']);
  });

  it('with no patient in its own link, a secondary link naming her is enough; naming another drops it', () => {
    const byHer = obs('by-her', { reference: 'Device/d1' }, { performer: [{ reference: 'Patient/bea' }] });
    const byAlice = obs('by-alice', undefined, { performer: [{ reference: 'Patient/alice' }] });
    const { kept, dropped } = select([bea, byHer, byAlice], bea);
    expect(kept).toEqual(['Patient/bea', 'Observation/by-her']);
    expect(dropped).toEqual({ 'Observation/by-alice': 'other-patient' });
  });

  it("keeps the partner's data that is in her compartment, and types outside the compartment", () => {
    const husband = { resourceType: 'RelatedPerson', id: 'husband', patient: { reference: 'Patient/bea' } } as Resource;
    const otherHusband = { resourceType: 'RelatedPerson', id: 'alice-husband', patient: { reference: 'Patient/alice' } } as Resource;
    const semen = obs('semen', { reference: 'Patient/bea' }, { focus: [{ reference: 'RelatedPerson/husband' }] });
    const shared: Resource[] = [
      { resourceType: 'Practitioner', id: 'doc' },
      { resourceType: 'Organization', id: 'clinic' },
      { resourceType: 'Medication', id: 'atropine' },
      { resourceType: 'Location', id: 'radiology' },
    ];
    const { kept, dropped } = select([bea, husband, otherHusband, semen, ...shared], bea);
    expect(kept).toEqual(['Patient/bea', 'RelatedPerson/husband', 'Observation/semen', 'Practitioner/doc', 'Organization/clinic', 'Medication/atropine', 'Location/radiology']);
    expect(dropped).toEqual({ 'RelatedPerson/alice-husband': 'other-patient' });
  });

  it('reads nested compartment paths (Procedure.performer.actor, Task.for)', () => {
    const procedure = {
      resourceType: 'Procedure',
      id: 'p',
      status: 'completed',
      subject: { reference: 'Patient/alice' },
      performer: [{ actor: { reference: 'Patient/bea' } }],
    } as Resource;
    const task = { resourceType: 'Task', id: 't', status: 'requested', intent: 'order', for: { reference: 'Patient/bea' } } as Resource;
    const { kept, dropped } = select([bea, procedure, task], bea);
    expect(kept).toEqual(['Patient/bea', 'Task/t']);
    expect(dropped).toEqual({ 'Procedure/p': 'other-patient' });
  });

  it('keeps input order, and drops a second copy of the subject', () => {
    const copy: Patient = { ...bea, birthDate: '1900-01-01' };
    const resources: Resource[] = [obs('1', { reference: 'Patient/bea' }), bea, obs('2', { reference: 'Patient/bea' }), copy];
    const { result } = select(resources, bea);
    expect(result.resources).toEqual([resources[0], bea, resources[2]]);
    expect(result.dropped.map((d) => [d.resource, d.kind])).toEqual([[copy, 'duplicate-subject']]);
  });

  it('nothing dropped: the same resources, no issues', () => {
    const resources: Resource[] = [bea, obs('1', { reference: 'Patient/bea' }), { resourceType: 'Practitioner', id: 'doc' }];
    const result = selectPatientCompartment(resources, bea);
    expect(result.resources).toEqual(resources);
    expect(result.issues).toEqual([]);
  });
});

describe('choosing the subject', () => {
  it('several Patients and none chosen -> error naming them, not a guess', () => {
    const run = () => findSubject([alice, bea], 'two.json');
    expect(run).toThrow(OperationOutcomeError);
    try {
      run();
    } catch (err) {
      expect((err as OperationOutcomeError).outcome.issue?.[0]).toMatchObject({ severity: 'error', code: 'invalid' });
      expect((err as OperationOutcomeError).message).toMatch(/two\.json has 2 Patients \(alice, bea\): name the subject with --patient <id>/);
    }
  });

  it('the one named, or the only one', () => {
    expect(findSubject([alice, bea], 'two.json', 'bea')).toBe(bea);
    expect(findSubject([bea, obs('o')], 'one.json')).toBe(bea);
    expect(() => findSubject([alice], 'one.json', 'bea')).toThrow(/no Patient with id 'bea'/);
  });
});
