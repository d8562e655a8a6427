import type { ActivityDefinition, Expression, Observation, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildPatientData } from '../../src/data/patient-data.ts';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { makeClock } from '../../src/fhirpath/fhirpath-engine.ts';
import { applyDynamicValues, DynamicValuePathError, setValueAtPath, type DynamicValue } from '../../src/engine/dynamic-value/index.ts';
import { baseVariables } from '../../src/engine/expression.ts';
import type { ExpressionEvaluator } from '../../src/engine/types.ts';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';

const patient: Patient = { resourceType: 'Patient', id: 'p1', birthDate: '1990-05-01' };
const lmp: Observation = { resourceType: 'Observation', id: 'lmp1', status: 'final', code: { text: 'LMP' }, valueDateTime: '2026-02-10' };
const hcg: Observation[] = [
  { resourceType: 'Observation', id: 'hcg1', status: 'final', code: { text: 'hCG' }, valueString: 'negative' },
  { resourceType: 'Observation', id: 'hcg2', status: 'final', code: { text: 'hCG' }, valueString: 'negative' },
];

function variables(extra: Record<string, unknown> = {}) {
  const context = { subject: patient, data: buildPatientData([patient, lmp, ...hcg]) };
  return { ...baseVariables(context, makeClock('2026-03-01T09:00:00+01:00')), lmp: [lmp], pregnancyTests: hcg, ...extra };
}

const ad: ActivityDefinition = {
  resourceType: 'ActivityDefinition',
  id: 'hsg',
  status: 'active',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '168884001', display: 'HSG' }] },
};

const fp = (expression: string): Expression => ({ language: 'text/fhirpath', expression });
// R4 lists three languages; CPG adds text/cql-identifier, which the engine must handle too.
const cqlIdentifier = (expression: string) => ({ language: 'text/cql-identifier', expression }) as unknown as Expression;

function run(
  dynamicValues: DynamicValue[],
  opts: { strict?: boolean; actionTarget?: Record<string, unknown>; evaluators?: Record<string, ExpressionEvaluator>; baseType?: string } = {},
) {
  const target: Record<string, unknown> = { resourceType: opts.baseType ?? 'ServiceRequest', id: 'hsg' };
  const issues: OperationOutcomeIssue[] = [];
  applyDynamicValues({
    target,
    baseType: opts.baseType ?? 'ServiceRequest',
    dynamicValues,
    focus: ad,
    knowledge: compileKnowledge([ad]),
    variables: variables(),
    issues,
    strict: opts.strict ?? false,
    where: 'ActivityDefinition/hsg',
    ...(opts.actionTarget ? { actionTarget: opts.actionTarget } : {}),
    ...(opts.evaluators ? { evaluators: opts.evaluators } : {}),
  });
  return { target, issues };
}

describe('setValueAtPath', () => {
  it('creates intermediate objects for a nested path', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'MedicationRequest', 'dosageInstruction[0].timing.repeat.frequency', [2]);
    setValueAtPath(target, 'MedicationRequest', 'dosageInstruction[0].timing.repeat.period', [1]);
    setValueAtPath(target, 'MedicationRequest', 'dosageInstruction[0].timing.repeat.periodUnit', ['d']);
    expect(target).toEqual({ dosageInstruction: [{ timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } }] });
  });

  it('appends at index = length and refuses a gap', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'ServiceRequest', 'note[0].text', ['first']);
    setValueAtPath(target, 'ServiceRequest', 'note[1].text', ['second']);
    expect(target['note']).toEqual([{ text: 'first' }, { text: 'second' }]);
    expect(() => {
      setValueAtPath(target, 'ServiceRequest', 'note[3].text', ['gap']);
    }).toThrow(/indexes must be filled in order/);
    expect(target['note']).toHaveLength(2);
  });

  it('rewrites occurrence.ofType(Period) to occurrencePeriod and drops the other choice variants', () => {
    const target: Record<string, unknown> = { occurrenceDateTime: '2026-01-01' };
    setValueAtPath(target, 'ServiceRequest', 'occurrence.ofType(Period).start', ['2026-02-10']);
    expect(target).toEqual({ occurrencePeriod: { start: '2026-02-10' } });
  });

  it('picks the choice type from the value when the path names only the choice element', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'ServiceRequest', 'occurrence', ['2026-03-05T10:00:00+01:00']);
    expect(target).toEqual({ occurrenceDateTime: '2026-03-05T10:00:00+01:00' });
    setValueAtPath(target, 'ServiceRequest', 'occurrence', [{ start: '2026-03-05', end: '2026-03-09' }]);
    expect(target).toEqual({ occurrencePeriod: { start: '2026-03-05', end: '2026-03-09' } });
  });

  it("finds or creates extension('url') and types value[x] by the value", () => {
    const url = 'http://example.org/fhir/StructureDefinition/cycle-day';
    const target: Record<string, unknown> = { extension: [{ url: 'http://other', valueString: 'keep' }] };
    setValueAtPath(target, 'ServiceRequest', `extension('${url}').value`, [8]);
    setValueAtPath(target, 'ServiceRequest', `extension('${url}').value`, [9]);
    expect(target['extension']).toEqual([
      { url: 'http://other', valueString: 'keep' },
      { url, valueInteger: 9 },
    ]);
    setValueAtPath(target, 'ServiceRequest', `extension('${url}').valueString`, ['day 9']);
    expect(target['extension']).toEqual([
      { url: 'http://other', valueString: 'keep' },
      { url, valueString: 'day 9' },
    ]);
  });

  it('appends every value to a repeating element, converting resources to References', () => {
    const target: Record<string, unknown> = { reasonReference: [{ reference: 'Condition/c1' }] };
    setValueAtPath(target, 'ServiceRequest', 'reasonReference', hcg);
    expect(target['reasonReference']).toEqual([{ reference: 'Condition/c1' }, { reference: 'Observation/hcg1' }, { reference: 'Observation/hcg2' }]);
  });

  it('wraps a Coding into a CodeableConcept', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'ServiceRequest', 'code', [{ system: 'http://loinc.org', code: '1234-5' }]);
    expect(target['code']).toEqual({ coding: [{ system: 'http://loinc.org', code: '1234-5' }] });
  });

  it('converts FHIRPath quantity text to a UCUM Quantity', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'ServiceRequest', 'quantityQuantity', ["5 'mL'"]);
    expect(target['quantityQuantity']).toEqual({ value: 5, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' });
  });

  it('refuses several values for a single-valued element and leaves the target untouched', () => {
    const target: Record<string, unknown> = {};
    expect(() => {
      setValueAtPath(target, 'ServiceRequest', 'occurrencePeriod.start', ['2026-01-01', '2026-01-02']);
    }).toThrow(DynamicValuePathError);
    expect(target).toEqual({});
  });

  it('leaves the element unset for an empty result', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'ServiceRequest', 'occurrencePeriod.start', []);
    expect(target).toEqual({});
  });

  it.each([
    ['code + 1', /operators/],
    ["code.where(text = 'x')", /where\(\) is not allowed/],
    ['occurrence.start', /choice element/],
    ['nonsense', /has no element 'nonsense'/],
    ['status.value', /primitive/],
    ['code.resolve()', /resolve\(\)/],
  ])('rejects the path %s, every time (resolutions are memoised, errors included)', (path, message) => {
    expect(() => {
      setValueAtPath({}, 'ServiceRequest', path, ['x']);
    }).toThrow(message);
    expect(() => {
      setValueAtPath({}, 'ServiceRequest', path, ['x']);
    }).toThrow(message);
    // The same path below another type is resolved on its own.
    expect(() => {
      setValueAtPath({}, 'Task', path, ['x']);
    }).toThrow();
  });

  it('a memoised path still writes into each new target', () => {
    const first: Record<string, unknown> = {};
    const second: Record<string, unknown> = {};
    setValueAtPath(first, 'ServiceRequest', 'occurrencePeriod.start', ['2026-01-01']);
    setValueAtPath(second, 'ServiceRequest', 'occurrencePeriod.start', ['2026-02-02']);
    expect([first, second]).toEqual([{ occurrencePeriod: { start: '2026-01-01' } }, { occurrencePeriod: { start: '2026-02-02' } }]);
  });

  it.each([
    ['status', true, /code.*boolean/],
    ['authoredOn', '2026-01-01T10:00', /seconds and a time zone/],
    ['priority', 3, /expected a string/],
    ['subject', { foo: 1 }, /Reference/],
    ['quantityQuantity', 'five', /quantity/],
    ['code', 'HSG', /CodeableConcept/],
  ])('rejects %s = %j with the target type in the message', (path, value, message) => {
    expect(() => {
      setValueAtPath({}, 'ServiceRequest', path, [value]);
    }).toThrow(message);
  });

  it('coerces numbers, booleans and dates by the target type', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'MedicationRequest', 'dosageInstruction[0].sequence', [1]);
    setValueAtPath(target, 'MedicationRequest', 'doNotPerform', ['false']);
    setValueAtPath(target, 'MedicationRequest', 'dispenseRequest.numberOfRepeatsAllowed', [0]);
    expect(target).toEqual({ dosageInstruction: [{ sequence: 1 }], doNotPerform: false, dispenseRequest: { numberOfRepeatsAllowed: 0 } });
    expect(() => {
      setValueAtPath(target, 'MedicationRequest', 'dosageInstruction[0].sequence', [1.5]);
    }).toThrow(/whole number/);
    expect(() => {
      setValueAtPath(target, 'MedicationRequest', 'dosageInstruction[0].timing.repeat.frequency', [0]);
    }).toThrow(/at least 1/);
  });

  it('works on a backbone base type such as RequestGroup.action, including nested actions', () => {
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'RequestGroup.action', 'title', ['Book HSG']);
    setValueAtPath(target, 'RequestGroup.action', 'action[0].timing.ofType(dateTime)', ['2026-03-05']);
    expect(target).toEqual({ title: 'Book HSG', action: [{ timingDateTime: '2026-03-05' }] });
  });

  it('copies object values, so later edits do not reach the patient record', () => {
    const period = { start: '2026-01-01', end: '2026-01-05' };
    const target: Record<string, unknown> = {};
    setValueAtPath(target, 'ServiceRequest', 'occurrencePeriod', [period]);
    (target['occurrencePeriod'] as { end: string }).end = 'changed';
    expect(period.end).toBe('2026-01-05');
  });
});

describe('applyDynamicValues', () => {
  it('sets occurrencePeriod.start / .end from FHIRPath over %lmp', () => {
    const { target, issues } = run([
      { path: 'occurrencePeriod.start', expression: fp('%lmp.value.ofType(dateTime).last() + 7 days') },
      { path: 'occurrencePeriod.end', expression: fp('%lmp.value.ofType(dateTime).last() + 11 days') },
    ]);
    expect(issues).toEqual([]);
    expect(target['occurrencePeriod']).toEqual({ start: '2026-02-17', end: '2026-02-21' });
  });

  it('evaluates with %context = the definition being applied', () => {
    const { target } = run([
      { path: 'code', expression: fp('%context.code') },
      { path: 'note[0].text', expression: fp("code.coding.display.first() + ' requested'") },
    ]);
    expect(target['code']).toEqual(ad.code);
    expect(target['note']).toEqual([{ text: 'HSG requested' }]);
  });

  it('sets reasonReference from a variable holding Observations', () => {
    const { target } = run([{ path: 'reasonReference', expression: fp('%pregnancyTests') }]);
    expect(target['reasonReference']).toEqual([{ reference: 'Observation/hcg1' }, { reference: 'Observation/hcg2' }]);
  });

  it('wraps a Coding result into a CodeableConcept', () => {
    const { target } = run([{ path: 'code', expression: fp('%context.code.coding.first()') }]);
    expect(target['code']).toEqual({ coding: [{ system: 'http://snomed.info/sct', code: '168884001', display: 'HSG' }] });
  });

  it('applies in document order: a later entry overrides an earlier one', () => {
    const { target } = run([
      { path: 'priority', expression: fp("'routine'") },
      { path: 'priority', expression: fp("'urgent'") },
    ]);
    expect(target['priority']).toBe('urgent');
  });

  it('records an evaluation error, names the entry, and still applies the rest', () => {
    const { target, issues } = run([
      { path: 'note[0].text', expression: fp('%lmp.value.(') },
      { path: 'priority', expression: fp("'asap'") },
    ]);
    expect(target['priority']).toBe('asap');
    expect(target['note']).toBeUndefined();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'processing', expression: ['ActivityDefinition/hsg dynamicValue[0]'] });
    expect(issues[0]!.diagnostics).toContain("path 'note[0].text'");
    expect(issues[0]!.diagnostics).toContain('%lmp.value.(');
  });

  it('records a bad path as invalid without evaluating it', () => {
    const { target, issues } = run([
      { path: 'priority or true', expression: fp("'stat'") },
      { path: 'priority', expression: fp("'routine'") },
    ]);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'invalid' });
    expect(issues[0]!.diagnostics).toMatch(/not a Simple FHIRPath/);
    expect(target['priority']).toBe('routine');
  });

  it('records two values for a non-repeating element as invalid', () => {
    const { target, issues } = run([{ path: 'occurrenceDateTime', expression: fp('%pregnancyTests.id') }]);
    expect(issues[0]).toMatchObject({ code: 'invalid' });
    expect(issues[0]!.diagnostics).toMatch(/holds one value but the expression returned 2/);
    expect(target['occurrenceDateTime']).toBeUndefined();
  });

  it('reports an unsupported expression language and still applies the rest', () => {
    const { target, issues } = run([
      { path: 'priority', expression: cqlIdentifier('Priority') },
      { path: 'doNotPerform', expression: fp('false') },
    ]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.diagnostics).toMatch(/unsupported expression language 'text\/cql-identifier'/);
    expect(target['doNotPerform']).toBe(false);
  });

  it('uses a pluggable evaluator for other languages', () => {
    const cql: ExpressionEvaluator = { evaluate: (e) => (e.expression === 'Priority' ? ['stat'] : []) };
    const { target, issues } = run([{ path: 'priority', expression: cqlIdentifier('Priority') }], { evaluators: { 'text/cql-identifier': cql } });
    expect(issues).toEqual([]);
    expect(target['priority']).toBe('stat');
  });

  it('throws an OperationOutcomeError in strict mode', () => {
    let thrown: unknown;
    try {
      run(
        [
          { path: 'priority', expression: fp('%lmp.value.(') },
          { path: 'doNotPerform', expression: fp('true') },
        ],
        { strict: true },
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OperationOutcomeError);
    expect((thrown as OperationOutcomeError).outcome.issue[0]).toMatchObject({ severity: 'error', code: 'processing' });
  });

  it('routes action. and %action. paths to the RequestGroup action', () => {
    const action: Record<string, unknown> = { id: 'hsg' };
    const { target, issues } = run(
      [
        { path: 'action.title', expression: fp("'Book the HSG'") },
        { path: '%action.description', expression: fp("'Days 7-11 of the cycle'") },
        { path: 'priority', expression: fp("'routine'") },
      ],
      { actionTarget: action },
    );
    expect(issues).toEqual([]);
    expect(action).toEqual({ id: 'hsg', title: 'Book the HSG', description: 'Days 7-11 of the cycle' });
    expect(target).toEqual({ resourceType: 'ServiceRequest', id: 'hsg', priority: 'routine' });
  });

  it('reports an action. path when there is no RequestGroup action', () => {
    const { issues } = run([{ path: 'action.title', expression: fp("'x'") }]);
    expect(issues[0]!.diagnostics).toMatch(/RequestGroup action/);
  });

  it('numbers entries after a where that already ends in "dynamicValue"', () => {
    const issues: OperationOutcomeIssue[] = [];
    applyDynamicValues({
      target: {},
      baseType: 'ServiceRequest',
      dynamicValues: [{ path: 'x + 1', expression: fp('1') }],
      focus: ad,
      knowledge: compileKnowledge([ad]),
      variables: variables(),
      issues,
      strict: false,
      where: 'PlanDefinition/p#a dynamicValue',
    });
    expect(issues[0]!.expression).toEqual(['PlanDefinition/p#a dynamicValue[0]']);
  });

  it('is deterministic: the same input twice gives identical JSON', () => {
    const entries: DynamicValue[] = [
      { path: 'occurrencePeriod.start', expression: fp('%lmp.value.ofType(dateTime).last() + 7 days') },
      { path: 'reasonReference', expression: fp('%pregnancyTests') },
      { path: "extension('http://example.org/x').value", expression: fp('now()') },
      { path: 'note[0].text', expression: fp('%bad.(') },
    ];
    const a = run(entries);
    const b = run(entries);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.target['extension']).toEqual([{ url: 'http://example.org/x', valueDateTime: '2026-03-01T09:00:00+01:00' }]);
  });
});
