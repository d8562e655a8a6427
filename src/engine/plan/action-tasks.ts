/**
 * Tasks the plan makes itself, where R4 gives no request resource: a Questionnaire definition
 * becomes a CPG collect-information Task (rather than action.resource pointing at the
 * Questionnaire), and a leaf action with no definition (advice, an instruction) becomes a Task
 * carrying its text, so every RequestGroup action has a resource (rqg-1).
 */
import type { PlanDefinitionAction, Questionnaire, RequestGroupAction, Task } from '@medplum/fhirtypes';
import { copyJson } from '../../util/copy-json.ts';
import { whenOf } from '../timing.ts';
import { CPG_ACTIVITY_TYPE_SYSTEM } from '../types.ts';
import { canonicalOf, type ApplyState } from './apply-state.ts';
import { setWhen } from './request-dates.ts';

export function questionnaireTask(questionnaire: Questionnaire, resourceId: string, state: ApplyState): Task {
  const task: Task = {
    resourceType: 'Task',
    id: resourceId,
    status: state.options.requestStatus === 'active' ? 'requested' : 'draft',
    intent: 'option',
    code: { coding: [{ system: CPG_ACTIVITY_TYPE_SYSTEM, code: 'collect-information' }] },
    for: state.subjectRef,
    authoredOn: state.clock.nowText,
    input: [{ type: { text: 'questionnaire' }, valueCanonical: canonicalOf(questionnaire) }],
  };
  if (questionnaire.title) task.description = questionnaire.title;
  return task;
}

export function instructionTask(action: PlanDefinitionAction, rgAction: RequestGroupAction, id: string, state: ApplyState): Task {
  const task: Task = {
    resourceType: 'Task',
    id,
    status: state.options.requestStatus === 'active' ? 'requested' : 'draft',
    intent: 'option',
  };
  if (action.priority) task.priority = action.priority;
  if (action.code?.[0]) task.code = copyJson(action.code[0]);
  const text = action.textEquivalent ?? action.description ?? action.title;
  if (text) task.description = text;
  task.for = state.subjectRef;
  task.authoredOn = state.clock.nowText;
  const when = whenOf(rgAction, undefined);
  if (when) setWhen(task as unknown as Record<string, unknown>, 'Task', when);
  return task;
}
