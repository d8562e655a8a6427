/** The shareable-content rules: every shipped knowledge artifact follows them, and lint says when one does not. */
import type { PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { checkContentRules } from '../../src/lint/content-rules.ts';
import type { Finding, FindingSink } from '../../src/lint/findings.ts';

function findingsOf(artifacts: { file: string; resource: Resource }[]): Finding[] {
  const found: Finding[] = [];
  const sink: FindingSink = { add: (severity, code, file, path, message) => found.push({ severity, code, file, path, message }) };
  checkContentRules(sink, artifacts);
  return found;
}

const KNOWLEDGE = ['PlanDefinition', 'ActivityDefinition', 'ValueSet', 'CodeSystem'];

describe('content rules', () => {
  const shipped = readArtifacts().filter((a) => KNOWLEDGE.includes(a.resource.resourceType));

  it('every shipped PlanDefinition, ActivityDefinition, ValueSet and CodeSystem is declared shareable and follows the rules', () => {
    expect(shipped.length).toBeGreaterThan(80);
    for (const { file, resource } of shipped) expect((resource.meta?.profile ?? []).length, file).toBeGreaterThan(0);
    expect(findingsOf(shipped)).toEqual([]);
  });

  it('names what a shareable artifact lacks: narrative, copyright statement, CPG profile, capability, contact', () => {
    const plan = structuredClone(shipped.find((a) => a.resource.resourceType === 'PlanDefinition')!);
    const stripped = plan.resource as Resource & Record<string, unknown>;
    stripped.text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"></div>' };
    stripped.copyright = 'Apache-2.0';
    delete stripped.contact;
    stripped.meta = { profile: ['http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-shareableplandefinition'] };
    stripped.extension = (stripped.extension as { url: string; valueCode?: string }[]).filter((e) => e.valueCode !== 'executable');
    const messages = findingsOf([plan]).map((f) => `${f.path}: ${f.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'PlanDefinition.text: no narrative: text.div must say in words what the artifact holds',
        'PlanDefinition.copyright: uses SNOMED CT codes but the copyright does not carry the SNOMED CT statement',
        'PlanDefinition.contact: no contact (shareable content names it)',
        'PlanDefinition.meta.profile: does not claim http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-computableplandefinition',
        'PlanDefinition.extension: knowledgeCapability executable missing',
      ]),
    );
    expect(findingsOf([plan]).every((f) => f.severity === 'warning')).toBe(true);
  });

  it('every rule-bearing action cites its rule with a source and a quote', () => {
    const plan = structuredClone(shipped.find((a) => a.resource.resourceType === 'PlanDefinition' && a.resource.id === 'hysterosalpingography')!);
    const [first] = (plan.resource as PlanDefinition).action!;
    const citations = first!.documentation!.filter((d) => d.type === 'citation');
    expect(citations.length).toBeGreaterThan(1);
    // The first citation loses its quote (the old `file: "quote"` form), the second its source;
    // a nested action with a condition loses every citation.
    citations[0]!.citation = '001_77e565344cb021a4.txt: "(1) Infertility"';
    delete citations[1]!.display;
    const nested = first!.action!.find((a) => a.condition?.length)!;
    nested.documentation = (nested.documentation ?? []).filter((d) => d.type !== 'citation');
    const messages = findingsOf([plan]).map((f) => `${f.path}: ${f.message}`);
    expect(messages).toEqual([
      `PlanDefinition.action[0].documentation[0]: citation 1 of action ${first!.id} does not quote its source (a blockquote in citation)`,
      `PlanDefinition.action[0].documentation[1]: citation 2 of action ${first!.id} has no display (the source document and section)`,
      `PlanDefinition.action[0].action[${first!.action!.indexOf(nested)}].documentation: action ${nested.id} has no citation of the rule it encodes (type citation: label, source, quote)`,
    ]);
  });
});
