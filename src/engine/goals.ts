/**
 * PlanDefinition.goal -> Goal resources (lifecycleStatus proposed), with target due Durations turned
 * into due dates from now.
 */
import type { Goal, GoalTarget, Patient, PlanDefinitionGoal, Reference } from '@medplum/fhirtypes';
import { copyJson } from '../util/copy-json.ts';
import { addDuration } from './dates.ts';

export function buildGoal(authored: PlanDefinitionGoal, index: number, id: string, subject: Reference<Patient>, nowText: string): Goal {
  // A copy: the Goal is part of an output and must share nothing with the plan (see copy-json.ts).
  const goal = copyJson(authored);
  const result: Goal = {
    resourceType: 'Goal',
    id,
    lifecycleStatus: 'proposed',
    // Authored JSON may omit the description (the type says it is there): the goal is then named by its id.
    description: (goal as { description?: PlanDefinitionGoal['description'] }).description ?? { text: goal.id ?? `Goal ${index + 1}` },
    subject,
  };
  if (goal.category) result.category = [goal.category];
  if (goal.priority) result.priority = goal.priority;
  if (goal.start) result.startCodeableConcept = goal.start;
  if (goal.target?.length) {
    result.target = goal.target.map((t) => {
      const target: GoalTarget = {};
      if (t.measure) target.measure = t.measure;
      if (t.detailQuantity) target.detailQuantity = t.detailQuantity;
      if (t.detailRange) target.detailRange = t.detailRange;
      if (t.detailCodeableConcept) target.detailCodeableConcept = t.detailCodeableConcept;
      if (t.due) {
        const due = addDuration(nowText.slice(0, 10), t.due);
        if (due) target.dueDate = due;
        else target.dueDuration = t.due;
      }
      return target;
    });
  }
  if (goal.documentation?.length) {
    result.note = goal.documentation.map((d) => ({ text: [d.display, d.citation, d.url].filter(Boolean).join(' - ') }));
  }
  return result;
}
