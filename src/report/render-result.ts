/**
 * A readable summary of an $apply result for people: what is proposed (with its window), what must
 * not be done and why, what data to collect, and why each action is in or out. Pure: result in,
 * lines out.
 */
import type { CodeableConcept, Period, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import type { ActionTrace, ApplyResult } from '../engine/types.ts';

function codeText(cc: CodeableConcept | undefined): string {
  if (!cc) return '';
  const coding = cc.coding?.[0];
  return cc.text ?? coding?.display ?? (coding ? `${coding.system?.split('/').pop()}#${coding.code}` : '');
}

function periodText(p: Period | undefined, dateTime?: string): string {
  if (dateTime) return ` on ${dateTime}`;
  if (!p) return '';
  if (p.start && p.end) return p.start === p.end ? ` on ${p.start}` : ` between ${p.start} and ${p.end}`;
  return p.start ? ` from ${p.start}` : p.end ? ` by ${p.end}` : '';
}

function describeRequest(r: Resource): string {
  // What the request is: code, medication or (CommunicationRequest) category; read generically.
  const fields = r as unknown as Record<string, unknown>;
  const code = (fields.code ?? fields.medicationCodeableConcept ?? fields.category) as CodeableConcept | CodeableConcept[] | undefined;
  const name = codeText(Array.isArray(code) ? code[0] : code);
  return `${r.resourceType} ${name}${periodText(fields.occurrencePeriod as Period | undefined, fields.occurrenceDateTime as string | undefined)}`;
}

export function renderResult(result: ApplyResult, heading: string): string[] {
  const lines = [heading];
  const byRef = new Map(result.resources.map((r) => [`#${r.id}`, r as Resource & Record<string, unknown>]));
  const walk = (actions: RequestGroupAction[] | undefined, depth: number) => {
    for (const action of actions ?? []) {
      const pad = '  '.repeat(depth + 1);
      const request = action.resource?.reference ? byRef.get(action.resource.reference) : undefined;
      let mark = '-';
      let text = action.title ?? action.id ?? '';
      if (request?.resourceType === 'Task' && JSON.stringify(request.code).includes('collect-information')) {
        mark = '?';
        text = `COLLECT ${request.description ?? text}`;
      } else if (request?.doNotPerform === true) {
        mark = 'x';
        const reasons = [
          ...((request.reasonCode as CodeableConcept[] | undefined) ?? []).map(codeText),
          ...((request.reasonReference as { reference?: string }[] | undefined) ?? []).map((x) => x.reference),
          // Evidence R4 does not allow in reasonReference (an allergy, a procedure) is cited in supportingInfo.
          ...((request.supportingInfo as { reference?: string }[] | undefined) ?? []).map((x) => x.reference),
        ];
        text = `DO NOT PERFORM ${describeRequest(request)}${reasons.length ? ` - because: ${reasons.join(', ')}` : ''}`;
      } else if (request?.resourceType === 'RequestGroup') {
        // A nested protocol: show what it holds.
        lines.push(`${pad}- ${text} (nested protocol ${(request.instantiatesCanonical ?? [])[0] ?? ''})`);
        walk(request.action, depth + 1);
        walk(action.action, depth + 1);
        continue;
      } else if (request) {
        mark = '+';
        text = `${text}: ${describeRequest(request)}`;
        // Requests without occurrence[x] (MedicationRequest, Task) carry their date on the action.
        if (!request.occurrencePeriod && !request.occurrenceDateTime) text += periodText(action.timingPeriod, action.timingDateTime);
      } else if (action.timingPeriod || action.timingDateTime) {
        text += periodText(action.timingPeriod, action.timingDateTime);
      }
      if (action.selectionBehavior && action.action?.length) text += ` [choose: ${action.selectionBehavior}]`;
      lines.push(`${pad}${mark} ${text}`);
      walk(action.action, depth + 1);
    }
  };
  walk(result.requestGroup.action, 0);
  // Actions left out, by why: a missing-data action is undecided (not "not applicable"), so it is
  // listed apart with what to record; an evaluation error is neither.
  const left: Record<Exclude<ActionTrace['applicability'], 'applicable'>, string[]> = { 'missing-data': [], error: [], 'not-applicable': [] };
  const whyNot = (traces: ActionTrace[]) => {
    for (const t of traces) {
      if (t.applicability === 'applicable') whyNot(t.children);
      // A group undecided because some of its actions wait for data: those actions say what to record.
      else if (t.applicability === 'missing-data' && t.children.some((c) => c.applicability === 'missing-data')) whyNot(t.children);
      else left[t.applicability].push(`    . ${t.title ?? t.actionId}: ${t.reason}`);
    }
  };
  whyNot(result.trace);
  if (left['missing-data'].length > 0) lines.push('  not decided - data missing (record it, then apply again):', ...left['missing-data']);
  if (left.error.length > 0) lines.push('  not decided - evaluation error:', ...left.error);
  if (left['not-applicable'].length > 0) lines.push('  checked, not applicable:', ...left['not-applicable']);
  const problems = result.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'warning');
  for (const p of problems) lines.push(`  ! ${p.severity}: ${p.diagnostics}`);
  return lines;
}
