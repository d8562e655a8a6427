/**
 * The RequestGroup action made from a PlanDefinition action: the elements copied as authored, in
 * RequestGroup order, the timing made concrete (ages and offsets become dates) and the
 * participants resolved against the apply context.
 */
import type { PlanDefinitionAction, RequestGroupAction } from '@medplum/fhirtypes';
import { copyJson } from '../../util/copy-json.ts';
import { concreteTiming } from '../timing.ts';
import type { ActionTrace } from '../types.ts';
import type { ApplyState } from './apply-state.ts';

/** Elements copied as authored, in the order they appear in a RequestGroup action. */
const COPIED_FIRST = ['prefix', 'title', 'description', 'textEquivalent', 'priority', 'code', 'documentation'] as const;
const COPIED_LAST = ['type', 'groupingBehavior', 'selectionBehavior', 'requiredBehavior', 'precheckBehavior', 'cardinalityBehavior'] as const;

export function copyActionElements(action: PlanDefinitionAction, state: ApplyState, trace: ActionTrace): RequestGroupAction {
  const rg: Record<string, unknown> = {};
  const copy = (keys: readonly (keyof PlanDefinitionAction & keyof RequestGroupAction)[]) => {
    // Copies: the action is edited afterwards (dynamic values, ids) and must share nothing with the plan.
    for (const key of keys) if (action[key] !== undefined) rg[key] = copyJson(action[key]);
  };
  copy(COPIED_FIRST);
  // start/stop conditions are for the runtime system; applicability was decided here.
  const carried = (action.condition ?? []).filter((c) => c.kind === 'start' || c.kind === 'stop');
  if (carried.length > 0) rg.condition = carried.map((c) => ({ kind: c.kind, ...(c.expression ? { expression: copyJson(c.expression) } : {}) }));
  if (action.relatedAction) rg.relatedAction = copyJson(action.relatedAction);
  const birthDate = (state.context.subject as { birthDate?: string }).birthDate;
  const timing = concreteTiming(action, birthDate, state.clock.nowText);
  Object.assign(rg, timing.timing);
  if (timing.note) trace.notes.push(`timing: ${timing.note}`);
  const participants = resolveParticipants(action, state, trace);
  if (participants.length > 0) rg.participant = participants;
  copy(COPIED_LAST);
  return rg;
}

/** Participant types -> references from the apply context; a type the context cannot fill is noted, not guessed. */
function resolveParticipants(action: PlanDefinitionAction, state: ApplyState, trace: ActionTrace): NonNullable<RequestGroupAction['participant']> {
  const refs: NonNullable<RequestGroupAction['participant']> = [];
  for (const p of action.participant ?? []) {
    if (p.type === 'patient') refs.push(state.subjectRef);
    else if (p.type === 'practitioner' && state.context.practitioner?.id) refs.push({ reference: `Practitioner/${state.context.practitioner.id}` });
    else if (p.type === 'related-person') {
      const people = state.context.data.byType('RelatedPerson');
      if (people.length === 1 && people[0]?.id) refs.push({ reference: `RelatedPerson/${people[0].id}` });
      else trace.notes.push(`participant related-person not resolved: ${people.length} RelatedPerson resources in the record`);
    } else trace.notes.push(`participant ${p.type} not resolved: no ${p.type} in the apply context`);
  }
  return refs;
}
