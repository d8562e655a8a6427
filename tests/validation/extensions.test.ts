/**
 * The extension definitions behind the engine's extension urls (input-required, apply-trace):
 * instances the engine writes conform, broken ones do not (checked with @medplum/core directly).
 */
import { OperationOutcomeError, validateTypedValue } from '@medplum/core';
import type { Extension, Patient, PlanDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData, INPUT_REQUIRED_EXTENSION, TRACE_EXTENSION, compileKnowledge } from '../../src/engine/index.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { ensureR4BaseLoaded } from '../../src/validation/r4-definitions.ts';
import { PROFILES_DIR } from '../../src/validation/validate.ts';

ensureR4BaseLoaded();
const definition = (url: string): StructureDefinition => {
  const sd = readArtifacts([PROFILES_DIR])
    .map((a) => a.resource)
    .find((r) => (r as StructureDefinition).url === url);
  expect(sd, url).toBeDefined();
  return sd as StructureDefinition;
};

/** Error texts from @medplum/core validating the extension against its definition. */
function problems(ext: Extension, sd: StructureDefinition): string[] {
  try {
    validateTypedValue({ type: 'Extension', value: ext }, { profile: sd });
    return [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    return err.outcome.issue.filter((i) => i.severity === 'error').map((i) => `${i.details?.text} @ ${i.expression?.[0]}`);
  }
}

describe('input-required', () => {
  const sd = definition(INPUT_REQUIRED_EXTENSION);
  it('accepts the boolean flag the engine reads', () => {
    expect(problems({ url: INPUT_REQUIRED_EXTENSION, valueBoolean: true }, sd)).toEqual([]);
  });
  it.each([
    { name: 'another url', ext: { url: 'http://example.org/x', valueBoolean: true }, text: 'Value did not match expected pattern @ Extension.url' },
    { name: 'no value', ext: { url: INPUT_REQUIRED_EXTENSION }, text: 'Missing required property @ Extension.value[x]' },
    { name: 'valueString', ext: { url: INPUT_REQUIRED_EXTENSION, valueString: 'yes' }, text: 'Constraint ip-inreq-1 not met: The value SHALL be a valueBoolean @ Extension' },
  ])('rejects $name', ({ ext, text }) => {
    expect(problems(ext as Extension, sd)).toContain(text);
  });
});

describe('apply-trace', () => {
  const sd = definition(TRACE_EXTENSION);
  const plan: PlanDefinition = {
    resourceType: 'PlanDefinition',
    id: 'trace-contract',
    url: 'http://infertility-protocols.org/fhir/PlanDefinition/trace-contract',
    status: 'active',
    action: [
      { id: 'never', title: 'Never', condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: 'false' } }] },
      { id: 'sometimes', title: 'Sometimes', condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: "%patient.gender = 'female'" } }] },
    ],
  };
  const patient: Patient = { resourceType: 'Patient', id: 'p', gender: 'female' };

  it('accepts every trace extension the engine writes', () => {
    const result = applyPlanDefinition(
      plan,
      { subject: patient, data: buildPatientData([patient]) },
      { now: '2025-03-08T09:00:00+08:00', traceExtension: true },
      compileKnowledge([plan]),
    );
    const traces = (result.requestGroup.extension ?? []).filter((e) => e.url === TRACE_EXTENSION);
    expect(traces).toHaveLength(2);
    for (const ext of traces) expect(problems(ext, sd)).toEqual([]);
  });

  it.each([
    {
      name: 'a missing reason',
      ext: {
        url: TRACE_EXTENSION,
        extension: [
          { url: 'actionId', valueString: 'a' },
          { url: 'applicability', valueCode: 'applicable' },
        ],
      },
      text: "Incorrect number of values provided for slice 'reason': expected 1..1, but found 0 @ Extension.extension",
    },
    {
      name: 'an unknown applicability',
      ext: {
        url: TRACE_EXTENSION,
        extension: [
          { url: 'actionId', valueString: 'a' },
          { url: 'applicability', valueCode: 'maybe' },
          { url: 'reason', valueString: 'r' },
        ],
      },
      text: "Constraint ip-trace-1 not met: applicability SHALL be 'applicable', 'not-applicable', 'missing-data' or 'error' @ Extension",
    },
    {
      name: 'a value on the complex extension',
      ext: {
        url: TRACE_EXTENSION,
        valueString: 'x',
        extension: [
          { url: 'actionId', valueString: 'a' },
          { url: 'applicability', valueCode: 'error' },
          { url: 'reason', valueString: 'r' },
        ],
      },
      text: 'Invalid number of values: expected 0..0, but found 1 @ Extension.value[x]',
    },
  ])('rejects $name', ({ ext, text }) => {
    expect(problems(ext as Extension, sd)).toContain(text);
  });
});
