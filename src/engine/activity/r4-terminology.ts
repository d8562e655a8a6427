/**
 * Codes the FHIR R4 specification itself fixes for a resource mapping (not clinical content: no
 * protocol decides them). ImmunizationRecommendation.recommendation.dateCriterion.code is bound
 * (example) to http://hl7.org/fhir/ValueSet/immunization-recommendation-date-criterion, whose
 * compose includes these LOINC codes; the mapping writes "due" from the occurrence start and
 * "latest" from the occurrence end.
 */
import type { Coding } from '@medplum/fhirtypes';

export const IMMUNIZATION_DATE_CRITERION: Readonly<Record<'due' | 'latest', Readonly<Coding>>> = {
  due: { system: 'http://loinc.org', code: '30980-7', display: 'Date vaccine due' },
  latest: { system: 'http://loinc.org', code: '59777-3', display: 'Latest date to give immunization' },
};
