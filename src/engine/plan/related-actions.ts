/**
 * relatedAction timing, the second pass of an apply: an action timed relative to another
 * ("3 days after the work-up") gets concrete dates once every target's date is known. A group with
 * no date of its own spans the dates of its actions; a cycle leaves the timing relative (warning).
 */
import type { RequestGroupAction } from '@medplum/fhirtypes';
import { instantOf } from '../dates.ts';
import { isSubDay, offsetText, relatedWhen, timingOf, whenOf, type When } from '../timing.ts';
import { fail, type ApplyState, type EmittedAction } from './apply-state.ts';
import { hasWhen, setWhen } from './request-dates.ts';

export function resolveRelatedActions(state: ApplyState): void {
  const resolving = new Set<string>();
  const requests = new Map(state.resources.map((r) => [`#${r.id}`, r]));
  /** A group with no date of its own spans the dates of its actions. */
  const spanOf = (actions: RequestGroupAction[] | undefined): When | undefined => {
    let span: When | undefined;
    for (const child of actions ?? []) {
      const w =
        child.id && state.byActionId.has(child.id)
          ? resolve(child.id)
          : (whenOf(child, child.resource?.reference ? requests.get(child.resource.reference) : undefined) ?? spanOf(child.action));
      if (!w) continue;
      if (!span) span = { ...w };
      else {
        if (instantOf(w.start)! < instantOf(span.start)!) span.start = w.start;
        if (instantOf(w.end)! > instantOf(span.end)!) span.end = w.end;
      }
    }
    return span;
  };
  // A group's span is asked for by every ancestor: remember what was settled without meeting a
  // cycle (a cycle's warnings depend on where the walk entered it, so those are recomputed as before).
  const settled = new Map<string, When | undefined>();
  let cyclesMet = 0;
  const resolve = (id: string): When | undefined => {
    if (settled.has(id)) return settled.get(id);
    const entry = state.byActionId.get(id);
    if (!entry) return undefined;
    const own = whenOf(entry.action, entry.request);
    if (own) return own;
    if (resolving.has(id)) {
      cyclesMet++;
      fail(state, 'warning', 'processing', `relatedAction cycle through action ${id}; its timing is left relative`, `RequestGroup.action#${id}`);
      return undefined;
    }
    const cyclesBefore = cyclesMet;
    const when = resolveOnce(id, entry);
    if (cyclesMet === cyclesBefore) settled.set(id, when);
    return when;
  };
  const resolveOnce = (id: string, entry: EmittedAction): When | undefined => {
    resolving.add(id);
    try {
      for (const related of entry.action.relatedAction ?? []) {
        const target = resolve(related.actionId);
        if (!target) continue;
        const when = relatedWhen(related, target);
        if (!when) continue;
        Object.assign(entry.action, timingOf(when));
        if (entry.request) {
          const r = entry.request as unknown as Record<string, unknown>;
          if (!hasWhen(r)) setWhen(r, entry.request.resourceType, when);
        }
        const precision = isSubDay(related) && target.start.length <= 10 ? ' (date precision: same day)' : '';
        entry.trace.notes.push(
          `timing: ${offsetText(related)}${related.relationship} ${related.actionId} -> ${when.start === when.end ? when.start : `${when.start}..${when.end}`}${precision}`,
        );
        return when;
      }
      return spanOf(entry.action.action);
    } finally {
      resolving.delete(id);
    }
  };
  for (const id of state.byActionId.keys()) resolve(id);
}
