import type { OperationOutcome, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { OperationOutcomeError, httpStatusOf } from '../../src/errors/operation-outcome.ts';
import { LOCAL, LOINC, SCT } from '../../profiles/_authoring/profile-specs.ts';
import { isValid, moduleProfileDefinitions, validateResourceAgainst, validateResources } from '../../src/validation/validate.ts';
import { PATIENT } from './instances.ts';

const LMP_URL = 'http://infertility-protocols.org/fhir/StructureDefinition/ip-lmp-start';
const errors = (o: OperationOutcome) => o.issue.filter((i) => i.severity === 'error');
const checked = (o: OperationOutcome): string | undefined => o.issue.at(-1)?.diagnostics;

const lmpAsString = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '8665-2' }] },
  subject: PATIENT,
  valueString: 'last week',
} as Resource;

describe('validateResources', () => {
  it('catches an unknown property with base R4 validation, with its path', () => {
    const patient = { resourceType: 'Patient', id: 'p', gender: 'female', favouriteColour: 'green' } as Resource;
    const [result] = validateResources([patient]);
    expect(errors(result!.outcome)).toEqual([
      expect.objectContaining({ code: 'structure', details: { text: 'Invalid additional property "favouriteColour"' }, expression: ['Patient.favouriteColour'] }),
    ]);
    expect(checked(result!.outcome)).toBe('Validated against: R4 base');
  });

  it('catches a malformed primitive', () => {
    const [result] = validateResources([{ resourceType: 'Patient', birthDate: '1990-02-30' }]);
    expect(errors(result!.outcome)[0]).toMatchObject({ details: { text: 'Invalid date value' }, expression: ['Patient.birthDate'] });
  });

  it('warns about an unknown meta.profile and still validates against the base', () => {
    const patient = { resourceType: 'Patient', meta: { profile: ['http://example.org/StructureDefinition/unknown'] }, gender: 'female' } as Resource;
    const [result] = validateResources([patient]);
    expect(isValid(result!.outcome)).toBe(true);
    expect(result!.outcome.issue).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'not-supported', expression: ['Patient.meta.profile[0]'] }));
  });

  it('applies a module profile by code when meta.profile is absent, and not when inference is off', () => {
    const [inferred] = validateResources([lmpAsString]);
    expect(errors(inferred!.outcome).map((i) => i.details?.text)).toContain('Constraint ip-lmp-1 not met: The LMP start SHALL be a valueDateTime');
    expect(checked(inferred!.outcome)).toBe(`Validated against: R4 base, ${LMP_URL}`);

    const [baseOnly] = validateResources([lmpAsString], { inferProfiles: false });
    expect(isValid(baseOnly!.outcome)).toBe(true);
    expect(checked(baseOnly!.outcome)).toBe('Validated against: R4 base');
  });

  it('applies a declared module profile even when the code does not match it', () => {
    const declared = { ...lmpAsString, meta: { profile: [LMP_URL] }, code: { text: 'LMP' }, valueDateTime: '2025-03-01' } as Resource;
    delete (declared as { valueString?: string }).valueString;
    const [result] = validateResources([declared]);
    expect(errors(result!.outcome)).toEqual([
      expect.objectContaining({ details: { text: 'Value did not match expected pattern' }, expression: ['Observation.code'], diagnostics: `Profile ${LMP_URL}` }),
    ]);
  });

  it('reports a finding shared by the base and a profile once', () => {
    const [result] = validateResources([{ ...lmpAsString, valueString: undefined, valueDateTime: '2025-03-01', colour: 'red' } as unknown as Resource]);
    expect(errors(result!.outcome).filter((i) => i.expression?.[0] === 'Observation.colour')).toHaveLength(1);
  });

  it("applies the caller's profiles to resources of their type only", () => {
    const mustHaveNote: StructureDefinition = structuredClone(moduleProfileDefinitions().find((sd) => sd.url === LMP_URL)!);
    mustHaveNote.url = 'http://example.org/StructureDefinition/obs-with-note';
    mustHaveNote.snapshot!.element.find((e) => e.id === 'Observation.note')!.min = 1;
    const patient = { resourceType: 'Patient', gender: 'female' } as Resource;
    const lmp = { ...lmpAsString, valueString: undefined, valueDateTime: '2025-03-01' } as Resource;
    const [p, o] = validateResources([patient, lmp], { profiles: [mustHaveNote] });
    expect(isValid(p!.outcome)).toBe(true);
    expect(errors(o!.outcome)).toEqual([expect.objectContaining({ details: { text: 'Missing required property' }, expression: ['Observation.note'] })]);
    expect(checked(o!.outcome)).toContain(mustHaveNote.url);
  });

  it('returns one outcome per resource, in order, and never throws on junk', () => {
    const junk = [{ resourceType: 'NotAType' }, { nothing: true }, null] as unknown as Resource[];
    const results = validateResources(junk);
    expect(results).toHaveLength(3);
    for (const r of results) expect(isValid(r.outcome)).toBe(false);
  });

  it('is deterministic', () => {
    const input = [lmpAsString, { resourceType: 'Patient', x: 1 } as Resource];
    expect(JSON.stringify(validateResources(input))).toBe(JSON.stringify(validateResources(input)));
  });
});

describe('validateResourceAgainst', () => {
  it('validates against one module profile, by url or url|version', () => {
    const ok = { ...lmpAsString, valueString: undefined, valueDateTime: '2025-03-01' } as Resource;
    expect(isValid(validateResourceAgainst(ok, LMP_URL))).toBe(true);
    expect(isValid(validateResourceAgainst(ok, `${LMP_URL}|0.1.0`))).toBe(true);
    expect(isValid(validateResourceAgainst(lmpAsString, LMP_URL))).toBe(false);
  });

  it('rejects a resource of another type', () => {
    const outcome = validateResourceAgainst({ resourceType: 'Procedure', status: 'completed', subject: PATIENT }, LMP_URL);
    expect(errors(outcome)[0]?.diagnostics).toBe('Resource type Procedure does not match the profile type Observation');
  });

  it('throws a not-found OperationOutcome for an unknown profile', () => {
    const call = () => validateResourceAgainst(lmpAsString, 'http://example.org/StructureDefinition/nope');
    expect(call).toThrow(OperationOutcomeError);
    try {
      call();
    } catch (err) {
      expect(httpStatusOf((err as OperationOutcomeError).outcome)).toBe(404);
    }
  });

  it('validates a semen analysis whose partner is the focus, and the CarePlan contract', () => {
    const semen = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOCAL, code: 'semen-analysis-panel' }] },
      subject: PATIENT,
      interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N' }] }],
    } as Resource;
    const [noFocus] = validateResources([semen]);
    expect(errors(noFocus!.outcome)).toContainEqual(expect.objectContaining({ details: { text: 'Missing required property' }, expression: ['Observation.focus'] }));
    const [withFocus] = validateResources([{ ...semen, focus: [{ reference: 'RelatedPerson/partner' }] } as Resource]);
    expect(isValid(withFocus!.outcome)).toBe(true);
    const pregnancy = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '2106-3' }] },
      subject: PATIENT,
      effectiveDateTime: '2025-03-01',
      valueCodeableConcept: { coding: [{ system: SCT, code: '260385009' }] },
    } as Resource;
    expect(isValid(validateResources([pregnancy])[0]!.outcome)).toBe(true);
  });
});
