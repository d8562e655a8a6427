/**
 * Two operations over the knowledge itself (no patient data):
 * - `PlanDefinition/$data-requirements` (R4 PlanDefinition-data-requirements, Clinical Reasoning
 *   "Data Requirements"): a Library of type `module-definition` whose `dataRequirement` lists what
 *   the plan reads (its actions' inputs and outputs, nested plans included: the same list the
 *   CDS prefetch templates and dataEndpoint queries are built from) and whose `relatedArtifact`
 *   names every artifact it depends on (`depends-on`);
 * - `PlanDefinition/$package` (CRMI package): a `collection` Bundle of the plan and everything it
 *   depends on, transitively - ActivityDefinitions, nested PlanDefinitions, ValueSets,
 *   CodeSystems, Libraries, profiles - as far as the server holds them.
 * Dependencies are found generically: any string in an artifact that is the canonical of another
 * artifact the server holds (definitionCanonical, library, valueSet, system, profile...).
 */
import type { Bundle, Library, PlanDefinition, RelatedArtifact, Resource } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';

type Canonical = Resource & { url?: string; version?: string };

const LIBRARY_TYPE = 'http://terminology.hl7.org/CodeSystem/library-type';

function canonicalOf(r: Canonical): string | undefined {
  return r.url ? (r.version ? `${r.url}|${r.version}` : r.url) : undefined;
}

/** Every string value in a resource (keys such as `text` and `documentation` included: a canonical is only taken when it resolves). */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') {
    yield value;
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) yield* strings(item);
    return;
  }
  if (value && typeof value === 'object') for (const child of Object.values(value as Record<string, unknown>)) yield* strings(child);
}

/** The artifacts `root` depends on, transitively, in the order found (root excluded). */
export function dependenciesOf(root: Resource, knowledge: CompiledKnowledge): Canonical[] {
  const found = new Map<Resource, true>([[root, true]]);
  const queue: Resource[] = [root];
  const result: Canonical[] = [];
  while (queue.length > 0) {
    const current = queue.shift() as Resource;
    for (const text of strings(current)) {
      // Canonicals are absolute URLs (a contained `#id` is inside the resource already).
      if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) continue;
      const target = knowledge.resolve(text);
      if (!target || found.has(target)) continue;
      found.set(target, true);
      result.push(target as Canonical);
      queue.push(target);
    }
  }
  return result;
}

/** The module-definition Library of a plan's data requirements. */
export function dataRequirementsLibrary(plan: PlanDefinition, knowledge: CompiledKnowledge, date: string): Library {
  const relatedArtifact: RelatedArtifact[] = dependenciesOf(plan, knowledge).flatMap((d) => {
    const resource = canonicalOf(d);
    return resource ? [{ type: 'depends-on' as const, display: `${d.resourceType}/${d.id ?? ''}`, resource }] : [];
  });
  const library: Library = {
    resourceType: 'Library',
    status: 'active',
    date,
    type: { coding: [{ system: LIBRARY_TYPE, code: 'module-definition' }] },
    dataRequirement: knowledge.dataRequirements(plan),
  };
  const about = canonicalOf(plan);
  if (about) library.title = `Data requirements of ${plan.title ?? plan.name ?? about}`;
  if (about) library.relatedArtifact = [{ type: 'depends-on', display: 'the PlanDefinition itself', resource: about }, ...relatedArtifact];
  else if (relatedArtifact.length > 0) library.relatedArtifact = relatedArtifact;
  return library;
}

/** The plan and everything it depends on, as a collection Bundle (the plan first). */
export function packageBundle(plan: PlanDefinition, knowledge: CompiledKnowledge, date: string, fhirBase: string): Bundle {
  const resources: Resource[] = [plan, ...dependenciesOf(plan, knowledge)];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: date,
    entry: resources.map((resource) => (resource.id ? { fullUrl: `${fhirBase}/${resource.resourceType}/${resource.id}`, resource } : { resource })),
  };
}
