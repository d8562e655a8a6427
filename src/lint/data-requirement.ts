/**
 * An action input (DataRequirement): an R4 resource type, codeFilter paths that exist on it,
 * ValueSets that expand offline to some codes, and codes that belong to our terminology (our
 * CodeSystems, or at least one of our ValueSets).
 */
import type { DataRequirement } from '@medplum/fhirtypes';
import { codingKey } from '../data/patient-data.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { isResourceTypeName, memberType, typeNamed } from './fhir-model.ts';
import type { FindingSink } from './findings.ts';

/** `allValueSetKeys`: every system|code in any of our ValueSets. */
export function checkDataRequirement(
  sink: FindingSink,
  knowledge: CompiledKnowledge,
  allValueSetKeys: ReadonlySet<string>,
  file: string,
  path: string,
  requirement: DataRequirement,
): void {
  const type = typeNamed(requirement.type);
  if (!type || !isResourceTypeName(requirement.type)) {
    sink.add('error', 'value', file, `${path}.type`, `input type '${requirement.type}' is not an R4 resource type`);
    return;
  }
  (requirement.codeFilter ?? []).forEach((filter, k) => {
    const filterPath = `${path}.codeFilter[${k}]`;
    if (filter.path && !memberType(type, filter.path.split('.')[0]!)) {
      sink.add('error', 'not-found', file, `${filterPath}.path`, `${requirement.type} has no element '${filter.path}'`);
    }
    let keys: ReadonlySet<string> | undefined;
    if (filter.valueSet) {
      keys = knowledge.valueSetKeys(filter.valueSet);
      // An unresolvable ValueSet is reported by the canonical walk; here only "cannot expand".
      if (!keys && knowledge.resolve(filter.valueSet, 'ValueSet')) {
        sink.add(
          'error',
          'not-supported',
          file,
          `${filterPath}.valueSet`,
          `ValueSet ${filter.valueSet} cannot be expanded offline (it uses a filter or a CodeSystem we do not have)`,
        );
      } else if (keys && keys.size === 0) {
        sink.add('error', 'value', file, `${filterPath}.valueSet`, `ValueSet ${filter.valueSet} expands to no codes, so the input can never match`);
      }
    }
    (filter.code ?? []).forEach((coding, c) => {
      const codePath = `${filterPath}.code[${c}]`;
      const key = codingKey(coding.system, coding.code);
      if (!coding.system || !coding.code) {
        sink.add('error', 'required', file, codePath, 'a codeFilter code needs both system and code');
        return;
      }
      if (keys) {
        if (!keys.has(key)) sink.add('error', 'value', file, codePath, `${key} is not in ${filter.valueSet}, the ValueSet of the same filter`);
        return;
      }
      const ownSystem = knowledge.resolve(coding.system, 'CodeSystem') as { concept?: unknown[] } | undefined;
      if (ownSystem) {
        if (!codeSystemHas(ownSystem, coding.code)) sink.add('error', 'value', file, codePath, `code '${coding.code}' is not defined in our CodeSystem ${coding.system}`);
      } else if (!allValueSetKeys.has(key)) {
        sink.add('warning', 'value', file, codePath, `${key} is in none of our ValueSets; add it to the ValueSet of this concept`);
      }
    });
  });
}

function codeSystemHas(cs: { concept?: unknown[] }, code: string): boolean {
  const walk = (concepts: unknown[] | undefined): boolean => (concepts ?? []).some((c) => (c as { code?: string }).code === code || walk((c as { concept?: unknown[] }).concept));
  return walk(cs.concept);
}
