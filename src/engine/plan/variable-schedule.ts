/**
 * Which of an action's named expressions (R4 `variable` extensions) are needed to decide its
 * applicability. Computed once per action when the knowledge is compiled
 * (`CompiledKnowledge.variableSchedule`).
 */
import type { PlanDefinitionAction } from '@medplum/fhirtypes';
import { FHIRPATH } from '../expression.ts';
import { VARIABLE_EXTENSION } from '../types.ts';

export interface VariableSchedule {
  /** Indexes in `action.extension` of the variables the applicability conditions read, directly or through other variables. */
  beforeConditions: ReadonlySet<number>;
  afterConditions: ReadonlySet<number>;
}

const NO_VARIABLES: VariableSchedule = { beforeConditions: new Set(), afterConditions: new Set() };
/** `%name` or `%\`name\`` in an expression text: the variables it can read. */
const VARIABLE_REFERENCE = /%(?:([A-Za-z_][A-Za-z0-9_]*)|`([^`]*)`)/g;

function referencedVariables(text: string | undefined): string[] {
  return [...(text ?? '').matchAll(VARIABLE_REFERENCE)].map((m) => (m[1] ?? m[2])!);
}

/**
 * Which of an action's named expressions are needed to decide its applicability (computed once
 * per action, at compile). A variable the conditions do not read, even through another variable, cannot change
 * the decision, so it waits until the action applies: for the many patients a protocol does not
 * apply to, its contraindication logic is then never computed. Document order is kept within each
 * part, and a variable only reads earlier ones, so every variable still sees what it saw before.
 */
export function computeVariableSchedule(action: PlanDefinitionAction): VariableSchedule {
  let schedule: VariableSchedule;
  const all = (action.extension ?? []).map((ext, index) => ({ ext, index })).filter(({ ext }) => ext.url === VARIABLE_EXTENSION);
  if (all.length === 0) {
    schedule = NO_VARIABLES;
  } else {
    const needed = new Set<number>();
    // A variable without a name is reported where it stands.
    for (const { ext, index } of all) if (!ext.valueExpression?.name) needed.add(index);
    const byName = new Map(all.filter(({ ext }) => ext.valueExpression?.name).map((d) => [d.ext.valueExpression!.name!, d]));
    const visit = (name: string) => {
      const found = byName.get(name);
      if (!found || needed.has(found.index)) return;
      needed.add(found.index);
      for (const next of referencedVariables(found.ext.valueExpression?.expression)) visit(next);
    };
    const conditions = (action.condition ?? []).filter((c) => c.kind === 'applicability');
    // An expression in another language may read any variable in a way this scan cannot see.
    const opaque = [...conditions.map((c) => c.expression), ...all.map((d) => d.ext.valueExpression)].some((e) => e && e.language !== FHIRPATH);
    if (opaque) for (const { index } of all) needed.add(index);
    for (const condition of conditions) for (const name of referencedVariables(condition.expression?.expression)) visit(name);
    schedule = { beforeConditions: needed, afterConditions: new Set(all.map((d) => d.index).filter((i) => !needed.has(i))) };
  }
  return schedule;
}
