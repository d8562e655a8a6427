/**
 * What a PlanDefinition says is interchangeable: the code sets of its choice groups
 * (`exactly-one` / `at-most-one`), each option named by the codes of the request it orders. Used to
 * tell a real alternative to a contraindicated procedure (an option of a choice group that the
 * protocol also offers the contraindicated procedure in) from a mere neighbour in the plan.
 */
import type { ActivityDefinition, PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.ts';
import { codingKeys } from './render.ts';

const CHOICE = new Set(['exactly-one', 'at-most-one']);

/** One set of `system|code` keys per option of a choice group: the codes the option orders. */
export type ChoiceGroupCodes = Set<string>[];

function optionCodes(action: PlanDefinitionAction, knowledge: KnowledgeBase): Set<string> {
  const keys = new Set<string>();
  const visit = (a: PlanDefinitionAction) => {
    const ad = a.definitionCanonical ? knowledge.resolve<ActivityDefinition>(a.definitionCanonical, 'ActivityDefinition') : undefined;
    for (const k of codingKeys(ad?.code)) keys.add(k);
    for (const child of a.action ?? []) visit(child);
  };
  visit(action);
  return keys;
}

const cache = new WeakMap<PlanDefinition, ChoiceGroupCodes[]>();

/** Every choice group of the plan (nested ones included), computed once per plan object. */
export function choiceGroupsOf(plan: PlanDefinition, knowledge: KnowledgeBase): ChoiceGroupCodes[] {
  const cached = cache.get(plan);
  if (cached) return cached;
  const groups: ChoiceGroupCodes[] = [];
  const walk = (actions: PlanDefinitionAction[] | undefined) => {
    for (const action of actions ?? []) {
      if (action.selectionBehavior && CHOICE.has(action.selectionBehavior) && action.action?.length) {
        groups.push(action.action.map((option) => optionCodes(option, knowledge)));
      }
      walk(action.action);
    }
  };
  walk(plan.action);
  cache.set(plan, groups);
  return groups;
}

/**
 * True when a choice group offering `candidateGroupCodes` is interchangeable with one the plan
 * offers `blocked` in: some plan choice group has an option with a blocked code and shares another
 * option with the candidate group (HSG vs HyCoSy: both groups also offer hydrotubation and the
 * laparoscopic dye test).
 */
export function offeredInParallel(groups: ChoiceGroupCodes[], blocked: Set<string>, candidateGroupCodes: Set<string>): boolean {
  return groups.some((options) => {
    const hasBlocked = options.some((codes) => [...codes].some((k) => blocked.has(k)));
    if (!hasBlocked) return false;
    return options.some((codes) => ![...codes].some((k) => blocked.has(k)) && [...codes].some((k) => candidateGroupCodes.has(k)));
  });
}
