import { describe, expect, it } from 'vitest';
import type {
  ActivityDefinition,
  CarePlan,
  Goal,
  Observation,
  Patient,
  PlanDefinition,
  PlanDefinitionAction,
  RequestGroup,
  RequestGroupAction,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, type ApplyOptions, type ApplyResult, compileKnowledge } from '../../src/engine/index.ts';
import { INPUT_REQUIRED_EXTENSION } from '../../src/engine/types.ts';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { validateResources } from '../../src/validation/validate.ts';
import { activityDefinition, applicable, fp, planDefinition, testPatient } from '../support/definitions.ts';

const NOW = '2026-11-23T09:00:00Z';
const LOCAL = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';
const patient = testPatient;

const ad = activityDefinition;
/** The plan at version 2.0.0 (the canonicals these cases expect in the output). */
const plan = (actions: PlanDefinitionAction[], extra: Partial<PlanDefinition> = {}): PlanDefinition => planDefinition(actions, { version: '2.0.0', ...extra });

function apply(pd: PlanDefinition, data: Resource[] = [], options: Partial<ApplyOptions> = {}, definitions: Resource[] = []): ApplyResult {
  const knowledge = compileKnowledge([pd, ...definitions]);
  return applyPlanDefinition(pd, { subject: patient, data: buildPatientData([patient, ...data]) }, { now: NOW, ...options }, knowledge);
}

function contained(result: ApplyResult, id: string): Resource {
  const found = result.carePlan?.contained?.find((r) => r.id === id);
  if (!found) throw new Error(`no contained ${id}`);
  return found;
}

function rgActionIds(actions: RequestGroupAction[] | undefined): string[] {
  return (actions ?? []).flatMap((a) => [a.id ?? '?', ...rgActionIds(a.action).map((c) => `${a.id}/${c}`)]);
}

const menses = (date: string, id = 'menses-end'): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOCAL, code: 'menses-end-date' }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: date,
  valueDateTime: date,
});

describe('PlanDefinition/$apply - R4 output shape', () => {
  it('returns a CarePlan whose activity points to a contained RequestGroup holding the requests', () => {
    const result = apply(plan([{ id: 'a1', title: 'Order A', definitionCanonical: 'http://example.org/ActivityDefinition/a|1.0.0' }]), [], {}, [ad('a')]);
    const cp = result.carePlan as CarePlan;
    expect(cp.resourceType).toBe('CarePlan');
    expect(cp.instantiatesCanonical).toEqual(['http://example.org/PlanDefinition/test-plan|2.0.0']);
    expect(cp.intent).toBe('proposal');
    expect(cp.status).toBe('draft');
    expect(cp.subject).toEqual({ reference: 'Patient/p1' });
    expect(cp.activity).toEqual([{ reference: { reference: '#requestgroup' } }]);
    const rg = contained(result, 'requestgroup') as RequestGroup;
    expect(rg.intent).toBe('proposal');
    expect(rg.instantiatesCanonical).toEqual(cp.instantiatesCanonical);
    expect(rg.action?.[0]).toMatchObject({ id: 'a1', title: 'Order A', resource: { reference: '#a1' } });
    const request = contained(result, 'a1') as ServiceRequest;
    expect(request.resourceType).toBe('ServiceRequest');
    expect(request.intent).toBe('option');
    expect(request.status).toBe('draft');
    expect(request.instantiatesCanonical).toEqual(['http://example.org/ActivityDefinition/a|1.0.0']);
    expect(request.subject).toEqual({ reference: 'Patient/p1' });
  });

  it('uses the configured request and CarePlan status', () => {
    const result = apply(plan([{ id: 'a1', definitionCanonical: 'http://example.org/ActivityDefinition/a' }]), [], { requestStatus: 'active', carePlanStatus: 'active' }, [
      ad('a'),
    ]);
    expect(result.carePlan?.status).toBe('active');
    expect((contained(result, 'a1') as ServiceRequest).status).toBe('active');
  });

  it('gives byte-identical output for the same input', () => {
    const pd = plan([{ id: 'a1', condition: [applicable("%patient.gender = 'female'")], definitionCanonical: 'http://example.org/ActivityDefinition/a' }]);
    expect(JSON.stringify(apply(pd, [], {}, [ad('a')]))).toBe(JSON.stringify(apply(pd, [], {}, [ad('a')])));
  });

  it('rejects a now without offset and a subject without id', () => {
    expect(() => apply(plan([]), [], { now: '2026-11-23' })).toThrow(OperationOutcomeError);
    const pd = plan([]);
    expect(() => applyPlanDefinition(pd, { subject: { resourceType: 'Patient' }, data: buildPatientData([]) }, { now: NOW }, compileKnowledge([pd]))).toThrow(/subject/);
  });
});

describe('applicability conditions', () => {
  it('applies only when every applicability condition is exactly true (AND)', () => {
    const result = apply(
      plan([
        { id: 'both-true', condition: [applicable('true'), applicable('1 = 1')] },
        { id: 'one-false', condition: [applicable('true'), applicable('false')] },
        { id: 'empty', condition: [applicable('%patient.deceased')] },
        { id: 'non-boolean', condition: [applicable("'yes'")] },
      ]),
    );
    expect(rgActionIds(result.requestGroup.action)).toEqual(['both-true']);
    const byId = Object.fromEntries(result.trace.map((t) => [t.actionId, t]));
    expect(byId['one-false']?.reason).toMatch(/"false" is false/);
    expect(byId['empty']?.reason).toMatch(/empty/);
    expect(byId['non-boolean']?.applicability).toBe('not-applicable');
    expect(result.outcome.issue.some((i) => i.severity === 'warning' && /non-Boolean/.test(i.diagnostics ?? ''))).toBe(true);
  });

  it('carries start/stop conditions to the RequestGroup action without evaluating them', () => {
    const result = apply(
      plan([{ id: 'a', condition: [applicable('true'), { kind: 'start', expression: fp('this is not evaluated(') }, { kind: 'stop', expression: fp('false') }] }]),
    );
    expect(result.requestGroup.action?.[0]?.condition).toEqual([
      { kind: 'start', expression: fp('this is not evaluated(') },
      { kind: 'stop', expression: fp('false') },
    ]);
    expect(result.outcome.issue[0]?.severity).toBe('information');
  });

  it("explains an applicable action with the conditions' descriptions when they have one", () => {
    const described = {
      kind: 'applicability' as const,
      expression: { language: 'text/fhirpath' as const, expression: "%patient.gender = 'female'", description: 'HSG-I1: the patient is a woman' },
    };
    expect(apply(plan([{ id: 'a', condition: [described, applicable('true')] }])).trace[0]?.reason).toBe('applicable: "HSG-I1: the patient is a woman" and "true" are true');
  });

  it('binds R4 variable extensions (named expressions) of the plan and of an action for their descendants', () => {
    const variable = (name: string, expression: string) => ({
      url: 'http://hl7.org/fhir/StructureDefinition/variable',
      valueExpression: { language: 'text/fhirpath' as const, name, expression },
    });
    const pd = plan(
      [
        {
          id: 'g',
          extension: [variable('isAdult', '%age >= 18'), variable('adultWoman', "%isAdult and %patient.gender = 'female'")],
          condition: [applicable('%adultWoman')],
          action: [{ id: 'child', condition: [applicable('%adultWoman and %age = 36')] }],
        },
        { id: 'outside', condition: [applicable('%isAdult.exists()')] },
        { id: 'broken', extension: [variable('bad', '%nope')], condition: [applicable('%bad.empty()')] },
      ],
      { extension: [variable('age', '(today().toString().substring(0, 4).toInteger() - %patient.birthDate.toString().substring(0, 4).toInteger())')] },
    );
    const result = apply(pd);
    expect(rgActionIds(result.requestGroup.action)).toEqual(['g', 'g/child', 'broken']);
    expect(result.trace[1]?.applicability).toBe('error');
    expect(result.outcome.issue.some((i) => /variable %bad failed/.test(i.diagnostics ?? ''))).toBe(true);
  });

  it('computes the named expressions its conditions need first, and the others only once the action applies', () => {
    const variable = (name: string, expression: string) => ({
      url: 'http://hl7.org/fhir/StructureDefinition/variable',
      valueExpression: { language: 'text/fhirpath' as const, name, expression },
    });
    const action = (id: string, indicated: string) => ({
      id,
      extension: [
        // %late is not read by the condition: it fails loudly, but only when computed.
        variable('late', '(1 | 2).single()'),
        variable('base', indicated),
        variable('indicated', '%base and true'),
        variable('forChild', "%indicated.toString() + ' for the child'"),
      ],
      condition: [applicable('%indicated')],
      action: [{ id: `${id}-child`, condition: [applicable("%forChild = 'true for the child' and %late.empty()")] }],
    });
    const notApplicable = apply(plan([action('no', 'false')]));
    expect(rgActionIds(notApplicable.requestGroup.action)).toEqual([]);
    expect(notApplicable.trace[0]?.reason).toMatch(/is false/);
    // Not applicable: nothing can read %late or %forChild, so they were not computed (no error about them).
    expect(notApplicable.outcome.issue.filter((i) => i.severity !== 'information')).toEqual([]);

    const applicable_ = apply(plan([action('yes', 'true')]));
    // Applicable: %indicated read %base (computed first, through the dependency); %late and
    // %forChild were computed after the decision, in document order, and reach the child.
    expect(rgActionIds(applicable_.requestGroup.action)).toEqual(['yes', 'yes/yes-child']);
    expect(applicable_.outcome.issue.filter((i) => i.severity !== 'information').map((i) => i.diagnostics)).toEqual([expect.stringMatching(/variable %late failed/)]);
  });

  it("reports a variable extension without a name, also when it is the action's only one and the action does not apply", () => {
    const unnamed = { url: 'http://hl7.org/fhir/StructureDefinition/variable', valueExpression: { language: 'text/fhirpath' as const, expression: 'true' } };
    const result = apply(plan([{ id: 'a', extension: [unnamed], condition: [applicable('false')] }]));
    expect(result.outcome.issue.map((i) => i.diagnostics)).toEqual([expect.stringMatching(/variable extension without a name/)]);
  });

  it('records an expression error in a contained OperationOutcome and does not apply the action', () => {
    const result = apply(plan([{ id: 'broken', condition: [applicable('%undefinedVariable.exists()')] }, { id: 'fine' }]));
    expect(rgActionIds(result.requestGroup.action)).toEqual(['fine']);
    expect(result.trace[0]?.applicability).toBe('error');
    const oo = contained(result, 'outcome');
    expect(oo.resourceType).toBe('OperationOutcome');
    expect(result.carePlan?.extension).toEqual([{ url: 'http://hl7.org/fhir/StructureDefinition/cqf-messages', valueReference: { reference: '#outcome' } }]);
    const problem = result.outcome.issue[0];
    expect(problem?.severity).toBe('error');
    expect(problem?.diagnostics).toMatch(/PlanDefinition\/test-plan#broken/);
    expect(problem?.diagnostics).toMatch(/undefinedVariable/);
    expect(problem?.expression).toEqual(['PlanDefinition.action[0].condition[0].expression']);
  });

  it('throws in strict mode', () => {
    expect(() => apply(plan([{ id: 'broken', condition: [applicable('Observation.where(')] }]), [], { strict: true })).toThrow(OperationOutcomeError);
  });

  it('reports an unsupported expression language instead of skipping it, and accepts a plugged-in evaluator', () => {
    const cql = { kind: 'applicability' as const, expression: { language: 'text/cql-identifier' as 'text/cql', expression: 'Is Eligible' } };
    const result = apply(plan([{ id: 'cql', condition: [cql] }]));
    expect(result.requestGroup.action).toBeUndefined();
    expect(result.outcome.issue[0]?.diagnostics).toMatch(/unsupported expression language 'text\/cql-identifier'/);
    const plugged = apply(plan([{ id: 'cql', condition: [cql] }]), [], { evaluators: { 'text/cql-identifier': { evaluate: (e) => [e.expression === 'Is Eligible'] } } });
    expect(rgActionIds(plugged.requestGroup.action)).toEqual(['cql']);
  });

  it('evaluates against the definition as %context and exposes the $apply parameters as variables', () => {
    const pd = plan([
      { id: 'context', condition: [applicable("%context.id = 'test-plan' and %resource.id = 'test-plan'")] },
      { id: 'subject', condition: [applicable("%subject.id = 'p1' and %patient.birthDate = @1990-05-10")] },
      { id: 'practitioner', condition: [applicable("%practitioner.id = 'dr1'")] },
      { id: 'user-type', condition: [applicable("%userType.coding.code = 'doctor'")] },
      { id: 'parameter', condition: [applicable('%threshold = 3')] },
      { id: 'today', condition: [applicable('today() = @2026-11-23 and %today = @2026-11-23')] },
      { id: 'encounter-absent', condition: [applicable('%encounter.empty()')] },
    ]);
    const result = applyPlanDefinition(
      pd,
      {
        subject: patient,
        data: buildPatientData([patient]),
        practitioner: { resourceType: 'Practitioner', id: 'dr1' },
        userType: { coding: [{ code: 'doctor' }] },
        parameters: { threshold: 3 },
      },
      { now: NOW },
      compileKnowledge([pd]),
    );
    expect(rgActionIds(result.requestGroup.action)).toEqual(['context', 'subject', 'practitioner', 'user-type', 'parameter', 'today', 'encounter-absent']);
    expect(result.requestGroup.author).toEqual({ reference: 'Practitioner/dr1' });
  });
});

describe('nested actions and selection behaviours', () => {
  it('keeps the authored order of nested groups', () => {
    const result = apply(
      plan([
        { id: 'g1', action: [{ id: 'g1a' }, { id: 'g1b', action: [{ id: 'x' }, { id: 'y', condition: [applicable('false')] }, { id: 'z' }] }] },
        { id: 'g2', action: [{ id: 'g2a' }] },
      ]),
    );
    expect(rgActionIds(result.requestGroup.action)).toEqual(['g1', 'g1/g1a', 'g1/g1b', 'g1/g1b/x', 'g1/g1b/z', 'g2', 'g2/g2a']);
    expect(result.trace[0]?.children[1]?.children.map((c) => c.applicability)).toEqual(['applicable', 'not-applicable', 'applicable']);
  });

  it('omits a group none of whose actions applies, and says so', () => {
    const result = apply(plan([{ id: 'g', action: [{ id: 'a', condition: [applicable('false')] }] }]));
    expect(result.requestGroup.action).toBeUndefined();
    expect(result.trace[0]?.reason).toMatch(/none of its 1 actions applies/);
  });

  it('exactly-one with a single applicable option selects it; with several leaves the choice', () => {
    const one = apply(plan([{ id: 'g', selectionBehavior: 'exactly-one', action: [{ id: 'a' }, { id: 'b', condition: [applicable('false')] }] }]));
    expect(one.requestGroup.action?.[0]?.selectionBehavior).toBe('exactly-one');
    expect(rgActionIds(one.requestGroup.action)).toEqual(['g', 'g/a']);
    expect(one.trace[0]?.notes.join()).toMatch(/only applicable option \(a\)/);
    const two = apply(plan([{ id: 'g', selectionBehavior: 'exactly-one', action: [{ id: 'a' }, { id: 'b' }] }]));
    expect(rgActionIds(two.requestGroup.action)).toEqual(['g', 'g/a', 'g/b']);
    expect(two.trace[0]?.notes.join()).toMatch(/2 applicable options; the clinician chooses/);
  });

  it('all-or-none drops the group when part of it does not apply', () => {
    const result = apply(plan([{ id: 'g', selectionBehavior: 'all-or-none', action: [{ id: 'a' }, { id: 'b', condition: [applicable('false')] }] }]));
    expect(result.requestGroup.action).toBeUndefined();
    expect(result.trace[0]?.reason).toMatch(/all-or-none/);
  });

  it('copies all five behaviours and the other action elements', () => {
    const action: PlanDefinitionAction = {
      id: 'g',
      prefix: '1.',
      title: 'T',
      description: 'D',
      textEquivalent: 'TE',
      priority: 'urgent',
      code: [{ text: 'c' }],
      documentation: [{ type: 'citation', citation: 'src.txt: "quote"' }],
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/action-type', code: 'create' }] },
      groupingBehavior: 'logical-group',
      selectionBehavior: 'any',
      requiredBehavior: 'must',
      precheckBehavior: 'yes',
      cardinalityBehavior: 'single',
      action: [{ id: 'a' }],
    };
    const rg = apply(plan([action])).requestGroup.action?.[0];
    expect(rg).toMatchObject({
      id: 'g',
      prefix: '1.',
      title: 'T',
      description: 'D',
      textEquivalent: 'TE',
      priority: 'urgent',
      code: [{ text: 'c' }],
      documentation: action.documentation,
      type: action.type,
      groupingBehavior: 'logical-group',
      selectionBehavior: 'any',
      requiredBehavior: 'must',
      precheckBehavior: 'yes',
      cardinalityBehavior: 'single',
    });
  });

  it('cqf-applicabilityBehavior any takes the first applicable action only', () => {
    const result = apply(
      plan([
        {
          id: 'g',
          extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/cqf-applicabilityBehavior', valueCode: 'any' }],
          action: [{ id: 'a', condition: [applicable('false')] }, { id: 'b' }, { id: 'c' }],
        },
      ]),
    );
    expect(rgActionIds(result.requestGroup.action)).toEqual(['g', 'g/b']);
  });
});

describe('inputs, missing data', () => {
  const pregnancyInput = {
    id: 'pregnancyStatus',
    type: 'Observation',
    extension: [{ url: INPUT_REQUIRED_EXTENSION, valueBoolean: true }],
    codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '82810-3', display: 'Pregnancy status' }] }],
  };
  const pregnant: Observation = {
    resourceType: 'Observation',
    id: 'preg',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '82810-3' }] },
    valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '60001007' }] },
    effectiveDateTime: '2026-11-20',
  };

  it('binds an input DataRequirement as %<id>, filtered by code', () => {
    const other: Observation = { resourceType: 'Observation', id: 'other', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8665-2' }] } };
    const result = apply(
      plan([{ id: 'a', input: [pregnancyInput], condition: [applicable("%pregnancyStatus.count() = 1 and %pregnancyStatus.value.coding.code = '60001007'")] }]),
      [pregnant, other],
    );
    expect(rgActionIds(result.requestGroup.action)).toEqual(['a']);
    expect(result.trace[0]?.inputs).toEqual([{ id: 'pregnancyStatus', count: 1 }]);
  });

  it('filters by dateFilter (a Duration = within the last ...), sorts and limits', () => {
    const old = menses('2026-09-01', 'old');
    const recent = menses('2026-11-18', 'recent');
    const result = apply(
      plan([
        {
          id: 'a',
          input: [
            {
              id: 'menses',
              type: 'Observation',
              codeFilter: [{ path: 'code', code: [{ system: LOCAL, code: 'menses-end-date' }] }],
              dateFilter: [{ path: 'effective', valueDuration: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } }],
              sort: [{ path: 'effective', direction: 'descending' }],
              limit: 1,
            },
          ],
          condition: [applicable("%menses.count() = 1 and %menses.id = 'recent'")],
        },
      ]),
      [old, recent],
    );
    expect(rgActionIds(result.requestGroup.action)).toEqual(['a']);
  });

  it('resolves codeFilter.valueSet against the knowledge base', () => {
    const vs = {
      resourceType: 'ValueSet' as const,
      id: 'vs',
      url: 'http://example.org/ValueSet/preg',
      status: 'active' as const,
      compose: { include: [{ system: 'http://loinc.org', concept: [{ code: '82810-3' }] }] },
    };
    const pd = plan([
      { id: 'a', input: [{ id: 'p', type: 'Observation', codeFilter: [{ path: 'code', valueSet: 'http://example.org/ValueSet/preg' }] }], condition: [applicable('%p.exists()')] },
    ]);
    expect(rgActionIds(apply(pd, [pregnant], {}, [vs]).requestGroup.action)).toEqual(['a']);
    const unknown = apply(pd, [pregnant]);
    expect(unknown.outcome.issue[0]?.diagnostics).toMatch(/cannot be expanded/);
  });

  it('a ValueSet changed in the knowledge base after an apply is seen by the next apply (no stale code filter)', () => {
    const vs = (code: string) => ({
      resourceType: 'ValueSet' as const,
      id: 'vs',
      url: 'http://example.org/ValueSet/preg',
      status: 'active' as const,
      compose: { include: [{ system: 'http://loinc.org', concept: [{ code }] }] },
    });
    const pd = plan([
      { id: 'a', input: [{ id: 'p', type: 'Observation', codeFilter: [{ path: 'code', valueSet: 'http://example.org/ValueSet/preg' }] }], condition: [applicable('%p.exists()')] },
    ]);
    let knowledge = compileKnowledge([pd, vs('00000-0')]);
    const run = () => applyPlanDefinition(pd, { subject: patient, data: buildPatientData([patient, pregnant]) }, { now: NOW }, knowledge);
    expect(rgActionIds(run().requestGroup.action)).toEqual([]);
    knowledge = knowledge.with([vs('82810-3')]);
    expect(rgActionIds(run().requestGroup.action)).toEqual(['a']);
  });

  it('a required input that is empty yields missing-data and one collect-information Task naming the code', () => {
    const result = apply(
      plan([
        { id: 'hsg', title: 'HSG', input: [pregnancyInput], condition: [applicable('true')] },
        { id: 'hys', title: 'Hysteroscopy', input: [pregnancyInput], condition: [applicable('true')] },
      ]),
    );
    expect(result.trace.map((t) => t.applicability)).toEqual(['missing-data', 'missing-data']);
    expect(result.missing.map((m) => m.inputId)).toEqual(['pregnancyStatus', 'pregnancyStatus']);
    const tasks = result.resources.filter((r): r is Task => r.resourceType === 'Task');
    expect(tasks).toHaveLength(1);
    const task = tasks[0]!;
    expect(task.code?.coding?.[0]).toMatchObject({ system: 'http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type', code: 'collect-information' });
    expect(task.reasonCode?.coding).toEqual([{ system: 'http://loinc.org', code: '82810-3', display: 'Pregnancy status' }]);
    expect(task.input?.[0]?.valueDataRequirement?.type).toBe('Observation');
    expect(task.description).toMatch(/HSG, Hysteroscopy/);
    expect(task.intent).toBe('option');
    expect(result.requestGroup.action?.map((a) => a.resource?.reference)).toEqual(['#collect-pregnancyStatus']);
  });

  it('names the Task after the ValueSet title when the input filters by ValueSet', () => {
    const vs = {
      resourceType: 'ValueSet' as const,
      url: 'http://example.org/ValueSet/menses-end',
      title: 'Date menstruation ended',
      status: 'active' as const,
      compose: { include: [{ system: LOCAL, concept: [{ code: 'menses-end-date' }] }] },
    };
    const pd = plan([
      {
        id: 'hsg',
        input: [{ id: 'mensesEnd', type: 'Observation', extension: [{ url: INPUT_REQUIRED_EXTENSION, valueBoolean: true }], codeFilter: [{ path: 'code', valueSet: vs.url }] }],
      },
    ]);
    const task = apply(pd, [], {}, [vs]).resources.find((r): r is Task => r.resourceType === 'Task')!;
    expect(task.description).toMatch(/^Collect Date menstruation ended \(Observation\)/);
    expect(task.reasonCode?.coding).toEqual([{ system: LOCAL, code: 'menses-end-date' }]);
  });

  it('a required element of the subject (mustSupport birthDate) that is absent yields a Task naming the element, not a false', () => {
    const birthDate = { id: 'birthDate', type: 'Patient', mustSupport: ['birthDate'], extension: [{ url: INPUT_REQUIRED_EXTENSION, valueBoolean: true }] };
    const pd = plan([{ id: 'age-gate', title: 'Under 40', input: [birthDate], condition: [applicable('%birthDate.birthDate > today() - 40 years')] }]);
    const noBirthDate: Patient = { resourceType: 'Patient', id: 'p1', gender: 'female' };
    const knowledge = compileKnowledge([pd]);
    // Another Patient in the record (e.g. a partner) does not stand in for the subject.
    const other: Patient = { resourceType: 'Patient', id: 'other', birthDate: '1990-01-01' };
    const missing = applyPlanDefinition(pd, { subject: noBirthDate, data: buildPatientData([noBirthDate, other]) }, { now: NOW }, knowledge);
    expect(missing.trace[0]?.applicability).toBe('missing-data');
    const task = missing.resources.find((r): r is Task => r.resourceType === 'Task')!;
    expect(task.reasonCode).toEqual({ text: 'Patient.birthDate' });
    expect(task.description).toMatch(/^Collect Patient.birthDate \(Patient\): needed to decide Under 40/);
    // With the element present (and the subject not even in the record), the condition decides.
    const present = applyPlanDefinition(pd, { subject: patient, data: buildPatientData([]) }, { now: NOW }, knowledge);
    expect(rgActionIds(present.requestGroup.action)).toEqual(['age-gate']);
  });

  it('with the data present the same action applies and no Task is produced', () => {
    const result = apply(plan([{ id: 'hsg', input: [pregnancyInput], condition: [applicable('%pregnancyStatus.exists()')] }]), [pregnant]);
    expect(rgActionIds(result.requestGroup.action)).toEqual(['hsg']);
    expect(result.resources.filter((r) => r.resourceType === 'Task' && r.code?.coding?.[0]?.code === 'collect-information')).toHaveLength(0);
  });

  it('child actions see the inputs bound on their group', () => {
    const result = apply(plan([{ id: 'g', input: [pregnancyInput], action: [{ id: 'c', condition: [applicable('%pregnancyStatus.exists()')] }] }]), [pregnant]);
    expect(rgActionIds(result.requestGroup.action)).toEqual(['g', 'g/c']);
  });

  it('action.output DataRequirements become supportingInfo on the request', () => {
    const result = apply(
      plan([
        {
          id: 'a1',
          definitionCanonical: 'http://example.org/ActivityDefinition/a',
          output: [{ type: 'Observation', codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '82810-3' }] }] }],
        },
      ]),
      [pregnant],
      {},
      [ad('a')],
    );
    expect((contained(result, 'a1') as ServiceRequest).supportingInfo).toEqual([{ reference: 'Observation/preg' }]);
  });
});

describe('definitions', () => {
  it('resolves a contained ActivityDefinition (#id) and a canonical url|version, never by parsing the URL', () => {
    const pd = plan(
      [
        { id: 'c', definitionCanonical: '#local' },
        { id: 'k', definitionCanonical: 'urn:example:definitions:k|1.0.0' },
      ],
      { contained: [ad('local')] },
    );
    const k = ad('k', { url: 'urn:example:definitions:k' });
    const result = apply(pd, [], {}, [k]);
    expect((contained(result, 'c') as ServiceRequest).code?.coding?.[0]?.code).toBe('local');
    expect((contained(result, 'k') as ServiceRequest).instantiatesCanonical).toEqual(['urn:example:definitions:k|1.0.0']);
  });

  it('an unresolvable definition is an error issue and the action is not applied', () => {
    const result = apply(plan([{ id: 'x', definitionCanonical: 'http://example.org/ActivityDefinition/missing' }]));
    expect(result.requestGroup.action).toBeUndefined();
    expect(result.trace[0]?.applicability).toBe('error');
    expect(result.outcome.issue[0]).toMatchObject({ severity: 'error', code: 'not-found' });
  });

  it('applies a nested PlanDefinition as a RequestGroup with intent option, and guards recursion', () => {
    const inner = plan([{ id: 'inner-a', definitionCanonical: 'http://example.org/ActivityDefinition/a' }], {
      id: 'inner',
      url: 'http://example.org/PlanDefinition/inner',
      version: '1',
    });
    const outer = plan([{ id: 'sub', definitionCanonical: 'http://example.org/PlanDefinition/inner|1' }]);
    const result = apply(outer, [], {}, [inner, ad('a')]);
    const nested = contained(result, 'sub') as RequestGroup;
    expect(nested).toMatchObject({ resourceType: 'RequestGroup', intent: 'option', instantiatesCanonical: ['http://example.org/PlanDefinition/inner|1'] });
    expect(nested.action?.[0]?.resource).toEqual({ reference: '#sub.inner-a' });
    expect((contained(result, 'sub.inner-a') as ServiceRequest).intent).toBe('option');

    const emptyInner = plan([{ id: 'never', condition: [applicable('false')] }], { id: 'empty', url: 'http://example.org/PlanDefinition/empty', version: '1' });
    const none = apply(plan([{ id: 'sub', definitionCanonical: 'http://example.org/PlanDefinition/empty|1' }]), [], {}, [emptyInner]);
    expect(none.requestGroup.action).toBeUndefined();
    expect(none.resources).toEqual([]);
    expect(none.trace[0]).toMatchObject({
      applicability: 'not-applicable',
      reason: 'not applicable: none of the actions of its nested PlanDefinition http://example.org/PlanDefinition/empty|1 applies',
    });

    const selfRef = plan([{ id: 'loop', definitionCanonical: 'http://example.org/PlanDefinition/test-plan|2.0.0' }]);
    const looped = apply(selfRef);
    expect(looped.outcome.issue[0]?.diagnostics).toMatch(/recurses/);
    expect(looped.requestGroup.action).toBeUndefined();
    expect(looped.trace[0]?.applicability).toBe('error');
  });
});

describe('other definition kinds', () => {
  it('a Questionnaire definition becomes a CPG collect-information Task carrying the Questionnaire canonical', () => {
    const q = {
      resourceType: 'Questionnaire' as const,
      id: 'q',
      url: 'http://example.org/Questionnaire/history',
      version: '1',
      status: 'active' as const,
      title: 'Fertility history',
    };
    const result = apply(plan([{ id: 'ask', definitionCanonical: 'http://example.org/Questionnaire/history|1' }]), [], {}, [q]);
    const task = contained(result, 'ask') as Task;
    expect(task.code?.coding?.[0]?.code).toBe('collect-information');
    expect(task.input?.[0]?.valueCanonical).toBe('http://example.org/Questionnaire/history|1');
    expect(task.description).toBe('Fertility history');
  });

  it('an ActivityDefinition of a kind the engine cannot build is an error, not a placeholder request', () => {
    const result = apply(plan([{ id: 'x', definitionCanonical: 'http://example.org/ActivityDefinition/odd' }]), [], {}, [
      ad('odd', { kind: 'Contract' as ActivityDefinition['kind'] }),
    ]);
    expect(result.resources).toEqual([]);
    expect(result.requestGroup.action).toBeUndefined();
    expect(result.trace[0]).toMatchObject({ applicability: 'error', reason: "not applied: its ActivityDefinition has the unsupported kind 'Contract'" });
    expect(result.outcome.issue[0]).toMatchObject({ severity: 'error', code: 'not-supported' });
  });

  it('a leaf action without a definition becomes a Task carrying its text, so the RequestGroup stays valid R4 (rqg-1)', () => {
    const result = apply(
      plan([
        { id: 'advice', title: 'Post-operative advice', textEquivalent: 'No contraception is needed after surgery.', code: [{ text: 'advice' }], timingDateTime: '2026-12-01' },
      ]),
    );
    const task = contained(result, 'advice') as Task;
    expect(task).toMatchObject({
      status: 'draft',
      intent: 'option',
      description: 'No contraception is needed after surgery.',
      code: { text: 'advice' },
      for: { reference: 'Patient/p1' },
      restriction: { period: { start: '2026-12-01', end: '2026-12-01' } },
    });
    expect(result.requestGroup.action?.[0]?.resource).toEqual({ reference: '#advice' });
    const checked = validateResources([result.carePlan!], { inferProfiles: false });
    expect(checked[0]?.outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('a definitionUri is kept as documentation and noted in the trace', () => {
    const result = apply(plan([{ id: 'u', definitionUri: 'http://example.org/some/protocol' }]));
    expect(result.requestGroup.action?.[0]?.documentation).toEqual([{ type: 'documentation', url: 'http://example.org/some/protocol' }]);
    expect(result.trace[0]?.notes.join()).toMatch(/definitionUri/);
  });
});

describe('timing, relatedAction, participants and goals', () => {
  it('turns timingAge, timingDuration and an age timingRange into dates', () => {
    const result = apply(
      plan([
        { id: 'age', timingAge: { value: 40, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' } },
        { id: 'duration', timingDuration: { value: 2, unit: 'weeks', system: 'http://unitsofmeasure.org', code: 'wk' } },
        { id: 'range', timingRange: { low: { value: 35, unit: 'years', code: 'a' }, high: { value: 40, unit: 'years', code: 'a' } } },
        { id: 'period', timingPeriod: { start: '2027-01-01' } },
      ]),
    );
    const [age, duration, range, period] = result.requestGroup.action ?? [];
    expect(age?.timingDateTime).toBe('2030-05-10');
    expect(duration?.timingDateTime).toBe('2026-12-07T09:00:00Z');
    expect(range?.timingPeriod).toEqual({ start: '2025-05-10', end: '2030-05-10' });
    expect(period?.timingPeriod).toEqual({ start: '2027-01-01' });
  });

  it('computes relatedAction offsets from the target date, including a window set by a dynamicValue', () => {
    const pd = plan([
      {
        id: 'hsg',
        input: [{ id: 'menses', type: 'Observation', codeFilter: [{ path: 'code', code: [{ system: LOCAL, code: 'menses-end-date' }] }] }],
        definitionCanonical: 'http://example.org/ActivityDefinition/hsg',
        dynamicValue: [
          { path: 'occurrencePeriod.start', expression: fp('%menses.value.ofType(dateTime).last() + 5 days') },
          { path: 'occurrencePeriod.end', expression: fp('%menses.value.ofType(dateTime).last() + 7 days') },
        ],
      },
      {
        id: 'atropine',
        definitionCanonical: 'http://example.org/ActivityDefinition/atropine',
        relatedAction: [{ actionId: 'hsg', relationship: 'before-start', offsetDuration: { value: 30, unit: 'min', code: 'min', system: 'http://unitsofmeasure.org' } }],
      },
      { id: 'follow-up', relatedAction: [{ actionId: 'hsg', relationship: 'after-end', offsetDuration: { value: 1, unit: 'month', code: 'mo' } }] },
    ]);
    const result = apply(pd, [menses('2026-11-20')], {}, [ad('hsg'), ad('atropine')]);
    expect((contained(result, 'hsg') as ServiceRequest).occurrencePeriod).toEqual({ start: '2026-11-25', end: '2026-11-27' });
    const [, atropine, followUp] = result.requestGroup.action ?? [];
    expect(atropine?.timingPeriod).toEqual({ start: '2026-11-25', end: '2026-11-27' });
    expect((contained(result, 'atropine') as ServiceRequest).occurrencePeriod).toEqual({ start: '2026-11-25', end: '2026-11-27' });
    expect(result.trace[1]?.notes.join()).toMatch(/same day/);
    expect(followUp?.timingPeriod).toEqual({ start: '2026-12-25', end: '2026-12-27' });
  });

  it('a relatedAction to a group with no date of its own uses the span of its actions', () => {
    const result = apply(
      plan([
        {
          id: 'surgery-options',
          selectionBehavior: 'exactly-one',
          action: [
            { id: 'open', timingPeriod: { start: '2026-12-03', end: '2026-12-07' } },
            { id: 'lap', timingPeriod: { start: '2026-12-04', end: '2026-12-09' } },
          ],
        },
        { id: 'admission', relatedAction: [{ actionId: 'surgery-options', relationship: 'before-start', offsetDuration: { value: 1, unit: 'day', code: 'd' } }] },
      ]),
    );
    expect(result.requestGroup.action?.[1]?.timingPeriod).toEqual({ start: '2026-12-02', end: '2026-12-08' });
  });

  it('shifts a dated target by a sub-day offset', () => {
    const result = apply(
      plan([
        { id: 'surgery', timingDateTime: '2026-12-01T10:00:00+08:00' },
        { id: 'premed', relatedAction: [{ actionId: 'surgery', relationship: 'before-start', offsetDuration: { value: 30, unit: 'min', code: 'min' } }] },
      ]),
    );
    expect(result.requestGroup.action?.[1]?.timingDateTime).toBe('2026-12-01T09:30:00+08:00');
  });

  it('guards relatedAction cycles', () => {
    const result = apply(
      plan([
        { id: 'a', relatedAction: [{ actionId: 'b', relationship: 'after' }] },
        { id: 'b', relatedAction: [{ actionId: 'a', relationship: 'after' }] },
      ]),
    );
    expect(result.requestGroup.action?.map((a) => a.timingDateTime)).toEqual([undefined, undefined]);
    expect(result.outcome.issue.some((i) => /cycle/.test(i.diagnostics ?? ''))).toBe(true);
  });

  it('resolves participants to references', () => {
    const pd = plan([{ id: 'a', participant: [{ type: 'patient' }, { type: 'practitioner' }, { type: 'device' }] }]);
    const result = applyPlanDefinition(
      pd,
      { subject: patient, data: buildPatientData([patient]), practitioner: { resourceType: 'Practitioner', id: 'dr1' } },
      { now: NOW },
      compileKnowledge([pd]),
    );
    expect(result.requestGroup.action?.[0]?.participant).toEqual([{ reference: 'Patient/p1' }, { reference: 'Practitioner/dr1' }]);
    expect(result.trace[0]?.notes.join()).toMatch(/device not resolved/);
  });

  it('creates Goals for applied actions and links the requests with pertainsToGoal', () => {
    const pd = plan(
      [
        { id: 'surgery', goalId: ['pregnancy'], definitionCanonical: 'http://example.org/ActivityDefinition/a' },
        { id: 'never', goalId: ['unused'], condition: [applicable('false')] },
      ],
      {
        goal: [
          { id: 'pregnancy', description: { text: 'Pregnancy within one year' }, target: [{ due: { value: 1, unit: 'year', code: 'a' } }] },
          { id: 'unused', description: { text: 'Not referenced by an applied action' } },
        ],
      },
    );
    const result = apply(pd, [], {}, [ad('a')]);
    const goal = contained(result, 'goal-pregnancy') as Goal;
    expect(goal).toMatchObject({ lifecycleStatus: 'proposed', subject: { reference: 'Patient/p1' }, target: [{ dueDate: '2027-11-23' }] });
    expect(result.carePlan?.goal).toEqual([{ reference: '#goal-pregnancy' }]);
    expect((contained(result, 'surgery') as ServiceRequest).extension).toContainEqual({
      url: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal',
      valueReference: { reference: '#goal-pregnancy' },
    });
  });
});

describe('dynamic values', () => {
  it('%resource and %rootResource are the ActivityDefinition in its dynamic values and the plan in the action ones, whatever the other variables', () => {
    const def = ad('a', {
      dynamicValue: [
        { path: 'note.text', expression: fp("%resource.id + '/' + %rootResource.id") },
        { path: 'priority', expression: fp("iif(%`resource`.url.contains('ActivityDefinition'), 'urgent', 'routine')") },
        { path: 'occurrenceDateTime', expression: fp('today()') },
      ],
    });
    const pd = plan([
      {
        id: 'a1',
        input: [{ id: 'bound', type: 'Observation' }],
        definitionCanonical: 'http://example.org/ActivityDefinition/a',
        dynamicValue: [{ path: 'action.description', expression: fp("%resource.id + ' ' + %bound.count().toString()") }],
      },
    ]);
    const result = apply(pd, [], {}, [def]);
    const request = contained(result, result.requestGroup.action![0]!.resource!.reference!.slice(1)) as ServiceRequest;
    expect(request.note).toEqual([{ text: 'a/a' }]);
    expect(request.priority).toBe('urgent');
    expect(request.occurrenceDateTime).toBe('2026-11-23');
    expect(result.requestGroup.action![0]!.description).toBe('test-plan 0');
  });

  it('applies the ActivityDefinition dynamicValues first, then the PlanDefinition action ones, incl. action. paths', () => {
    const def = ad('a', {
      dynamicValue: [
        { path: 'priority', expression: fp("'routine'") },
        { path: 'occurrencePeriod.start', expression: fp('today()') },
        { path: 'action.title', expression: fp("'title from the AD'") },
      ],
    });
    const pd = plan([
      {
        id: 'a1',
        definitionCanonical: 'http://example.org/ActivityDefinition/a',
        dynamicValue: [
          { path: 'priority', expression: fp("'urgent'") },
          { path: 'action.description', expression: fp("'from the plan'") },
        ],
      },
    ]);
    const result = apply(pd, [], {}, [def]);
    const request = contained(result, 'a1') as ServiceRequest;
    expect(request.priority).toBe('urgent');
    expect(request.occurrencePeriod?.start).toBe('2026-11-23');
    expect(result.requestGroup.action?.[0]?.description).toBe('from the plan');
    expect(result.requestGroup.action?.[0]?.title).toBe('title from the AD');
    expect(result.outcome.issue[0]?.severity).toBe('information');
  });

  it('sets supportingInfo from resources and doNotPerform for a contraindicated procedure (an allergy is not an R4 reasonReference target)', () => {
    const allergy = {
      resourceType: 'AllergyIntolerance' as const,
      id: 'iodine',
      patient: { reference: 'Patient/p1' },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '426722004' }] },
    };
    const pd = plan([
      {
        id: 'hsg-ci',
        input: [{ id: 'iodineAllergy', type: 'AllergyIntolerance', codeFilter: [{ path: 'code', code: [{ system: 'http://snomed.info/sct', code: '426722004' }] }] }],
        condition: [applicable('%iodineAllergy.exists()')],
        definitionCanonical: 'http://example.org/ActivityDefinition/hsg',
        dynamicValue: [
          { path: 'doNotPerform', expression: fp('true') },
          { path: 'supportingInfo', expression: fp('%iodineAllergy') },
        ],
      },
    ]);
    const request = contained(apply(pd, [allergy], {}, [ad('hsg')]), 'hsg-ci') as ServiceRequest;
    expect(request.doNotPerform).toBe(true);
    expect(request.supportingInfo).toEqual([{ reference: 'AllergyIntolerance/iodine' }]);
  });
});

describe('CPG / R5 output and trace', () => {
  it('returns a Bundle with the RequestGroup first and urn:uuid references that resolve', () => {
    const result = apply(plan([{ id: 'a1', definitionCanonical: 'http://example.org/ActivityDefinition/a' }]), [], { mode: 'cpg' }, [ad('a')]);
    const bundle = result.bundle!;
    expect(result.carePlan).toBeUndefined();
    expect(bundle.type).toBe('collection');
    expect(bundle.entry?.[0]?.resource?.resourceType).toBe('RequestGroup');
    const ref = (bundle.entry?.[0]?.resource as RequestGroup).action?.[0]?.resource?.reference;
    expect(ref).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(bundle.entry?.find((e) => e.fullUrl === ref)?.resource?.resourceType).toBe('ServiceRequest');
    expect(JSON.stringify(apply(plan([{ id: 'a1', definitionCanonical: 'http://example.org/ActivityDefinition/a' }]), [], { mode: 'cpg' }, [ad('a')]).bundle)).toBe(
      JSON.stringify(bundle),
    );
  });

  it('puts the trace into the RequestGroup only when asked', () => {
    const pd = plan([{ id: 'yes' }, { id: 'no', condition: [applicable('false')] }]);
    expect(apply(pd).requestGroup.extension).toBeUndefined();
    const traced = apply(pd, [], { traceExtension: true }).requestGroup.extension ?? [];
    expect(traced).toHaveLength(2);
    expect(traced[1]?.extension).toContainEqual({ url: 'applicability', valueCode: 'not-applicable' });
    expect(traced[1]?.extension).toContainEqual({ url: 'reason', valueString: 'not applicable: condition "false" is false' });
  });
});

describe('one request per activity (SAFE-6)', () => {
  const lab = ad('lab');
  const dated = (id: string, start: string, end: string, reason?: string): PlanDefinitionAction => ({
    id,
    definitionCanonical: 'http://example.org/ActivityDefinition/lab|1.0.0',
    dynamicValue: [
      { path: 'occurrencePeriod.start', expression: fp(`'${start}'`) },
      { path: 'occurrencePeriod.end', expression: fp(`'${end}'`) },
      ...(reason ? [{ path: 'reasonReference[0].reference', expression: fp(`'${reason}'`) }] : []),
    ],
  });
  const requestsOf = (result: ApplyResult) => (result.carePlan?.contained ?? []).filter((r): r is ServiceRequest => r.resourceType === 'ServiceRequest');
  const references = (actions: RequestGroupAction[] | undefined): string[] =>
    (actions ?? []).flatMap((a) => [...(a.resource?.reference ? [a.resource.reference] : []), ...references(a.action)]);

  it('merges two uses of one ActivityDefinition into one request dated where both allow, both actions pointing to it', () => {
    const result = apply(plan([dated('a', '2026-11-23', '2026-11-26', 'Condition/x'), dated('b', '2026-11-24', '2026-11-28', 'Condition/y')]), [], {}, [lab]);
    const requests = requestsOf(result);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.occurrencePeriod).toEqual({ start: '2026-11-24', end: '2026-11-26' });
    expect(requests[0]!.reasonReference?.map((r) => r.reference)).toEqual(['Condition/x', 'Condition/y']);
    const group = contained(result, 'requestgroup') as RequestGroup;
    expect(new Set(references(group.action))).toEqual(new Set([`#${requests[0]!.id}`]));
    expect(references(group.action)).toHaveLength(2);
    expect(validateResources([result.carePlan!]).flatMap((v) => v.outcome.issue.filter((i) => i.severity === 'error'))).toEqual([]);
  });

  it('keeps uses whose dates do not overlap apart, and never merges do-not-perform requests', () => {
    expect(requestsOf(apply(plan([dated('a', '2026-11-23', '2026-11-24'), dated('b', '2026-11-26', '2026-11-28')]), [], {}, [lab]))).toHaveLength(2);
    const dnp = (id: string): PlanDefinitionAction => ({
      id,
      definitionCanonical: 'http://example.org/ActivityDefinition/lab|1.0.0',
      dynamicValue: [{ path: 'doNotPerform', expression: fp('true') }],
    });
    expect(requestsOf(apply(plan([dnp('a'), dnp('b')]), [], {}, [lab]))).toHaveLength(2);
  });
});
