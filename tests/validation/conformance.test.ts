import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_SPECS, profileUrl } from '../../profiles/_authoring/profile-specs.ts';
import { isValid, moduleProfileDefinitions, validateResourceAgainst, validateResources } from '../../src/validation/validate.ts';
import type { Expected } from './instances.ts';
import { PROFILE_CASES } from './instances.ts';

const URL_OF = (id: string): string => `http://infertility-protocols.org/fhir/StructureDefinition/${id}`;
const errors = (o: OperationOutcome): OperationOutcomeIssue[] => o.issue.filter((i) => i.severity === 'error');

function matches(found: OperationOutcomeIssue, expected: Expected): boolean {
  if (expected.key && !found.details?.text?.startsWith(`Constraint ${expected.key} not met`)) return false;
  if (expected.text && found.details?.text !== expected.text) return false;
  if (expected.expression && found.expression?.[0] !== expected.expression) return false;
  return true;
}

/** @medplum/core's own per-call profile validation: valid when it does not throw. */
function medplumAccepts(resource: Resource, profile: StructureDefinition): boolean {
  try {
    validateResource(resource, { profile });
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError) return false;
    throw err;
  }
}

let definitions: Map<string, StructureDefinition>;
beforeAll(() => {
  definitions = new Map(moduleProfileDefinitions().map((sd) => [sd.url, sd]));
});

describe.each(PROFILE_CASES)('profile $id', ({ id, valid, violations }) => {
  it.each(valid.map((resource, i) => ({ n: String(i + 1), resource })))('accepts conforming instance $n', ({ resource }) => {
    const outcome = validateResourceAgainst(resource, URL_OF(id));
    expect(errors(outcome)).toEqual([]);
    // The same resource without meta.profile is matched to the profile by its code.
    const [result] = validateResources([resource]);
    expect(errors(result!.outcome)).toEqual([]);
    expect(result!.outcome.issue.at(-1)?.diagnostics).toContain(URL_OF(id));
  });

  it.each(violations)('rejects: $name', ({ resource, expected }) => {
    const outcome = validateResourceAgainst(resource, URL_OF(id));
    expect(isValid(outcome)).toBe(false);
    const found = errors(outcome).filter((i) => matches(i, expected));
    expect(found, JSON.stringify(outcome.issue, null, 1)).not.toHaveLength(0);
    // Every issue points at an element.
    for (const i of errors(outcome)) expect(i.expression?.[0]).toMatch(/^[A-Z][A-Za-z]+(\.|$)/);
  });

  it('gives the same verdicts as @medplum/core validating with the profile on every call', () => {
    const sd = definitions.get(URL_OF(id));
    expect(sd).toBeDefined();
    for (const resource of [...valid, ...violations.map((v) => v.resource)]) {
      const ours = isValid(validateResourceAgainst(resource, URL_OF(id)));
      expect(ours, JSON.stringify(resource)).toBe(medplumAccepts(resource, sd!));
    }
  });

  it('rejects through meta.profile as well', () => {
    for (const { resource } of violations) {
      const declared = { ...resource, meta: { profile: [`${URL_OF(id)}|0.1.0`] } } as Resource;
      const [result] = validateResources([declared], { inferProfiles: false });
      expect(isValid(result!.outcome)).toBe(false);
    }
  });
});

describe('constraint coverage', () => {
  it('has a case for every profile and a violating instance for every error invariant', () => {
    const resourceSpecs = PROFILE_SPECS.filter((s) => s.type !== 'Extension');
    expect(PROFILE_CASES.map((c) => c.id).sort()).toEqual(resourceSpecs.map((s) => s.id).sort());
    for (const spec of resourceSpecs) {
      const cases = PROFILE_CASES.find((c) => c.id === spec.id)!;
      const keys = new Set(cases.violations.map((v) => v.expected.key).filter(Boolean));
      for (const inv of spec.invariants.filter((i) => (i.severity ?? 'error') === 'error')) {
        expect(keys, `${spec.id} ${inv.key}`).toContain(inv.key);
      }
      expect(profileUrl(spec)).toBe(URL_OF(spec.id));
    }
  });
});

describe('warning invariants', () => {
  it('reports a full timestamp where a date is expected as a warning, not an error', () => {
    const lmp = PROFILE_CASES.find((c) => c.id === 'ip-lmp-start')!.valid[1]!;
    const outcome = validateResourceAgainst(lmp, URL_OF('ip-lmp-start'));
    expect(isValid(outcome)).toBe(true);
    const warning = outcome.issue.find((i) => i.severity === 'warning');
    expect(warning?.details?.text).toMatch(/^Constraint ip-lmp-2 not met/);
    expect(warning?.expression).toEqual(['Observation']);
    const dateOnly = validateResourceAgainst(PROFILE_CASES[0]!.valid[0]!, URL_OF('ip-lmp-start'));
    expect(dateOnly.issue.filter((i) => i.severity === 'warning')).toEqual([]);
  });
});
