/**
 * ActivityDefinition -> request resource, the R4 steps in order: create the resource of `kind`
 * for the subject, map the structural elements (kinds.ts), resolve participants and location from
 * the context, then apply the definition's own dynamicValues in document order. Problems become
 * OperationOutcome issues; only strict mode throws.
 */
import type { ActivityDefinition, Resource } from '@medplum/fhirtypes';
import { applyDynamicValues } from '../dynamic-value/index.ts';
import { CPG_ACTIVITY_KIND_EXTENSION } from '../types.ts';
import { KIND_MAPPERS, REQUIRED_ELEMENTS } from './kinds.ts';
import { MapContext, type MappedElement, type RequestBuildInput } from './map-context.ts';

export type { RequestBuildInput } from './map-context.ts';

export const SUPPORTED_KINDS: readonly string[] = Object.keys(KIND_MAPPERS);

export function isSupportedKind(kind: string | undefined): boolean {
  return kind !== undefined && Object.hasOwn(KIND_MAPPERS, kind);
}

/**
 * The definition with the kind it creates: the CPG `cpg-activity-kind` extension (valueCode) wins
 * over `kind`, as the CPG IG and the cqf Clinical Reasoning engine read it; unchanged without it.
 */
export function withActivityKind(ad: ActivityDefinition): ActivityDefinition {
  const value = ad.extension?.find((e) => e.url === CPG_ACTIVITY_KIND_EXTENSION)?.valueCode;
  return typeof value === 'string' && value !== ad.kind ? ({ ...ad, kind: value } as ActivityDefinition) : ad;
}

/** Why `ad` is refused before a request is built: a transform (StructureMap) this engine does not run. */
export function transformRefusal(ad: ActivityDefinition): string | undefined {
  return ad.transform ? `ActivityDefinition/${ad.id ?? ''} has transform ${ad.transform} (a StructureMap), which this engine does not run` : undefined;
}

/** Is each tracked element present on the definition? (doNotPerform only matters when true.) */
function presentElements(ad: ActivityDefinition): MappedElement[] {
  const present: [MappedElement, unknown][] = [
    ['code', ad.code],
    ['priority', ad.priority],
    ['doNotPerform', ad.doNotPerform === true ? true : undefined],
    ['timing', ad.timingDateTime ?? ad.timingPeriod ?? ad.timingTiming ?? ad.timingAge ?? ad.timingDuration ?? ad.timingRange],
    ['location', ad.location],
    ['participant', ad.participant?.length ? ad.participant : undefined],
    ['product', ad.productCodeableConcept ?? ad.productReference],
    ['quantity', ad.quantity],
    ['dosage', ad.dosage?.length ? ad.dosage : undefined],
    ['bodySite', ad.bodySite?.length ? ad.bodySite : undefined],
  ];
  return present.filter(([, value]) => value !== undefined).map(([name]) => name);
}

function reportUnplaced(m: MapContext, kind: string): void {
  const unplaced = presentElements(m.ad).filter((e) => !m.placed.has(e));
  // doNotPerform is a modifier: dropping it would turn "do not do X" into "do X".
  if (unplaced.includes('doNotPerform')) {
    m.report('error', 'not-supported', `doNotPerform = true cannot be expressed on ${kind}; the generated request would ask for the opposite`);
  }
  const rest = unplaced.filter((e) => e !== 'doNotPerform');
  if (rest.length > 0) {
    m.report('information', 'informational', `${rest.join(', ')} ${rest.length > 1 ? 'have' : 'has'} no counterpart on ${kind} and ${rest.length > 1 ? 'were' : 'was'} not mapped`);
  }
}

function reportMissingRequired(m: MapContext, resource: Record<string, unknown>, kind: string): void {
  for (const element of REQUIRED_ELEMENTS[kind] ?? []) {
    const present = element.endsWith('[x]') ? Object.keys(resource).some((k) => k.startsWith(element.slice(0, -3))) : resource[element] !== undefined;
    if (!present) m.report('warning', 'required', `the generated ${kind} has no ${element}, which R4 requires`);
  }
}

/**
 * Builds the request for one ActivityDefinition. Never throws unless `strict`: an unsupported or
 * missing kind yields a bare `{resourceType, id}` placeholder plus an error issue (check
 * `isSupportedKind` first to avoid it).
 */
export function buildRequest(input: RequestBuildInput): Resource {
  const m = new MapContext({ ...input, definition: withActivityKind(input.definition) });
  const kind = m.ad.kind as string | undefined;
  if (!kind) {
    m.report('error', 'required', 'has no kind, so the request type to create is unknown');
    return { resourceType: 'Basic', id: input.id, code: { text: 'ActivityDefinition without kind' } };
  }
  const mapper = KIND_MAPPERS[kind];
  if (!mapper) {
    m.report('error', 'not-supported', `kind '${kind}' is not supported (supported: ${SUPPORTED_KINDS.join(', ')})`);
    return { resourceType: kind, id: input.id } as Resource;
  }
  // A transform would change what the request says: building it without would be a different order.
  const refused = transformRefusal(m.ad);
  if (refused) {
    m.report('error', 'not-supported', refused);
    return { resourceType: kind, id: input.id } as Resource;
  }
  const resource = mapper(m) as Resource & Record<string, unknown>;
  reportUnplaced(m, kind);
  if (m.ad.dynamicValue?.length) {
    applyDynamicValues({
      target: resource,
      baseType: kind,
      dynamicValues: m.ad.dynamicValue,
      focus: m.ad,
      variables: input.variables,
      knowledge: input.knowledge,
      ...(input.evaluators ? { evaluators: input.evaluators } : {}),
      issues: input.issues,
      strict: input.strict,
      where: m.where,
      ...(input.actionTarget ? { actionTarget: input.actionTarget } : {}),
    });
  }
  reportMissingRequired(m, resource, kind);
  return resource;
}
