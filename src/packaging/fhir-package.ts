/**
 * A FHIR NPM package of the artifacts (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification):
 * `package/package.json`, `package/.index.json` and one `package/<Type>-<id>.json` per resource -
 * the format FHIR servers (HAPI's package installer, Medplum, Firely) and IG tooling load.
 * Pure: artifacts in, files out; the same artifacts give the same bytes.
 */
import type { Resource } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import type { LoadedArtifact } from '../knowledge/load-artifacts.ts';
import { implementationGuide, PACKAGE_DEPENDENCIES } from './implementation-guide.ts';
import type { TarFile } from './tar.ts';

export interface PackageManifest {
  name: string;
  version: string;
  description?: string;
  canonical?: string;
  license?: string;
  author?: string;
}

type Described = Resource & {
  url?: string;
  version?: string;
  kind?: string;
  type?: unknown;
  id?: string;
  derivation?: string;
  content?: string;
  supplements?: string;
  publisher?: string;
};

const NAME = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/;

/** The longest common `scheme://host/path/` of the artifacts' urls, as the package canonical. */
export function commonCanonical(resources: readonly Described[]): string | undefined {
  const urls = resources.map((r) => r.url).filter((u): u is string => Boolean(u));
  if (urls.length === 0) return undefined;
  let prefix = urls[0]!;
  for (const u of urls) while (!u.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = prefix.replace(/\/(StructureDefinition|ValueSet|CodeSystem|PlanDefinition|ActivityDefinition|Library)?\/?[^/]*$/, '');
  return /^https?:\/\/[^/]+/.test(cut) ? cut : undefined;
}

function fileName(r: Described): string {
  return `${r.resourceType}-${r.id}.json`;
}

export function buildFhirPackage(artifacts: readonly LoadedArtifact[], manifest: PackageManifest): TarFile[] {
  if (!NAME.test(manifest.name)) {
    throw new OperationOutcomeError(outcome(issue('error', 'invalid', `--name '${manifest.name}': a FHIR package name is lowercase, dot-separated, e.g. org.example.infertility`)));
  }
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(manifest.version)) {
    throw new OperationOutcomeError(outcome(issue('error', 'invalid', `--package-version '${manifest.version}' is not a semantic version (e.g. 1.0.0)`)));
  }
  const resources = artifacts.map((a) => a.resource as Described);
  const problems: string[] = [];
  const seen = new Map<string, string>();
  artifacts.forEach(({ file, resource }) => {
    const r = resource as Described;
    if (!r.id) problems.push(`${file}: ${r.resourceType} has no id (the package file name is <Type>-<id>.json)`);
    else if (seen.has(fileName(r))) problems.push(`${file}: ${r.resourceType}/${r.id} is also in ${seen.get(fileName(r))}`);
    else seen.set(fileName(r), file);
  });
  if (problems.length) throw new OperationOutcomeError(outcome(...problems.map((p) => issue('error', 'invalid', p))));

  const canonical = manifest.canonical ?? commonCanonical(resources);
  const author = manifest.author ?? resources.find((r) => r.publisher)?.publisher ?? 'infertility-protocols';
  const license = manifest.license ?? 'Apache-2.0';
  const description = manifest.description ?? 'FHIR R4 clinical protocols for the infertility work-up';
  // The ImplementationGuide lists every artifact; it needs a canonical for its own url.
  const guide = canonical
    ? [implementationGuide(resources, { packageId: manifest.name, version: manifest.version, canonical, title: 'Infertility work-up protocols', publisher: author, license })]
    : [];
  const sorted: Described[] = [...resources, ...(guide as Described[])].sort((a, b) => fileName(a).localeCompare(fileName(b)));
  const packageJson = {
    name: manifest.name,
    version: manifest.version,
    description,
    type: 'Conformance',
    fhirVersions: ['4.0.1'],
    dependencies: { ...PACKAGE_DEPENDENCIES },
    ...(canonical ? { canonical, url: canonical } : {}),
    author,
    license,
  };
  // .index.json version 2: v1's keys plus derivation (StructureDefinition), content and supplements (CodeSystem).
  const index = {
    'index-version': 2,
    files: sorted.map((r) => ({
      filename: fileName(r),
      resourceType: r.resourceType,
      id: r.id,
      ...(r.url ? { url: r.url } : {}),
      ...(r.version ? { version: r.version } : {}),
      ...(typeof r.kind === 'string' ? { kind: r.kind } : {}),
      ...(r.resourceType === 'StructureDefinition' && typeof r.type === 'string' ? { type: r.type } : {}),
      ...(r.resourceType === 'StructureDefinition' && r.derivation ? { derivation: r.derivation } : {}),
      // content is required on a CodeSystem; undefined (a malformed one) is left out by JSON.stringify.
      ...(r.resourceType === 'CodeSystem' ? { content: r.content } : {}),
      ...(r.resourceType === 'CodeSystem' && r.supplements ? { supplements: r.supplements } : {}),
    })),
  };
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
  return [
    { name: 'package/package.json', content: json(packageJson) },
    { name: 'package/.index.json', content: json(index) },
    ...sorted.map((r) => ({ name: `package/${fileName(r)}`, content: json(r) })),
  ];
}
