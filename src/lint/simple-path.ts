/**
 * dynamicValue.path is "Simple FHIRPath" (R4 PlanDefinition/ActivityDefinition): element names,
 * optional [index], ofType(Type) and extension('url'). This checks the grammar and that each step
 * exists on the target type, e.g. `occurrence.ofType(Period).start` on ServiceRequest.
 */
import { isPrimitive, memberType, narrowChoice, suggestMember, typeNamed, type ModelType } from './fhir-model.ts';

export type PathStep = { kind: 'element'; name: string; index?: number } | { kind: 'ofType'; type: string } | { kind: 'extension'; url: string };

/** Splits a Simple FHIRPath; returns an error message for anything outside the subset. */
export function parseSimplePath(path: string): PathStep[] | string {
  const steps: PathStep[] = [];
  let rest = path;
  while (rest.length > 0) {
    let m: RegExpExecArray | null;
    if ((m = /^ofType\(([A-Za-z][A-Za-z0-9.]*)\)/.exec(rest))) steps.push({ kind: 'ofType', type: m[1]! });
    else if ((m = /^extension\('([^']+)'\)/.exec(rest))) steps.push({ kind: 'extension', url: m[1]! });
    else if ((m = /^([A-Za-z][A-Za-z0-9_]*)(?:\[(\d+)\])?/.exec(rest))) {
      steps.push(m[2] !== undefined ? { kind: 'element', name: m[1]!, index: Number(m[2]) } : { kind: 'element', name: m[1]! });
    } else {
      return `'${path}' is not Simple FHIRPath (allowed: names, [n], ofType(T), extension('url'), joined by '.'); stopped at '${rest}'`;
    }
    rest = rest.slice(m[0].length);
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      if (rest.length === 0) return `'${path}' ends with '.'`;
    } else if (rest.length > 0) {
      return `'${path}' is not Simple FHIRPath: expected '.' before '${rest}'`;
    }
  }
  return steps.length ? steps : `empty path`;
}

/** Problems with `path` as a target on `targetType` (e.g. ServiceRequest); empty when fine. */
export function checkSimplePath(path: string, targetType: string): string[] {
  const steps = parseSimplePath(path);
  if (typeof steps === 'string') return [steps];
  let current: ModelType | undefined = typeNamed(targetType);
  if (!current) return [`target type ${targetType} is not an R4 type`];
  for (const step of steps) {
    if (!current) return [];
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
