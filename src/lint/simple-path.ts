/**
 * dynamicValue.path is "Simple FHIRPath" (R4 PlanDefinition/ActivityDefinition). The path is read
 * by the engine's own parser (src/fhirpath/simple-path.ts), so lint accepts exactly the paths the
 * engine can write; this adds the check that each step exists on the target type, e.g.
 * `occurrence.ofType(Period).start` on ServiceRequest, with "did you mean" hints.
 */
import { parseSimplePath, SimplePathSyntaxError, type SimplePathStep } from '../fhirpath/simple-path.ts';
import { isPrimitive, memberType, narrowChoice, suggestMember, typeNamed, type ModelType } from './fhir-model.ts';

export { parseSimplePath } from '../fhirpath/simple-path.ts';

/** Problems with `path` as a target on `targetType` (e.g. ServiceRequest); empty when fine. */
export function checkSimplePath(path: string, targetType: string): string[] {
  let steps: SimplePathStep[];
  try {
    steps = parseSimplePath(path);
  } catch (err) {
    if (err instanceof SimplePathSyntaxError) return [err.message];
    throw err;
  }
  let current: ModelType | undefined = typeNamed(targetType);
  if (!current) return [`target type ${targetType} is not an R4 type`];
  for (const step of steps) {
    if (!current) return [];
    // An indexer picks an item of a list; the item has the element's type.
    if (step.kind === 'index') continue;
    if (step.kind === 'extension') {
      current = typeNamed('Extension');
      continue;
    }
    if (step.kind === 'ofType') {
      if (!current.choices) return [`ofType(${step.type}) in '${path}' follows ${current.path}, which is not a choice element`];
      const narrowed = narrowChoice(current, step.type);
      if (!narrowed) return [`ofType(${step.type}) in '${path}': ${current.path} is one of ${current.choices.join(', ')}`];
      current = narrowed;
      continue;
    }
    if (current.choices) return [`'${path}': choose the type of ${current.path} with ofType(...) before '${step.name}'`];
    if (isPrimitive(current)) return [`'${path}': ${current.path} is a primitive; it has no '${step.name}'`];
    const next = memberType(current, step.name);
    if (!next) {
      const hint = suggestMember(current, step.name);
      return [`'${path}': ${current.path} has no element '${step.name}'${hint ? ` (did you mean '${hint}'?)` : ''}`];
    }
    current = next;
  }
  return [];
}
