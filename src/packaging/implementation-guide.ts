/**
 * The ImplementationGuide resource of the FHIR package: what IG tooling (SUSHI, the IG publisher,
 * package explorers) reads to know the package's artifacts and what it builds on. Generated from
 * the artifacts, so it lists every one and cannot drift. Pure.
 */
import type { ImplementationGuide, Resource } from '@medplum/fhirtypes';

/** The FHIR packages the artifacts build on, with the versions they were written against. */
export const PACKAGE_DEPENDENCIES = {
  'hl7.fhir.r4.core': '4.0.1',
  /** CPG-on-FHIR: the profiles in meta.profile, knowledgeCapability, collect-information Tasks. */
  'hl7.fhir.uv.cpg': '2.0.0',
  /** HL7 terminology (CPG activity types, v3 and v2 code systems the artifacts use). */
  'hl7.terminology.r4': '6.5.0',
} as const;

const DEPENDENCY_IG: Record<string, string> = {
  'hl7.fhir.uv.cpg': 'http://hl7.org/fhir/uv/cpg/ImplementationGuide/hl7.fhir.uv.cpg',
  'hl7.terminology.r4': 'http://terminology.hl7.org/ImplementationGuide/hl7.terminology',
};

export interface GuideFacts {
  packageId: string;
  version: string;
  canonical: string;
  title: string;
  publisher: string;
  license: string;
}

type Described = Resource & { id?: string; title?: string; name?: string; description?: string };

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function implementationGuide(resources: readonly Resource[], facts: GuideFacts): ImplementationGuide {
  const id = facts.packageId.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 64);
  const listed = (resources as readonly Described[]).map((r) => ({
    reference: { reference: `${r.resourceType}/${r.id ?? ''}` },
    name: r.title ?? r.name ?? `${r.resourceType}/${r.id ?? ''}`,
    exampleBoolean: false,
  }));
  const rows = listed.map((r) => `<li>${escapeXml(r.reference.reference)}: ${escapeXml(r.name)}</li>`).join('');
  return {
    resourceType: 'ImplementationGuide',
    id,
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXml(facts.title)} (package ${escapeXml(facts.packageId)}#${escapeXml(facts.version)}): ${listed.length} artifacts, built on FHIR R4 4.0.1, CPG-on-FHIR and HL7 terminology.</p><ul>${rows}</ul></div>`,
    },
    url: `${facts.canonical}/ImplementationGuide/${id}`,
    version: facts.version,
    name: facts.title.replace(/[^A-Za-z0-9]/g, ''),
    title: facts.title,
    status: 'draft',
    publisher: facts.publisher,
    packageId: facts.packageId,
    license: facts.license as ImplementationGuide['license'],
    fhirVersion: ['4.0.1'],
    dependsOn: Object.entries(PACKAGE_DEPENDENCIES)
      .filter(([packageId]) => packageId in DEPENDENCY_IG)
      .map(([packageId, version]) => ({ id: packageId.replace(/\./g, '_'), uri: DEPENDENCY_IG[packageId]!, packageId, version })),
    definition: { resource: listed },
  };
}
