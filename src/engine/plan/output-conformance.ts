/**
 * Never emit an invalid resource: every resource the apply built (requests, nested RequestGroups,
 * instruction Tasks) is checked against the R4 base definitions - structure, types, required
 * elements - once it is complete (after relatedAction dates and the SAFE-6 merge). One that fails
 * is left out with its RequestGroup action, and an error issue names the element; the action's
 * trace says so. This follows the Clinical Reasoning error handling: the failure is reported in the
 * OperationOutcome the result references (cqf-messages), and what could not be produced correctly
 * is not produced. The check is the structural walk (src/data/resource-shape.ts), a few
 * microseconds per resource, not the full validator (invariants are for `validate`).
 *
 * References come first: one whose target type its R4 element does not allow
 * (reference-conformance.ts) is left out of the resource - the element, not the whole request, so a
 * do-not-perform stays a do-not-perform - with an error issue naming the element. Should that leave
 * a required element empty, the shape check that follows leaves the resource out.
 */
import type { RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { recordShapeProblems } from '../../data/resource-shape.ts';
import { fail, type ApplyState, type EmittedAction } from './apply-state.ts';
import { findReferenceViolations } from './reference-conformance.ts';

/** Removes every action (at any depth) whose resource is one of `refs`; true when any was removed. */
function dropActions(actions: RequestGroupAction[], refs: ReadonlySet<string>): RequestGroupAction[] {
  const kept: RequestGroupAction[] = [];
  for (const action of actions) {
    if (action.resource?.reference && refs.has(action.resource.reference)) continue;
    if (action.action) {
      const children = dropActions(action.action, refs);
      // R4 rqg-1: an action with neither a resource nor sub-actions is left out too.
      if (children.length === 0 && !action.resource) continue;
      action.action = children;
    }
    kept.push(action);
  }
  return kept;
}

/** The emitted action whose request is `resource`, looked up only when something is wrong. */
function emittedFor(state: ApplyState, resource: Resource): EmittedAction | undefined {
  for (const emitted of state.byActionId.values()) if (emitted.request === resource) return emitted;
  return undefined;
}

/** Leaves out every reference to a resource type its element does not allow, with an error each. */
function leaveOutDisallowedReferences(state: ApplyState): void {
  for (const { index, violation } of findReferenceViolations(state.resources)) {
    const resource = state.resources[index]!;
    violation.leaveOut();
    const emitted = emittedFor(state, resource);
    const where = emitted ? `action ${emitted.trace.actionId}` : `${resource.resourceType}/${resource.id ?? ''}`;
    const message = `${violation.expression} references ${violation.reference} (a ${violation.targetType}), but R4 allows only ${violation.allowed.join(' | ')} there, so the reference is left out`;
    fail(state, 'error', 'invalid', `${where}: ${message}`, where);
    emitted?.trace.notes.push(message);
  }
}

/** Checks what the apply built; returns the top-level actions without those whose resource is invalid. */
export function leaveOutInvalidResources(state: ApplyState, actions: RequestGroupAction[]): RequestGroupAction[] {
  leaveOutDisallowedReferences(state);
  const problems = recordShapeProblems(state.resources, { required: true });
  if (problems.length === 0) return actions;
  const invalid = new Map<Resource, string[]>();
  for (const p of problems) {
    const resource = state.resources[p.index]!;
    invalid.set(resource, [...(invalid.get(resource) ?? []), `${p.expression}: ${p.message}`]);
  }
  const refs = new Set<string>();
  for (const [resource, found] of invalid) {
    const ref = `#${resource.id ?? ''}`;
    refs.add(ref);
    const emitted = emittedFor(state, resource);
    const where = emitted ? `action ${emitted.trace.actionId}` : `${resource.resourceType}/${resource.id ?? ''}`;
    fail(state, 'error', 'invalid', `${where}: the generated ${resource.resourceType} is not valid FHIR R4, so it is left out: ${found.join('; ')}`, where);
    if (emitted) {
      emitted.trace.applicability = 'error';
      emitted.trace.reason = `not applied: its ${resource.resourceType} would not be valid FHIR R4 (${found[0] ?? ''})`;
      Reflect.deleteProperty(emitted.trace, 'resource');
    }
  }
  const valid = state.resources.filter((r) => !invalid.has(r));
  state.resources.length = 0;
  state.resources.push(...valid);
  return dropActions(actions, refs);
}
