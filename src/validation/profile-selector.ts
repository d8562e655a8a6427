/**
 * Which module profile a resource carries without saying so in meta.profile: each generated
 * StructureDefinition names, in an extension, the FHIRPath (on the instance) that is true when a
 * resource holds the profile's content - its code, or for the CarePlan profile its
 * instantiatesCanonical. The authoring writes it (profiles/_authoring/), the validator only reads
 * what was generated.
 *
 * The value is a string, not an Expression: an Expression on a StructureDefinition would read as
 * one evaluated on the StructureDefinition itself (lint checks it so), while this one is evaluated
 * on the resources the profile describes.
 */
import type { StructureDefinition } from '@medplum/fhirtypes';

export const PROFILE_APPLIES_WHEN_EXTENSION = 'http://infertility-protocols.org/fhir/StructureDefinition/profile-applies-when';

/** The FHIRPath that selects the profile's resources; undefined when it applies only when declared. */
export function profileSelector(sd: StructureDefinition): string | undefined {
  return sd.extension?.find((e) => e.url === PROFILE_APPLIES_WHEN_EXTENSION)?.valueString;
}
