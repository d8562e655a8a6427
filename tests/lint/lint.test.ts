import { describe, expect, it } from 'vitest';
import type { Library, OperationOutcome, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { checkFhirPath, checkSimplePath, lintArtifacts } from '../../src/lint/index.ts';
import { typeNamed } from '../../src/lint/fhir-model.ts';
import { KNOWLEDGE } from '../support/cli.ts';

const artifacts = readArtifacts([KNOWLEDGE]).map((a) => ({ ...a, file: a.file.split('/').pop()! }));
const plan = () => structuredClone(artifacts.find((a) => a.resource.resourceType === 'PlanDefinition')!.resource) as PlanDefinition;

function lintWith(changed: Resource, extra: Resource[] = []): OperationOutcome {
  const others = artifacts.filter((a) => a.resource.resourceType !== changed.resourceType || a.resource.id !== changed.id);
  const all = [...others, { file: 'changed.json', resource: changed }, ...extra.map((r, i) => ({ file: `extra${i}.json`, resource: r }))];
  return lintArtifacts(all, compileKnowledge(all.map((a) => a.resource)));
}

const messages = (o: OperationOutcome, severity = 'error') =>
  o.issue
    .filter((i) => i.severity === severity)
    // diagnostics = "<file>: <path>: <message>"; expression = "<file>#<path>"
    .map((i) => `${i.expression?.[0]} ${i.diagnostics?.slice(i.expression![0]!.length + 3)}`);

function withCondition(expression: string, language = 'text/fhirpath'): PlanDefinition {
  const p = plan();
  p.action![0]!.condition = [{ kind: 'applicability', expression: { language: language as 'text/fhirpath', expression } }];
  return p;
}

describe('lintArtifacts', () => {
  it('passes the fixture knowledge without findings', () => {
    const result = lintArtifacts(artifacts, compileKnowledge(artifacts.map((a) => a.resource)));
    expect(result.issue).toEqual([{ severity: 'information', code: 'informational', diagnostics: '4 artifacts checked, no problems found' }]);
  });

  it.each([
    ['%pregnancyTests.vlaue.exists()', /Observation has no element 'vlaue' \(did you mean 'value'\?\)/],
    ['%pregnancyTests.valueQuantity.foo.exists()', /Quantity has no element 'foo'/],
    ['%pregnancyTests.value.ofType(Money).exists()', /ofType\(Money\) can never match: Observation.value is one of/],
    ['Observation.valueQuantity.value > 5', /'Observation' at the start of the expression filters the focus \(PlanDefinition\)/],
    ['%patient.birthDat <= today()', /Patient has no element 'birthDat'/],
    ['%undefinedInput.exists()', /%undefinedInput is not bound here/],
    ['%pregnancyTests.frobnicate()', /frobnicate\(\) is not a FHIRPath function/],
    ['%pregnancyTests.where(', /FHIRPath does not parse/],
  ])('catches %s', (expression, message) => {
    const result = lintWith(withCondition(expression));
    expect(messages(result).join('\n')).toMatch(message);
    expect(result.issue[0]!.expression![0]).toBe('changed.json#PlanDefinition.action[0].condition[0].expression.expression');
  });

  it.each([
    "%pregnancyTests.where(code.coding.where(system = %loinc and code = '2106-3').exists()).value.ofType(CodeableConcept).coding.code = '260385009'",
    "%patient.birthDate <= today() - 40 years and %patient.gender = 'female'",
    '%pregnancyTests.select(effective.ofType(dateTime)).max() > @2026-01-01',
    '(%pregnancyTests | %pregnancyTests).first().status.exists()',
    "%pregnancyTests.where($this.status = 'final').count() > 0",
    "%pregnancyTests.extension('http://x').value.exists()",
  ])('accepts valid expression %s', (expression) => {
    expect(messages(lintWith(withCondition(expression)))).toEqual([]);
  });

  it('binds R4 variable extensions (plan and action) for the expressions below them, and checks their own expressions', () => {
    const variable = (name: string | undefined, expression: string) => ({
      url: 'http://hl7.org/fhir/StructureDefinition/variable',
      valueExpression: { language: 'text/fhirpath' as const, ...(name ? { name } : {}), expression },
    });
    const p = withCondition('%planLevel and %actionLevel');
    p.extension = [variable('planLevel', "%patient.gender = 'female'")];
    p.action![0]!.extension = [variable('actionLevel', '%pregnancyTests.exists()')];
    expect(messages(lintWith(p))).toEqual([]);
    p.action![0]!.extension = [variable('actionLevel', '%pregnancyTests.vlaue.exists()'), variable(undefined, 'true')];
    const found = messages(lintWith(p)).join('\n');
    expect(found).toMatch(/no element 'vlaue'/);
    expect(found).toMatch(/needs valueExpression.name/);
  });

  it('flags unsupported expression languages', () => {
    expect(messages(lintWith(withCondition('X', 'text/cql'))).join()).toMatch(/condition\[0\]\.expression\.language expression language 'text\/cql' is not supported/);
  });

  it('checks dynamicValue paths against the target request type', () => {
    const p = plan();
    p.action![0]!.dynamicValue = [
      { path: 'occurrence.ofType(Period).strt', expression: { language: 'text/fhirpath', expression: '%now' } },
      { path: 'occurrencePeriod.start', expression: { language: 'text/fhirpath', expression: '%now' } },
      { path: 'note[0].text', expression: { language: 'text/fhirpath', expression: "'x'" } },
      { path: 'action.title', expression: { language: 'text/fhirpath', expression: "'x'" } },
      { path: 'reasonReference.where(x)', expression: { language: 'text/fhirpath', expression: "'x'" } },
      { path: 'occurrence.start', expression: { language: 'text/fhirpath', expression: '%now' } },
    ];
    const found = messages(lintWith(p));
    expect(found).toEqual([
      expect.stringMatching(/dynamicValue\[0\]\.path 'occurrence.ofType\(Period\).strt': Period has no element 'strt' \(did you mean 'start'\?\)/),
      // The engine's own parser reads the path, so lint reports what the engine would refuse, in its words.
      expect.stringMatching(/dynamicValue\[4\]\.path 'reasonReference.where\(x\)' is not a Simple FHIRPath path: the function where\(\) is not allowed/),
      expect.stringMatching(/dynamicValue\[5\]\.path 'occurrence.start': choose the type of ServiceRequest.occurrence with ofType/),
    ]);
  });

  it('resolves canonicals, with versions, and ValueSets in codeFilter', () => {
    const p = plan();
    p.action![0]!.definitionCanonical = 'http://example.org/fhir/ActivityDefinition/demo-imaging|2.0.0';
    p.action![0]!.input![0]!.codeFilter![0]!.valueSet = 'http://example.org/fhir/ValueSet/unknown';
    const found = messages(lintWith(p)).join('\n');
    expect(found).toMatch(/definitionCanonical canonical .*demo-imaging\|2.0.0 does not resolve: version 2.0.0 is not in the knowledge \(found .*\|1.0.0\)/);
    expect(found).toMatch(/codeFilter\[0\]\.valueSet canonical http:\/\/example.org\/fhir\/ValueSet\/unknown does not resolve/);
  });

  it('checks codeFilter codes against our CodeSystem and ValueSets', () => {
    const p = plan();
    p.action![0]!.input![0]!.codeFilter!.push(
      { path: 'code', code: [{ system: 'http://example.org/fhir/CodeSystem/demo-codes', code: 'nope' }] },
      {
        path: 'code',
        code: [
          { system: 'http://loinc.org', code: '2106-3' },
          { system: 'http://loinc.org', code: '0000-0' },
        ],
      },
      { path: 'cdoe', valueSet: 'http://example.org/fhir/ValueSet/pregnancy-tests|1.0.0', code: [{ system: 'http://loinc.org', code: '9999-9' }] },
    );
    const result = lintWith(p);
    expect(messages(result)).toEqual([
      expect.stringMatching(/codeFilter\[1\]\.code\[0\] .*code 'nope' is not defined in our CodeSystem/),
      expect.stringMatching(/codeFilter\[3\]\.code\[0\] .*http:\/\/loinc.org\|9999-9 is not in .*pregnancy-tests/),
      expect.stringMatching(/codeFilter\[3\]\.path .*Observation has no element 'cdoe'/),
    ]);
    expect(messages(result, 'warning')).toEqual([expect.stringMatching(/codeFilter\[2\]\.code\[1\] .*http:\/\/loinc.org\|0000-0 is in none of our ValueSets/)]);
  });

  it('checks action ids, relatedAction targets and cycles, goalIds and documentation', () => {
    const p = plan();
    const doc = p.action![0]!.documentation;
    p.action!.push(
      { id: 'b', title: 'b', documentation: doc, relatedAction: [{ actionId: 'c', relationship: 'before' }] },
      {
        id: 'c',
        title: 'c',
        documentation: doc,
        relatedAction: [
          { actionId: 'b', relationship: 'after' },
          { actionId: 'ghost', relationship: 'after' },
        ],
      },
      { id: 'imaging', title: 'dup', goalId: ['no-goal'] },
    );
    const found = messages(lintWith(p));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/action\[1\]\.relatedAction relatedAction cycle: b -> c -> b/),
        expect.stringMatching(/action\[2\]\.relatedAction\[1\]\.actionId relatedAction target 'ghost' is not an action of this plan/),
        expect.stringMatching(/action\[3\]\.id action id 'imaging' is also used at PlanDefinition\.action\[0\]/),
        expect.stringMatching(/action\[3\]\.goalId\[0\] goalId 'no-goal' names no goal/),
        expect.stringMatching(/action\[3\]\.documentation action 'imaging' has no documentation/),
      ]),
    );
  });

  it('finds a plan that includes itself, and nested plans that return to where they started', () => {
    const self = plan();
    const doc = self.action![0]!.documentation;
    self.action![0]!.action = [{ id: 'again', title: 'again', documentation: doc, definitionCanonical: `${self.url!}|${self.version!}` }];
    expect(messages(lintWith(self))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^changed\.json#PlanDefinition\.action\[0\]\.action\[0\]\.definitionCanonical the plan includes itself \(/)]),
    );

    const a = plan();
    const b: PlanDefinition = { ...plan(), id: 'plan-b', url: 'http://example.org/fhir/PlanDefinition/plan-b', version: '1' };
    a.action!.push({ id: 'to-b', title: 'b', documentation: doc, definitionCanonical: `${b.url!}|1` });
    b.action = [{ id: 'to-a', title: 'a', documentation: doc, definitionCanonical: `${a.url!}|${a.version!}` }];
    const cycle = messages(lintWith(a, [b])).filter((m) => m.includes('cycle'));
    expect(cycle).toHaveLength(1);
    expect(cycle[0]).toMatch(
      /^extra0\.json#PlanDefinition\.action\[0\]\.definitionCanonical nested plans form a cycle: \S+demo-protocol\|1\.0\.0 -> \S+plan-b\|1 -> \S+demo-protocol\|1\.0\.0:/,
    );
  });

  it('finds Libraries whose depends-on chain returns to where it started, directly, between Libraries, and through a plan', () => {
    const library = (name: string, dependsOn: string[]): Library => ({
      resourceType: 'Library',
      id: name,
      url: `http://example.org/fhir/Library/${name}`,
      version: '1',
      status: 'draft',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'logic-library' }] },
      relatedArtifact: dependsOn.map((resource) => ({ type: 'depends-on', resource })),
    });
    const cycles = (o: OperationOutcome) => messages(o).filter((m) => /cycle|itself/.test(m));

    const self = library('self', ['http://example.org/fhir/Library/self|1']);
    expect(cycles(lintWith(plan(), [self]))).toEqual([
      expect.stringMatching(
        /^extra0\.json#Library\.relatedArtifact\[0\]\.resource the artifact depends on itself \(\S+Library\/self\|1\): no order loads each artifact before what it depends on$/,
      ),
    ]);

    const a = library('a', ['http://example.org/fhir/Library/b|1']);
    const b = library('b', ['http://example.org/fhir/Library/c']);
    const c = library('c', ['http://example.org/fhir/Library/a|1']);
    const three = cycles(lintWith(plan(), [c, b, a]));
    expect(three).toEqual([
      expect.stringMatching(/^extra0\.json#Library\.relatedArtifact\[0\]\.resource dependencies form a cycle: \S+\/a\|1 -> \S+\/b\|1 -> \S+\/c\|1 -> \S+\/a\|1:/),
    ]);
    // The same cycle whatever the order of the files.
    expect(cycles(lintWith(plan(), [a, b, c]))).toEqual([three[0]!.replace('extra0', 'extra2')]);

    // plan -> library -> Library -> back to the plan
    const p = plan();
    const lib = library('logic', [`${p.url!}|${p.version!}`]);
    p.library = [`${lib.url!}|1`];
    expect(cycles(lintWith(p, [lib]))).toEqual([
      expect.stringMatching(/^changed\.json#PlanDefinition\.library\[0\] dependencies form a cycle: \S+Library\/logic\|1 -> \S+demo-protocol\|1\.0\.0 -> \S+Library\/logic\|1:/),
    ]);
  });

  it('Libraries that depend on each other without a cycle, or another relatedArtifact type, are no finding', () => {
    const base = {
      resourceType: 'Library',
      version: '1',
      status: 'draft',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'logic-library' }] },
    } satisfies Library;
    const a: Library = { ...base, id: 'a', url: 'http://example.org/fhir/Library/a', relatedArtifact: [{ type: 'depends-on', resource: 'http://example.org/fhir/Library/b|1' }] };
    const b: Library = { ...base, id: 'b', url: 'http://example.org/fhir/Library/b', relatedArtifact: [{ type: 'citation', resource: 'http://example.org/fhir/Library/a|1' }] };
    const p = plan();
    p.library = ['http://example.org/fhir/Library/a|1', 'http://example.org/fhir/Library/b|1'];
    expect(messages(lintWith(p, [a, b])).filter((m) => /cycle|itself/.test(m))).toEqual([]);
  });

  it('finds duplicate ids and canonicals across files', () => {
    const copy = { ...plan(), id: 'other-id' };
    const result = lintWith(plan(), [copy]);
    expect(messages(result).join('\n')).toMatch(/extra0.json#PlanDefinition.url canonical .*demo-protocol\|1.0.0 is also defined in changed.json/);
  });

  it('checks ActivityDefinition dynamicValues in the scope of the actions that use them', () => {
    const ad = structuredClone(artifacts.find((a) => a.resource.resourceType === 'ActivityDefinition')!.resource) as Resource & { dynamicValue?: unknown[] };
    ad.dynamicValue = [
      { path: 'reasonReference', expression: { language: 'text/fhirpath', expression: '%pregnancyTests' } },
      { path: 'bodySite', expression: { language: 'text/fhirpath', expression: '%notAnInput' } },
      { path: 'bodySyte', expression: { language: 'text/fhirpath', expression: "'x'" } },
    ];
    const found = messages(lintWith(ad));
    expect(found).toEqual([
      expect.stringMatching(/ActivityDefinition.dynamicValue\[1\]\.expression\.expression %notAnInput is not bound/),
      expect.stringMatching(/ActivityDefinition.dynamicValue\[2\]\.path 'bodySyte': ServiceRequest has no element 'bodySyte' \(did you mean 'bodySite'\?\)/),
    ]);
  });
});

describe('checkFhirPath and checkSimplePath', () => {
  const scope = { variables: new Map([['obs', typeNamed('Observation')!]]), focus: typeNamed('PlanDefinition'), strictVariables: true };
  const compiled = (text: string) => compileKnowledge([]).expression(text);
  it('types through where/first/ofType/as', () => {
    expect(checkFhirPath("%obs.where(status = 'final').first().value.ofType(Quantity).unit", scope, compiled)).toEqual([]);
    expect(checkFhirPath('(%obs.value as Quantity).unti', scope, compiled)[0]?.message).toMatch(/Quantity has no element 'unti'/);
    expect(checkFhirPath('%obs.component.value.ofType(Quantity).value', scope, compiled)).toEqual([]);
  });
  it('reports the syntax error the knowledge found when it compiled the expression', () => {
    const broken = "%obs.where(status = 'final'";
    const plan: PlanDefinition = {
      resourceType: 'PlanDefinition',
      id: 'p',
      url: 'urn:p',
      status: 'draft',
      action: [{ condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath', expression: broken } }] }],
    };
    const knowledge = compileKnowledge([plan]);
    const [finding] = knowledge.findings;
    expect(finding).toMatchObject({ resource: 'PlanDefinition/p', path: 'action[0].condition[0].expression' });
    const [problem] = checkFhirPath(broken, scope, (text) => knowledge.expression(text));
    expect(problem?.message).toBe(`FHIRPath does not parse: ${finding!.message.split('\n')[0]}`);
  });
  it('accepts extension(url).value and choice-typed paths', () => {
    expect(checkSimplePath("extension('http://x').valueString", 'ServiceRequest')).toEqual([]);
    expect(checkSimplePath('occurrence.ofType(Timing).repeat.boundsPeriod.end', 'ServiceRequest')).toEqual([]);
    expect(checkSimplePath('dosageInstruction[0].text', 'MedicationRequest')).toEqual([]);
  });
});
