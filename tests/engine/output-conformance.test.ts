/**
 * Conformance of what $apply emits (#13 item 4): no invalid resource (a failing one is left out
 * with an error issue naming the element), string integers never copied with "no issues",
 * transforms refused, cpg-activity-kind honoured, the plan's goals kept when nothing applies, an
 * ImmunizationRecommendation without a vaccine warned about.
 */
import type { ActivityDefinition, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyActivityDefinition, applyPlanDefinition, buildPatientData, compileKnowledge, type ApplyResult } from '../../src/engine/index.ts';
import { CPG_ACTIVITY_KIND_EXTENSION } from '../../src/engine/types.ts';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { validateResources } from '../../src/validation/validate.ts';
import { REFERENCE_TARGETS } from '../../src/engine/plan/reference-targets.ts';
import { deriveReferenceTargets } from '../../scripts/build-reference-targets.ts';
import { activityDefinition, fp, planDefinition, testPatient } from '../support/definitions.ts';

const NOW = '2026-11-23T09:00:00Z';
const patient = testPatient;
const ad = activityDefinition;
const plan = planDefinition;

function apply(pd: PlanDefinition, definitions: Resource[] = [], mode: 'r4' | 'cpg' = 'r4', record: Resource[] = []): ApplyResult {
  return applyPlanDefinition(pd, { subject: patient, data: buildPatientData([patient, ...record]) }, { now: NOW, mode }, compileKnowledge([pd, ...definitions]));
}

const kinds = (r: ApplyResult) => r.resources.map((x) => `${x.resourceType}/${x.id ?? ''}`);
const errors = (r: ApplyResult) => r.outcome.issue.filter((i) => i.severity === 'error').map((i) => `${i.code}: ${i.diagnostics ?? ''}`);

describe('$apply output conformance', () => {
  it('a string integer copied from the definition is not emitted with "no issues": the request is left out, the error names the element', () => {
    // Authored (or inline $apply) definitions are not checked at the door: a string integer in the
    // dosage would be copied into the request as it is.
    const med = ad('med', { kind: 'MedicationRequest', productCodeableConcept: { text: 'atropine' }, dosage: [{ sequence: '1' as unknown as number, text: 'once' }] });
    const other = ad('cbc');
    const result = apply(
      plan([
        { id: 'med', title: 'med', definitionCanonical: `${med.url!}|1.0.0` },
        { id: 'cbc', title: 'cbc', definitionCanonical: `${other.url!}|1.0.0` },
      ]),
      [med, other],
    );
    expect(result.outcome.issue.some((i) => i.diagnostics === 'applied without issues')).toBe(false);
    expect(errors(result)).toEqual([
      expect.stringMatching(
        /^invalid: action med: the generated MedicationRequest is not valid FHIR R4, so it is left out: MedicationRequest\.dosageInstruction\[0\]\.sequence: expected an integer number/,
      ),
    ]);
    expect(kinds(result).filter((k) => !k.startsWith('Goal'))).toEqual(['ServiceRequest/cbc']);
    expect(result.requestGroup.action!.map((a) => a.id)).toEqual(['cbc']);
    expect(result.trace.find((t) => t.actionId === 'med')).toMatchObject({ applicability: 'error', reason: expect.stringMatching(/would not be valid FHIR R4/) });
    // What is emitted validates against the R4 base definitions.
    for (const r of validateResources([result.carePlan!])) expect(r.outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('standalone ActivityDefinition/$apply refuses to return an invalid resource', () => {
    const med = ad('med', { kind: 'MedicationRequest', productCodeableConcept: { text: 'atropine' }, dosage: [{ sequence: '1' as unknown as number, text: 'once' }] });
    expect(() => applyActivityDefinition(med, { subject: patient, data: buildPatientData([patient]) }, { now: NOW }, compileKnowledge([med]))).toThrow(
      /the generated MedicationRequest would not be valid FHIR R4: MedicationRequest\.dosageInstruction\[0\]\.sequence/,
    );
  });

  it('ActivityDefinition.transform and action.transform are refused with an error (not silently ignored)', () => {
    const mapped = ad('mapped', { transform: 'http://example.org/StructureMap/x' });
    const plain = ad('plain');
    const result = apply(
      plan([
        { id: 'by-definition', title: 'a', definitionCanonical: `${mapped.url!}|1.0.0` },
        { id: 'by-action', title: 'b', definitionCanonical: `${plain.url!}|1.0.0`, transform: 'http://example.org/StructureMap/y' },
      ]),
      [mapped, plain],
    );
    expect(errors(result)).toEqual([
      expect.stringMatching(
        /^not-supported: .*#by-definition: ActivityDefinition\/mapped has transform http:\/\/example.org\/StructureMap\/x \(a StructureMap\), which this engine does not run/,
      ),
      expect.stringMatching(/^not-supported: .*#by-action: transform http:\/\/example.org\/StructureMap\/y \(a StructureMap\) is not run by this engine/),
    ]);
    expect(result.resources).toEqual([]);
    expect(result.trace.map((t) => t.applicability)).toEqual(['error', 'error']);
    expect(() => applyActivityDefinition(mapped, { subject: patient, data: buildPatientData([patient]) }, { now: NOW }, compileKnowledge([mapped]))).toThrow(OperationOutcomeError);
  });

  it('honours cpg-activity-kind: the extension names the resource to create, over kind', () => {
    const message = ad('message', {
      kind: 'ServiceRequest',
      extension: [{ url: CPG_ACTIVITY_KIND_EXTENSION, valueCode: 'CommunicationRequest' }],
      code: { coding: [{ system: 'http://snomed.info/sct', code: 'message' }] },
    });
    const result = apply(plan([{ id: 'tell', title: 'tell', definitionCanonical: `${message.url!}|1.0.0` }]), [message]);
    expect(kinds(result)).toEqual(['CommunicationRequest/tell']);
    const standalone = applyActivityDefinition(message, { subject: patient, data: buildPatientData([patient]) }, { now: NOW }, compileKnowledge([message]));
    expect(standalone.resource.resourceType).toBe('CommunicationRequest');
  });

  it("keeps the plan's goals when no action applies (both modes)", () => {
    const pd = plan(
      [{ id: 'never', title: 'never', condition: [{ kind: 'applicability', expression: fp('false') }], definitionCanonical: 'http://example.org/ActivityDefinition/x|1.0.0' }],
      {
        goal: [{ id: 'conceive', description: { text: 'pregnancy' } }],
      },
    );
    const x = ad('x');
    const r4 = apply(pd, [x]);
    expect(r4.resources.map((r) => r.resourceType)).toEqual(['Goal']);
    expect(r4.carePlan!.goal).toEqual([{ reference: '#goal-conceive' }]);
    const cpg = apply(pd, [x], 'cpg');
    expect(cpg.bundle!.entry!.map((e) => e.resource!.resourceType)).toEqual(['RequestGroup', 'Goal']);
  });

  it('an ImmunizationRecommendation with no vaccine is warned about (R4 imr-1)', () => {
    const vaccine = ad('vaccine', { kind: 'ImmunizationRecommendation' as ActivityDefinition['kind'] });
    Reflect.deleteProperty(vaccine, 'code');
    const result = apply(plan([{ id: 'imm', title: 'imm', definitionCanonical: `${vaccine.url!}|1.0.0` }]), [vaccine]);
    expect(result.outcome.issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'warning', code: 'required', diagnostics: expect.stringMatching(/imr-1/) })]));
  });

  describe('reference targets (R4 targetProfile)', () => {
    const allergy: Resource = { resourceType: 'AllergyIntolerance', id: 'iodine', patient: { reference: 'Patient/p1' }, code: { text: 'iodine' } };
    const pregnancy: Resource = { resourceType: 'Condition', id: 'preg', subject: { reference: 'Patient/p1' }, code: { text: 'pregnant' } };
    const contraindicated = (path: string, expression: string) =>
      plan([
        {
          id: 'hsg-ci',
          title: 'do not',
          input: [
            { id: 'allergy', type: 'AllergyIntolerance' },
            { id: 'pregnancy', type: 'Condition' },
          ],
          definitionCanonical: 'http://example.org/ActivityDefinition/hsg|1.0.0',
          dynamicValue: [
            { path: 'doNotPerform', expression: fp('true') },
            { path, expression: fp(expression) },
          ],
        },
      ]);

    it('an AllergyIntolerance in ServiceRequest.reasonReference is left out with an error naming the element; the do-not-perform and the allowed reason stay', () => {
      const result = apply(contraindicated('reasonReference', '%pregnancy | %allergy'), [ad('hsg')], 'r4', [allergy, pregnancy]);
      const request = result.resources.find((r) => r.id === 'hsg-ci') as Resource & { doNotPerform?: boolean; reasonReference?: unknown };
      expect(request.doNotPerform).toBe(true);
      expect(request.reasonReference).toEqual([{ reference: 'Condition/preg' }]);
      expect(errors(result)).toEqual([
        'invalid: action hsg-ci: ServiceRequest.reasonReference[1] references AllergyIntolerance/iodine (a AllergyIntolerance), but R4 allows only Condition | Observation | DiagnosticReport | DocumentReference there, so the reference is left out',
      ]);
      expect(result.trace[0]!.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^ServiceRequest\.reasonReference\[1\] references AllergyIntolerance\/iodine/)]));
      for (const r of validateResources([result.carePlan!])) expect(r.outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
    });

    it('a list left empty is removed; the same evidence in supportingInfo (Reference(Any)) is kept without an issue', () => {
      const wrong = apply(contraindicated('reasonReference', '%allergy'), [ad('hsg')], 'r4', [allergy]);
      expect(wrong.resources.find((r) => r.id === 'hsg-ci')).not.toHaveProperty('reasonReference');
      expect(errors(wrong)).toHaveLength(1);
      const right = apply(contraindicated('supportingInfo', '%allergy'), [ad('hsg')], 'r4', [allergy]);
      expect(right.resources.find((r) => r.id === 'hsg-ci')).toMatchObject({ supportingInfo: [{ reference: 'AllergyIntolerance/iodine' }] });
      expect(errors(right)).toEqual([]);
    });

    it('a required reference of the wrong type leaves the whole request out (the shape check then finds subject missing)', () => {
      const result = apply(contraindicated('subject', '%allergy.first()'), [ad('hsg')], 'r4', [allergy]);
      expect(result.resources.filter((r) => r.resourceType === 'ServiceRequest')).toEqual([]);
      expect(errors(result)).toEqual([expect.stringMatching(/ServiceRequest\.subject references AllergyIntolerance\/iodine/), expect.stringMatching(/subject is required/)]);
    });

    it('the generated table is the R4 definitions (re-run scripts/build-reference-targets.ts when this fails)', () => {
      expect(REFERENCE_TARGETS).toEqual(deriveReferenceTargets());
      expect(REFERENCE_TARGETS['ServiceRequest']?.['reasonReference']).toEqual(['Condition', 'Observation', 'DiagnosticReport', 'DocumentReference']);
      expect(REFERENCE_TARGETS['CarePlan.activity.detail']?.['goal']).toEqual(['Goal']);
    });
  });
});
