/**
 * The variables the engine binds for every expression (see src/engine/expression.ts), with the
 * types lint knows them by; an expression may read these without an action input.
 */
import { typeNamed } from './fhir-model.ts';
import type { VariableType } from './fhirpath-check.ts';

export function engineVariables(definitionType: string): [string, VariableType][] {
  const t = (name: string): VariableType => typeNamed(name) ?? 'unknown';
  return [
    ['subject', t('Patient')],
    ['patient', t('Patient')],
    ['encounter', t('Encounter')],
    ['practitioner', t('Practitioner')],
    ['organization', t('Organization')],
    ['userType', t('CodeableConcept')],
    ['userLanguage', t('CodeableConcept')],
    ['userTaskContext', t('CodeableConcept')],
    ['setting', t('CodeableConcept')],
    ['settingContext', t('CodeableConcept')],
    ['now', 'unknown'],
    ['today', 'unknown'],
    ['sct', 'unknown'],
    ['loinc', 'unknown'],
    ['ucum', 'unknown'],
    ['context', t(definitionType)],
    ['resource', t(definitionType)],
    ['rootResource', t(definitionType)],
  ];
}
