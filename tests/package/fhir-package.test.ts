/** The FHIR package of the real artifacts: manifest dependencies and author, .index.json v2, an ImplementationGuide listing every artifact. */
import { describe, expect, it } from 'vitest';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { buildFhirPackage } from '../../src/packaging/fhir-package.ts';
import { validateResources } from '../../src/validation/validate.ts';

describe('FHIR package of the artifacts', () => {
  const artifacts = readArtifacts();
  const files = new Map(
    buildFhirPackage(artifacts, { name: 'org.infertility-protocols.r4', version: '0.1.0' }).map((f) => [f.name, JSON.parse(f.content.toString('utf8')) as Record<string, unknown>]),
  );

  it('the manifest names its dependencies (R4 core, CPG, HL7 terminology) and an author', () => {
    const manifest = files.get('package/package.json')!;
    expect(manifest.dependencies).toEqual({ 'hl7.fhir.r4.core': '4.0.1', 'hl7.fhir.uv.cpg': '2.0.0', 'hl7.terminology.r4': '6.5.0' });
    expect(manifest.author).toBe('infertility-protocols');
    expect(manifest.canonical).toBe('http://infertility-protocols.org/fhir');
  });

  it('.index.json is version 2: CodeSystems carry content, StructureDefinitions derivation', () => {
    const index = files.get('package/.index.json') as { 'index-version': number; files: Record<string, string>[] };
    expect(index['index-version']).toBe(2);
    const codeSystems = index.files.filter((f) => f.resourceType === 'CodeSystem');
    expect(codeSystems.length).toBeGreaterThan(0);
    for (const cs of codeSystems) expect(['complete', 'fragment', 'example', 'supplement', 'not-present']).toContain(cs.content);
    for (const sd of index.files.filter((f) => f.resourceType === 'StructureDefinition')) expect(['constraint', 'specialization']).toContain(sd.derivation);
  });

  it('an ImplementationGuide lists every artifact, depends on CPG and terminology, and is valid R4', () => {
    const guideFile = [...files.keys()].find((n) => n.startsWith('package/ImplementationGuide-'))!;
    const guide = files.get(guideFile) as {
      resourceType: 'ImplementationGuide';
      packageId: string;
      dependsOn: { packageId: string }[];
      definition: { resource: { reference: { reference: string } }[] };
    };
    expect(guide.packageId).toBe('org.infertility-protocols.r4');
    expect(guide.dependsOn.map((d) => d.packageId)).toEqual(['hl7.fhir.uv.cpg', 'hl7.terminology.r4']);
    const listed = guide.definition.resource.map((r) => r.reference.reference).sort();
    const expected = artifacts.map((a) => `${a.resource.resourceType}/${a.resource.id ?? ''}`).sort();
    expect(listed).toEqual(expected);
    const [result] = validateResources([guide as never]);
    expect(result!.outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
  });
});
