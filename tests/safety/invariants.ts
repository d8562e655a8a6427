/**
 * The safety invariants (clinical-rules.md SAFE-1..SAFE-10), each a check of one scenario against
 * every PlanDefinition. A check returns the violations it found (empty = holds); each violation
 * names the plan and the offending output.
 */
import type { ActivityDefinition, CarePlan, OperationOutcome, RequestGroup } from '@medplum/fhirtypes';
import { declaresRequestPerUse } from '../../src/engine/plan/merge-activities.ts';
import {
  apply,
  applyFresh,
  base,
  copyable,
  DATA_BOUNDARY,
  knowledge,
  notCountingCopy,
  PLANS,
  safeShiftDays,
  type Applied,
  type PlanId,
  type Scenario,
  subjectOf,
} from './harness.ts';
import {
  anniversary,
  calendarDate,
  clip,
  describePlan,
  firstDifference,
  isProcedureCode,
  isReversalCode,
  isScheduledProcedureCode,
  IVF_REFERRAL,
  shiftDates,
  todayOf,
  withoutNotesMentioning,
  withoutReference,
  withoutWarnings,
  WORKUP_CODES,
  type RequestInfo,
} from './plan-output.ts';
import { bleedingEvidence, describeRecord, describeResource, inflammationEvidence, pregnancyEvidence, pregnancyExcluded, unfitEvidence } from './record.ts';

/** True when the ActivityDefinition a request instantiates declares each use its own occasion (request-per-use). */
function isRequestPerUse(canonicals: unknown): boolean {
  const canonical = Array.isArray(canonicals) ? canonicals[0] : canonicals;
  if (typeof canonical !== 'string') return false;
  return declaresRequestPerUse(knowledge.resolve<ActivityDefinition>(canonical, 'ActivityDefinition'));
}

export interface Violation {
  plan: PlanId;
  text: string;
}

export interface Invariant {
  /** Short key (used in the report). */
  key: string;
  /** The test's name: what must hold, with the rule ids. */
  title: string;
  check(s: Scenario): Violation[];
}

const label = (r: RequestInfo) => `${r.type}/${r.id} (${r.primary ?? 'no code'})`;
const span = (start?: string, end?: string) => (start === end ? `${start}` : `${start ?? ''}..${end ?? ''}`);

function perPlan(check: (s: Scenario, plan: PlanId, a: Applied) => string[]): (s: Scenario) => Violation[] {
  return (s) => PLANS.flatMap((plan) => check(s, plan, base(s, plan)).map((text) => ({ plan, text })));
}

/** Rule ids as they appear in the output's notes and issues. */
export const RULE_ID = /\b(TR|HSG|HYS|SAFE)-[A-Z]*\d+\b/;

export const INVARIANTS: Invariant[] = [
  {
    key: 'dates-not-past',
    title: 'SAFE-5/SAFE-10: no request or action is dated before today (period start and end, dateTime), today = the calendar date of now in its own offset',
    check: perPlan((s, _plan, a) => {
      const today = todayOf(s.now);
      const out: string[] = [];
      const test = (what: string, where: string, start?: string, end?: string) => {
        const bad = [start, end].filter((d): d is string => d !== undefined).filter((d) => (calendarDate(d, s.now) ?? '9999') < today);
        if (bad.length)
          out.push(
            `${what} ${where} = ${span(start, end)} lies before today ${today}${end !== undefined && (calendarDate(end, s.now) ?? '9999') < today ? ' (wholly in the past)' : ' (starts in the past: a window still open is offered from today)'}`,
          );
      };
      for (const r of a.view.requests) for (const sp of r.spans) test(label(r) + (r.active ? '' : ' doNotPerform'), sp.where, sp.start, sp.end);
      for (const t of a.view.actionTimings) test('', t.where, t.start, t.end);
      return out;
    }),
  },
  {
    key: 'workup-before-procedure',
    title:
      'SAFE-5: work-up that prepares a procedure (semen analysis, ECG, chest X-ray, CBC, cervical smear, discharge routine, iodine test, hysteroscopy labs) ends before the procedure period starts',
    check: perPlan((s, _plan, a) => {
      const out: string[] = [];
      const active = a.view.requests.filter((r) => r.active);
      for (const proc of active.filter((r) => r.codes.some(isScheduledProcedureCode))) {
        const starts = proc.spans
          .map((x) => x.start ?? x.end)
          .filter((d): d is string => d !== undefined)
          .map((d) => calendarDate(d, s.now)!);
        if (starts.length === 0) continue; // an undated procedure has no start to precede
        const procStart = starts.sort()[0]!;
        const procAction = a.view.actionOf.get(proc.id)?.id;
        for (const w of active.filter((r) => r.group === proc.group && r.codes.some((c) => WORKUP_CODES.has(c)))) {
          const what = WORKUP_CODES.get(w.codes.find((c) => WORKUP_CODES.has(c))!)!;
          if (w.spans.length === 0) {
            const rel = a.view.actionOf.get(w.id)?.relatedAction ?? [];
            if (!rel.some((x) => x.actionId === procAction && (x.relationship === 'before-start' || x.relationship === 'before'))) {
              out.push(`${label(w)} [${what}] is undated (not stated to end before ${label(proc)} starting ${procStart}, no relatedAction before-start)`);
            }
            continue;
          }
          for (const sp of w.spans) {
            if (sp.end === undefined) out.push(`${label(w)} [${what}] ${sp.where} = ${span(sp.start, sp.end)} has no end: not before ${label(proc)} starting ${procStart}`);
            else if (calendarDate(sp.end, s.now)! >= procStart)
              out.push(
                `${label(w)} [${what}] ${sp.where} = ${span(sp.start, sp.end)} does not end before ${label(proc)} ${proc.spans.map((x) => span(x.start, x.end)).join(', ')}`,
              );
          }
        }
      }
      return out;
    }),
  },
  {
    key: 'no-procedure-pregnant-or-inflamed',
    title:
      'SAFE-2/SAFE-3: no procedure is proposed to a pregnant patient (positive test/status newest in 7 days, pregnancy Condition) or during acute genital inflammation (Condition incl. suspected; abnormal discharge newest in 7 days)',
    check: perPlan((s, _plan, a) => {
      const today = todayOf(s.now);
      const why = [...pregnancyEvidence(s.record, today).map((x) => `pregnant: ${x}`), ...inflammationEvidence(s.record, today).map((x) => `acute genital inflammation: ${x}`)];
      if (why.length === 0) return [];
      return a.view.requests.filter((r) => r.active && r.codes.some(isProcedureCode)).map((r) => `${label(r)} proposed although ${why.join('; ')}`);
    }),
  },
  {
    key: 'procedure-needs-pregnancy-excluded',
    title: 'SAFE-2: a procedure (reversal included) is proposed only when pregnancy is excluded by a final negative result from the last 7 days, newer than any positive',
    check: perPlan((s, _plan, a) => {
      if (pregnancyExcluded(s.record, todayOf(s.now))) return [];
      return a.view.requests
        .filter((r) => r.active && r.codes.some(isProcedureCode))
        .map((r) => `${label(r)} proposed although no final negative pregnancy result of the last 7 days excludes pregnancy`);
    }),
  },
  {
    key: 'no-procedure-unfit',
    title: 'SAFE-4: no procedure is proposed when the newest fitness assessment says not fit or a confirmed serious systemic disease is active (same in all three)',
    check: perPlan((s, _plan, a) => {
      const why = unfitEvidence(s.record);
      if (why.length === 0) return [];
      return a.view.requests.filter((r) => r.active && r.codes.some(isProcedureCode)).map((r) => `${label(r)} proposed although not fit: ${why.join(', ')}`);
    }),
  },
  {
    key: 'no-procedure-dated-while-bleeding',
    title: 'SAFE-10/HSG-C4: while she is bleeding (period started in the last 8 days, no end recorded) no procedure is dated',
    check: perPlan((s, _plan, a) => {
      const why = bleedingEvidence(s.record, todayOf(s.now));
      if (why.length === 0) return [];
      return a.view.requests
        .filter((r) => r.active && r.codes.some(isProcedureCode) && r.spans.length > 0)
        .map((r) => `${label(r)} dated ${r.spans.map((x) => span(x.start, x.end)).join(', ')} although she is bleeding now (${why.join(', ')}, no end recorded)`);
    }),
  },
  {
    key: 'reversal-before-40',
    title: 'TR-I2/SAFE-5: no reversal date on or after the 40th birthday (the reanastomosis period ends before it)',
    check: perPlan((s, _plan, a) => {
      const out: string[] = [];
      const birthDate = (subjectOf(s) as { birthDate?: string }).birthDate;
      for (const r of a.view.requests.filter((x) => x.active && x.codes.some(isReversalCode))) {
        if (!birthDate) {
          out.push(`${label(r)} proposed without a birth date (age on the planned date unknown)`);
          continue;
        }
        const limit = anniversary(birthDate, 40);
        if (r.spans.length === 0) out.push(`${label(r)} is undated: its date cannot be shown to fall before the 40th birthday ${limit}`);
        for (const sp of r.spans) {
          if (sp.end === undefined) out.push(`${label(r)} ${sp.where} = ${span(sp.start, sp.end)} is open-ended: runs past the 40th birthday ${limit}`);
          else if (calendarDate(sp.end, s.now)! >= limit)
            out.push(`${label(r)} ${sp.where} = ${span(sp.start, sp.end)} reaches the 40th birthday ${limit} (birthDate ${birthDate})`);
        }
      }
      return out;
    }),
  },
  {
    key: 'every-request-coded',
    title: 'SAFE-6: every Task and request carries a code (ServiceRequest.code, MedicationRequest.medication, CommunicationRequest.category, Task.code)',
    check: perPlan((_s, _plan, a) =>
      a.view.requests
        .filter((r) => r.codes.length === 0)
        .map((r) => `${r.type}/${r.id} has no coded ${r.type === 'CommunicationRequest' ? 'category' : r.type === 'MedicationRequest' ? 'medication' : 'code'}`),
    ),
  },
  {
    key: 'no-duplicate-activity',
    title:
      'SAFE-6: each activity appears once in a plan (no two active requests with the same primary code; instructions: category and text; collect-information Tasks: the element asked for)',
    check: perPlan((_s, _plan, a) => {
      const seen = new Map<string, RequestInfo>();
      const out: string[] = [];
      for (const r of a.view.requests.filter((x) => x.active && x.primary)) {
        const res = r.resource;
        const key =
          r.type === 'CommunicationRequest'
            ? `${r.type} ${r.primary} ${(res.payload ?? []).map((p) => p.contentString).join(' ')}`
            : r.type === 'Task'
              ? `${r.type} ${r.primary} ${[res.reasonCode ?? []]
                  .flat()
                  .map((c) => (c.coding?.[0] ? `${c.coding[0].system}|${c.coding[0].code}` : c.text))
                  .join(',')}`
              : // An activity whose every use is its own occasion (request-per-use: the pregnancy test on
                // the day of each procedure, SAFE-2) appears once per procedure group, not once per plan.
                `${r.type} ${r.primary}${isRequestPerUse((res as { instantiatesCanonical?: unknown }).instantiatesCanonical) ? ` per ${r.group}` : ''}`;
        const first = seen.get(key);
        if (first) out.push(`${label(r)} repeats ${label(first)}${first.group !== r.group ? ` (in RequestGroup ${first.group} and ${r.group})` : ''}`);
        else seen.set(key, r);
      }
      return out;
    }),
  },
  {
    key: 'never-silent',
    title:
      'SAFE-7: no result is empty or silent - without an active procedure (or IVF referral) the output says why: a Task/CommunicationRequest, a doNotPerform with reasonCode, or a note/OperationOutcome issue naming a rule id',
    check: perPlan((_s, _plan, a) => {
      const offered = a.view.requests.some((r) => r.active && (r.codes.some(isProcedureCode) || r.codes.includes(IVF_REFERRAL)));
      if (offered) return [];
      if (a.view.requests.some((r) => r.type === 'Task' || r.type === 'CommunicationRequest')) return [];
      if (a.view.requests.some((r) => !r.active && r.resource.reasonCode !== undefined)) return [];
      const texts = [
        ...(a.carePlan.note ?? []).map((n) => n.text),
        ...a.view.groups.flatMap((g: RequestGroup) => (g.note ?? []).map((n) => n.text)),
        ...[...a.view.contained.values(), a.result.outcome]
          .filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome')
          .flatMap((oo) => (oo.issue ?? []).flatMap((i) => [i.diagnostics, i.details?.text, ...(i.details?.coding ?? []).map((c) => c.display)])),
      ].filter((t): t is string => typeof t === 'string');
      if (texts.some((t) => RULE_ID.test(t))) return [];
      const why = a.result.trace
        .filter((t) => t.applicability !== 'applicable')
        .slice(0, 2)
        .map((t) => `${t.actionId}: ${clip(t.reason, 140)}`)
        .join(' | ');
      const requests = a.view.requests.length ? `only ${a.view.requests.map(label).join(', ')}` : 'nothing';
      return [
        `no procedure offered, the CarePlan holds ${requests} and does not say why (no Task/CommunicationRequest, no doNotPerform with reasonCode, no note/OperationOutcome naming a rule id); the trace alone knows: ${why || '(no trace entry)'}`,
      ];
    }),
  },
  {
    key: 'one-patient-data',
    title: "SAFE-1: another patient's records in the same input change nothing - the plan equals the one from the subject's data alone",
    check: perPlan((s, plan, a) => {
      if (s.other.length === 0) return [];
      const both = apply(plan, [...s.record, ...s.other], s.now, subjectOf(s).id);
      const needles = s.other.map((r) => `${r.resourceType}/${r.id}`);
      const d = firstDifference(withoutNotesMentioning(withoutWarnings(a.carePlan), needles), withoutNotesMentioning(withoutWarnings(both.carePlan), needles));
      if (!d) return [];
      return [
        `(data boundary: ${DATA_BOUNDARY}) with Patient/${s.other[0]!.id}'s ${s.other.length - 1} records (${s.other
          .slice(1)
          .map((r) => r.id)
          .join(', ')}) in the input the plan differs: ${d}\n      with her records the plan is:\n${describePlan(both.view)}`,
      ];
    }),
  },
  {
    key: 'void-records-change-nothing',
    title:
      'SAFE-10: an entered-in-error/cancelled Observation, refuted/entered-in-error Condition or AllergyIntolerance, not-done/entered-in-error Procedure changes nothing and is never cited',
    check: perPlan((s, plan, a) => {
      const pool = copyable(s.record);
      if (pool.length === 0) return [];
      const out: string[] = [];
      for (const e of s.eie) {
        const copy = notCountingCopy(pool[e.index % pool.length]!, e.kind);
        const ref = `${copy.resourceType}/${copy.id}`;
        const v = apply(plan, [...s.record, copy], s.now, subjectOf(s).id);
        if (JSON.stringify(v.carePlan).includes(`"${ref}"`)) out.push(`adding ${describeResource(copy)}: the plan cites it as evidence`);
        const d = firstDifference(withoutWarnings(a.carePlan), withoutNotesMentioning(withoutReference(withoutWarnings(v.carePlan), ref), [ref, copy.id!]));
        if (d) out.push(`adding ${describeResource(copy)} changes the plan: ${d}\n      with it the plan is:\n${describePlan(v.view)}`);
      }
      return out;
    }),
  },
  {
    key: 'time-shift',
    title: 'SAFE-10: shifting every date and now by whole weeks shifts the plan dates and changes nothing else',
    check: perPlan((s, plan, a) => {
      const days = safeShiftDays(s);
      if (days === undefined) return [];
      const shifted = apply(plan, shiftDates(s.record, days), shiftDates(s.now, days), subjectOf(s).id);
      const back = shiftDates(shifted.carePlan, -days) as CarePlan;
      const d = firstDifference(a.carePlan, back);
      if (!d) return [];
      return [`shifted by ${days} days (now ${shiftDates(s.now, days)}), the plan shifted back differs: ${d}\n      the shifted plan is:\n${describePlan(shifted.view)}`];
    }),
  },
  {
    key: 'determinism',
    title: 'determinism: the same input applied twice gives byte-identical JSON (CarePlan, outcome, missing, trace) and the input is not modified',
    check: perPlan((s, plan, a) => {
      const input = structuredClone(s.record);
      const before = JSON.stringify(input);
      const again = applyFresh(plan, input, s.now, subjectOf(s).id);
      const out: string[] = [];
      if (JSON.stringify(input) !== before) out.push('the apply modified its input record');
      const pick = (r: typeof again) => ({ carePlan: r.carePlan, outcome: r.outcome, missing: r.missing, trace: r.trace });
      const d = firstDifference(pick(a.result), pick(again));
      if (d) out.push(`a second apply differs: ${d}`);
      return out;
    }),
  },
];

/** A scenario and its violations, as printed when an invariant fails. */
export function formatFailure(s: Scenario, violations: Violation[], opts: { max?: number; plans?: number; planLines?: number } = {}): string {
  const { max = 6, plans = 4, planLines = 40 } = opts;
  const lines = [`${s.label}: now ${s.now} (today ${todayOf(s.now)})`, '    record:', describeRecord(s.record)];
  for (const plan of [...new Set(violations.map((v) => v.plan))].slice(0, plans)) {
    const vs = violations.filter((v) => v.plan === plan);
    lines.push(`    ${plan}: ${vs.length} violation(s)`);
    for (const v of vs.slice(0, max)) lines.push(`    - ${v.text}`);
    if (vs.length > max) lines.push(`    - ... ${vs.length - max} more`);
    const out = describePlan(base(s, plan).view).split('\n');
    lines.push('    its plan (base apply):', ...out.slice(0, planLines));
    if (out.length > planLines) lines.push(`      ... ${out.length - planLines} more`);
  }
  return lines.join('\n');
}
