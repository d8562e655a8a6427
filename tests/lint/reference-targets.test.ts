/**
 * Lint: a Reference-valued dynamicValue whose expression can yield a resource type its R4 element
 * does not allow (#16: an AllergyIntolerance in ServiceRequest.reasonReference, refused by HAPI).
 */
import { describe, expect, it } from 'vitest';
import type { OperationOutcome, PlanDefinition } from '@medplum/fhirtypes';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { lintArtifacts } from '../../src/lint/index.ts';
import { KNOWLEDGE } from '../support/cli.ts';

const artifacts = readArtifacts([KNOWLEDGE]).map((a) => ({ ...a, file: a.file.split('/').pop()! }));

/** The demo plan (its action orders a ServiceRequest) with an allergy input and the dynamicValue given. */
function lintDynamicValue(path: string, expression: string): OperationOutcome {
  const plan = structuredClone(artifacts.find((a) => a.resource.resourceType === 'PlanDefinition')!.resource) as PlanDefinition;
  const action = plan.action![0]!;
  action.input = [...(action.input ?? []), { id: 'allergy', type: 'AllergyIntolerance' }, { id: 'untyped', type: 'Resource' }];
  action.dynamicValue = [{ path, expression: { language: 'text/fhirpath', expression } }];
  const all = [...artifacts.filter((a) => a.resource.resourceType !== 'PlanDefinition'), { file: 'changed.json', resource: plan }];
  return lintArtifacts(all, compileKnowledge(all.map((a) => a.resource)));
}

const errors = (o: OperationOutcome) => o.issue.filter((i) => i.severity === 'error').map((i) => i.diagnostics ?? '');

describe('lint: reference targets of Reference-valued dynamicValues', () => {
  it.each([
    ['%allergy', 'AllergyIntolerance (%allergy)'],
    ['%pregnancyTests | %allergy.where(clinicalStatus.exists())', 'AllergyIntolerance (%allergy)'],
    ['iif(%pregnancyTests.exists(), %allergy.first(), {})', 'AllergyIntolerance (%allergy)'],
    ['%untyped | %allergy', 'AllergyIntolerance (%allergy)'],
    ['%untyped.ofType(Procedure)', 'Procedure (ofType(Procedure))'],
    ['(%pregnancyTests | %allergy).where(ofType(Observation).exists() or ofType(AllergyIntolerance).exists())', 'AllergyIntolerance (%allergy)'],
  ])('flags reasonReference = %s', (expression, found) => {
    expect(errors(lintDynamicValue('reasonReference', expression))).toEqual([
      `changed.json: PlanDefinition.action[0].dynamicValue[0].expression: ServiceRequest.reasonReference can be given ${found}, but R4 allows only Condition | Observation | DiagnosticReport | DocumentReference there; the engine would leave that reference out - put such evidence where R4 allows any resource (e.g. ServiceRequest.supportingInfo)`,
    ]);
  });

  it.each([
    ['reasonReference', '%pregnancyTests'],
    ['reasonReference', '(%pregnancyTests | %allergy).where(ofType(Condition).exists() or ofType(Observation).exists())'],
    ['reasonReference', '%allergy.ofType(Condition)'],
    // Not decidable statically: said nothing rather than guessed (the engine checks what it emits).
    ['reasonReference', '%untyped'],
    ['reasonReference', '%allergy.patient.resolve()'],
    // supportingInfo is Reference(Any).
    ['supportingInfo', '%allergy'],
    ['reasonReference[0].reference', "'AllergyIntolerance/x'"],
  ])('accepts %s = %s', (path, expression) => {
    expect(errors(lintDynamicValue(path, expression))).toEqual([]);
  });

  it('the shipped protocols put no disallowed type in a Reference (their evidence is split by evidenceValues())', () => {
    const shipped = readArtifacts();
    expect(errors(lintArtifacts(shipped, compileKnowledge(shipped.map((a) => a.resource)))).filter((e) => / R4 allows only /.test(e))).toEqual([]);
  });
});
