/**
 * Groups: what a group's applied child actions mean for the group. The selection behaviours the
 * engine can decide are decided here (a group none of whose actions applies does not apply, nor
 * does an all-or-none group missing some); those left to the clinician are noted in the trace.
 */
import type { PlanDefinitionAction, RequestGroupAction } from '@medplum/fhirtypes';
import { APPLICABILITY_BEHAVIOR_EXTENSION, type ActionTrace } from '../types.ts';

/** cqf-applicabilityBehavior `any`: the first applicable child is taken and the rest are not considered. */
export function takesFirstApplicableOnly(action: PlanDefinitionAction): boolean {
  return (action.extension ?? []).some((e) => e.url === APPLICABILITY_BEHAVIOR_EXTENSION && e.valueCode === 'any');
}

/**
 * Undefined when the group applies with the `applied` children (notes in the trace say how the
 * selection stands), else why it does not. `trace.children` holds every child's trace.
 */
export function judgeChildSelection(action: PlanDefinitionAction, applied: RequestGroupAction[], trace: ActionTrace, firstOnly: boolean): string | undefined {
  const selection = action.selectionBehavior;
  const total = action.action?.length ?? 0;
  // A group with a definition of its own still stands for that definition.
  if (applied.length === 0 && !action.definitionCanonical) return `none of its ${total} actions applies`;
  if (selection === 'all-or-none' && applied.length < total) return `all-or-none group with ${total - applied.length} of ${total} actions not applicable`;
  if (selection === 'exactly-one' || selection === 'at-most-one' || selection === 'one-or-more') {
    if (applied.length === 1)
      trace.notes.push(`${selection}: the only applicable option (${trace.children.find((t) => t.applicability === 'applicable')?.actionId}) is the selection`);
    else trace.notes.push(`${selection}: ${applied.length} applicable options; the clinician chooses`);
  }
  if (firstOnly) trace.notes.push('applicabilityBehavior any: the first applicable action was taken');
  return undefined;
}

/**
 * rqg-1 forbids resource and sub-actions on one action: the action's own activity becomes its
 * first sub-action, and a selection behaviour keeps applying to the child actions only.
 */
export function nestOwnActivity(action: PlanDefinitionAction, rgAction: RequestGroupAction): void {
  const { resource, action: children } = rgAction;
  if (!resource || !children) return;
  const own: RequestGroupAction = { ...(action.title ? { title: action.title } : {}), resource };
  delete rgAction.resource;
  const selection = rgAction.selectionBehavior;
  if (selection && selection !== 'all') {
    rgAction.action = [own, { selectionBehavior: selection, action: children }];
    rgAction.selectionBehavior = 'all';
  } else {
    rgAction.action = [own, ...children];
  }
}
