/**
 * Reading a $apply result for the safety invariants: the contained requests with their codes,
 * dates and the (nested) RequestGroup that owns them, the RequestGroup actions' timing, dates in
 * a clock's own calendar (SAFE-10), and the normal forms used to compare two CarePlans.
 */
import type { CarePlan, CodeableConcept, OperationOutcome, RequestGroup, RequestGroupAction, Resource } from '@medplum/fhirtypes';

export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const ICD9 = 'http://hl7.org/fhir/sid/icd-9-cm';
export const LOCAL = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';
const k = (system: string, code: string) => `${system}|${code}`;

/** Procedures (terminology.md section C): never proposed to a pregnant patient or during acute genital inflammation. */
export function isProcedureCode(key: string): boolean {
  return PROCEDURE_CODES.has(key) || key.startsWith(`${LOCAL}|tubal-reanastomosis-`);
}
const PROCEDURE_CODES = new Set([
  k(SCT, '168884001'), // HSG
  k(LOCAL, 'hycosy'),
  k(SCT, '233545006'), // hysteroscopy
  k(SCT, '88355005'), // diagnostic hysteroscopy
  k(ICD9, '66.73'), // tubal reanastomosis
  k(LOCAL, 'tubal-hydrotubation'),
  k(LOCAL, 'laparoscopic-chromopertubation'),
]);
/** The procedures whose period the work-up must precede (SAFE-5). */
export function isScheduledProcedureCode(key: string): boolean {
  return [k(SCT, '168884001'), k(LOCAL, 'hycosy'), k(SCT, '233545006'), k(SCT, '88355005'), k(ICD9, '66.73')].includes(key) || key.startsWith(`${LOCAL}|tubal-reanastomosis-`);
}
export function isReversalCode(key: string): boolean {
  return key === k(ICD9, '66.73') || key.startsWith(`${LOCAL}|tubal-reanastomosis-`);
}
export const IVF_REFERRAL = k(SCT, '52637005');

/**
 * Work-up that prepares a procedure (SAFE-5: semen analysis TR-W1, pre-operative tests TR-P1 and
 * HYS-P2, discharge and iodine tests HSG-C1/HSG-P3).
 */
export const WORKUP_CODES = new Map<string, string>([
  [k(SCT, '5025004'), 'partner semen analysis (TR-W1)'],
  [k(LOCAL, 'semen-analysis-panel'), 'partner semen analysis (TR-W1)'],
  [k(SCT, '29303009'), 'ECG (TR-P1)'],
  [k(SCT, '399208008'), 'chest X-ray (TR-P1)'],
  [k(LOINC, '57021-8'), 'complete blood count (TR-P1/HYS-P2)'],
  [k(LOINC, '47528-5'), 'cervical smear (TR-P1)'],
  [k(LOCAL, 'leukorrhea-routine'), 'vaginal discharge routine (HSG-C1/TR-P1/HYS-P2)'],
  [k(LOCAL, 'iodine-sensitivity-test'), 'iodine sensitivity test (HSG-P3)'],
  [k(LOINC, '24356-8'), 'urinalysis (HYS-P2)'],
  [k(LOINC, '24325-3'), 'liver function (HYS-P2)'],
  [k(LOINC, '24362-6'), 'kidney function (HYS-P2)'],
  [k(LOINC, '1558-6'), 'fasting glucose (HYS-P2)'],
  [k(LOCAL, 'coagulation-panel'), 'coagulation (HYS-P2)'],
  [k(LOCAL, 'hbv-serology-5'), 'hepatitis B serology (HYS-P2)'],
  [k(LOINC, '16128-1'), 'hepatitis C antibody (HYS-P2)'],
  [k(LOINC, '56888-1'), 'HIV (HYS-P2)'],
  [k(LOINC, '22461-8'), 'syphilis TRUST (HYS-P2)'],
  [k(LOINC, '882-1'), 'blood group (HYS-P2)'],
  [k(LOINC, '21190-4'), 'cervical chlamydia (HYS-P2)'],
  [k(LOCAL, 'mycoplasma-ureaplasma-culture'), 'cervical mycoplasma (HYS-P2)'],
]);

export const REQUEST_TYPES = new Set(['ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'Task']);

export type AnyRequest = Resource & {
  id?: string;
  doNotPerform?: boolean;
  code?: CodeableConcept;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: { reference?: string };
  category?: CodeableConcept[];
  reasonReference?: { reference?: string }[];
  supportingInfo?: { reference?: string }[];
  reasonCode?: CodeableConcept | CodeableConcept[];
  payload?: { contentString?: string }[];
  occurrencePeriod?: { start?: string; end?: string };
  occurrenceDateTime?: string;
  occurrenceTiming?: Timing;
  executionPeriod?: { start?: string; end?: string };
  restriction?: { period?: { start?: string; end?: string } };
  dosageInstruction?: { timing?: Timing }[];
  dispenseRequest?: { validityPeriod?: { start?: string; end?: string } };
};
interface Timing {
  event?: string[];
  repeat?: { boundsPeriod?: { start?: string; end?: string } };
}

export interface DatedSpan {
  /** Where the date was found (for messages). */
  where: string;
  start?: string;
  end?: string;
}

export interface RequestInfo {
  resource: AnyRequest;
  id: string;
  type: string;
  /** The RequestGroup whose action points at it ('requestgroup' or a nested plan's group). */
  group: string;
  codes: string[];
  primary: string | undefined;
  active: boolean;
  spans: DatedSpan[];
}

export interface PlanView {
  carePlan: CarePlan;
  contained: Map<string, Resource>;
  /** The RequestGroup action that points at each contained resource (by resource id). */
  actionOf: Map<string, RequestGroupAction>;
  groups: RequestGroup[];
  requests: RequestInfo[];
  actionTimings: DatedSpan[];
}

/** The codes of the element that says what a request is (CommunicationRequest: category; Task: code). */
export function codesOf(r: AnyRequest, contained?: Map<string, Resource>): string[] {
  let concepts: CodeableConcept[];
  if (r.resourceType === 'MedicationRequest') {
    if (r.medicationCodeableConcept) concepts = [r.medicationCodeableConcept];
    else {
      const med = r.medicationReference?.reference?.startsWith('#') ? contained?.get(r.medicationReference.reference.slice(1)) : undefined;
      concepts = med && 'code' in med && med.code ? [med.code as CodeableConcept] : [];
    }
  } else if (r.resourceType === 'CommunicationRequest') concepts = r.category ?? [];
  else concepts = r.code ? [r.code] : [];
  return concepts.flatMap((c) => (c.coding ?? []).filter((x) => x.system && x.code).map((x) => `${x.system}|${x.code}`));
}

function spansOf(r: AnyRequest): DatedSpan[] {
  const out: DatedSpan[] = [];
  const period = (where: string, p?: { start?: string; end?: string }) => {
    if (p && (p.start || p.end)) out.push({ where, start: p.start, end: p.end });
  };
  const timing = (where: string, t?: Timing) => {
    for (const e of t?.event ?? []) out.push({ where: `${where}.event`, start: e, end: e });
    period(`${where}.repeat.boundsPeriod`, t?.repeat?.boundsPeriod);
  };
  period('occurrencePeriod', r.occurrencePeriod);
  if (r.occurrenceDateTime) out.push({ where: 'occurrenceDateTime', start: r.occurrenceDateTime, end: r.occurrenceDateTime });
  timing('occurrenceTiming', r.occurrenceTiming);
  period('executionPeriod', r.executionPeriod);
  period('restriction.period', r.restriction?.period);
  (r.dosageInstruction ?? []).forEach((d, i) => {
    timing(`dosageInstruction[${i}].timing`, d.timing);
  });
  period('dispenseRequest.validityPeriod', r.dispenseRequest?.validityPeriod);
  return out;
}

export function viewOf(carePlan: CarePlan): PlanView {
  const contained = new Map((carePlan.contained ?? []).map((r) => [r.id ?? '', r]));
  const owner = new Map<string, string>();
  const actionOf = new Map<string, RequestGroupAction>();
  const groups: RequestGroup[] = [];
  const actionTimings: DatedSpan[] = [];
  const seenGroups = new Set<string>();
  const walkGroup = (g: RequestGroup) => {
    if (seenGroups.has(g.id ?? '')) return;
    seenGroups.add(g.id ?? '');
    groups.push(g);
    const walk = (actions: RequestGroupAction[] | undefined, path: string) => {
      (actions ?? []).forEach((a, i) => {
        const where = `RequestGroup/${g.id} action ${a.id ?? `${path}[${i}]`}`;
        if (a.timingPeriod) actionTimings.push({ where: `${where}.timingPeriod`, start: a.timingPeriod.start, end: a.timingPeriod.end });
        if (a.timingDateTime) actionTimings.push({ where: `${where}.timingDateTime`, start: a.timingDateTime, end: a.timingDateTime });
        const t = (a as { timingTiming?: Timing }).timingTiming;
        for (const e of t?.event ?? []) actionTimings.push({ where: `${where}.timingTiming.event`, start: e, end: e });
        if (t?.repeat?.boundsPeriod) actionTimings.push({ where: `${where}.timingTiming.repeat.boundsPeriod`, ...t.repeat.boundsPeriod });
        const ref = a.resource?.reference;
        if (ref?.startsWith('#')) {
          const target = contained.get(ref.slice(1));
          if (target?.resourceType === 'RequestGroup') walkGroup(target);
          else if (!owner.has(ref.slice(1))) {
            owner.set(ref.slice(1), g.id ?? '');
            actionOf.set(ref.slice(1), a);
          }
        }
        walk(a.action, `${path}[${i}]`);
      });
    };
    walk(g.action, 'action');
  };
  const root =
    [...contained.values()].find((r): r is RequestGroup => r.resourceType === 'RequestGroup' && r.id === 'requestgroup') ??
    [...contained.values()].find((r): r is RequestGroup => r.resourceType === 'RequestGroup');
  if (root) walkGroup(root);
  for (const r of contained.values()) if (r.resourceType === 'RequestGroup') walkGroup(r);
  const requests: RequestInfo[] = [...contained.values()]
    .filter((r): r is AnyRequest => REQUEST_TYPES.has(r.resourceType))
    .map((r) => {
      const codes = codesOf(r, contained);
      return {
        resource: r,
        id: r.id ?? '',
        type: r.resourceType,
        group: owner.get(r.id ?? '') ?? '(not referenced)',
        codes,
        primary: codes[0],
        active: r.doNotPerform !== true,
        spans: spansOf(r),
      };
    });
  return { carePlan, contained, actionOf, groups, requests, actionTimings };
}

// ---------------------------------------------------------------------------------------------
// Dates

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** The calendar date of `now` in its own offset (SAFE-10): the date part as written. */
export function todayOf(now: string): string {
  return now.slice(0, 10);
}

/** A date or dateTime as a calendar date, seen in the offset of `now` (a date as written). */
export function calendarDate(value: string, now: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  if (/^\d{4}(-\d{2})?$/.test(value)) return undefined; // partial date: not comparable by day
  const t = Date.parse(value);
  if (Number.isNaN(t)) return undefined;
  const m = /([+-])(\d{2}):(\d{2})$/.exec(now);
  const offsetMin = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return new Date(t + offsetMin * 60_000).toISOString().slice(0, 10);
}

export function addDays(date: string, n: number): string {
  const [, y, m, d] = DATE.exec(date)!;
  return new Date(Date.UTC(Number(y), Number(m) - 1, Number(d) + n)).toISOString().slice(0, 10);
}

/** The date `years` years after a birth date (FHIR/FHIRPath date arithmetic; 29 Feb -> 28 Feb). */
export function anniversary(birthDate: string, years: number): string {
  const [, y, m, d] = DATE.exec(birthDate)!;
  const year = Number(y) + years;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = m === '02' && d === '29' && !leap ? '28' : d;
  return `${year}-${m}-${day}`;
}

/** Shifts every YYYY-MM-DD inside every string of a JSON value by `days` (times and offsets kept). */
export function shiftDates<T>(value: T, days: number): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)/g, (s) => addDays(s, days));
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Every YYYY-MM-DD found in a JSON value's strings. */
export function datesIn(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') for (const m of v.matchAll(/(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)/g)) out.push(m[0]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

/**
 * Whether shifting these dates by `days` commutes with calendar arithmetic in years, weeks and
 * days: each date and its shifted twin lie in the same 1 March .. 28 February span and neither is
 * 29 February (the spans are then day-for-day alike in every year).
 */
export function shiftIsCalendarSafe(dates: string[], days: number): boolean {
  const span = (date: string) => {
    const [, y, m] = DATE.exec(date)!;
    return Number(m) >= 3 ? Number(y) : Number(y) - 1;
  };
  return dates.every((d) => {
    const s = addDays(d, days);
    return !d.endsWith('-02-29') && !s.endsWith('-02-29') && span(d) === span(s);
  });
}

// ---------------------------------------------------------------------------------------------
// Normal forms for comparing CarePlans

/**
 * The CarePlan without OperationOutcome warning/information issues (e.g. "resource of another
 * patient dropped"): contained OperationOutcomes keep only error/fatal issues, and one left empty
 * is removed together with the references to it.
 */
export function withoutWarnings(carePlan: CarePlan): CarePlan {
  const cp = JSON.parse(JSON.stringify(carePlan)) as CarePlan;
  const dropped = new Set<string>();
  cp.contained = (cp.contained ?? []).flatMap((r): Resource[] => {
    if (r.resourceType !== 'OperationOutcome') return [r];
    const oo = r;
    const issue = (oo.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (issue.length === 0) {
      dropped.add(`#${oo.id}`);
      return [];
    }
    return [{ ...oo, issue }];
  });
  if (dropped.size === 0) return cp;
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip).filter((x) => x !== undefined);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.url === 'string' && (o.valueReference as { reference?: string } | undefined)?.reference && dropped.has((o.valueReference as { reference: string }).reference))
        return undefined;
      if (typeof o.reference === 'string' && dropped.has(o.reference) && Object.keys(o).length === 1) return undefined;
      const out = Object.fromEntries(
        Object.entries(o)
          .map(([key, x]) => [key, strip(x)])
          .filter(([, x]) => x !== undefined && !(Array.isArray(x) && x.length === 0)),
      );
      return out;
    }
    return v;
  };
  return strip(cp) as CarePlan;
}

/** Removes every reference to `reference` (e.g. `Observation/x`) from the CarePlan's reference lists. */
export function withoutReference(carePlan: CarePlan, reference: string): CarePlan {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip).filter((x) => !(x && typeof x === 'object' && (x as { reference?: string }).reference === reference));
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v)
          .map(([key, x]) => [key, strip(x)])
          .filter(([, x]) => !(Array.isArray(x) && x.length === 0)),
      );
    return v;
  };
  return strip(carePlan) as CarePlan;
}

/**
 * Without the notes (CarePlan.note, RequestGroup.note, any `note` list) whose text mentions one of
 * `needles`: a note saying that a record was left out ("Observation/x entered-in-error, ignored";
 * "Patient/other's records dropped") is not a change of plan.
 */
export function withoutNotesMentioning<T>(value: T, needles: string[]): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const entries = Object.entries(v).map(([key, x]): [string, unknown] => {
        if (key === 'note' && Array.isArray(x)) return [key, x.filter((n: { text?: string }) => !needles.some((needle) => n?.text?.includes(needle))).map(walk)];
        return [key, walk(x)];
      });
      return Object.fromEntries(entries.filter(([key, x]) => !(key === 'note' && Array.isArray(x) && x.length === 0)));
    }
    return v;
  };
  return walk(value) as T;
}

/** The first difference between two JSON values, as a path and the two values (for messages). */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) {
      return `${path || '(root)'}: ${a.length} vs ${b.length} entries${summariseArrayDiff(a, b)}`;
    }
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const key of keys) {
      const label = Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`;
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], label);
      if (d) return d;
    }
  }
  return `${path || '(root)'}: ${clip(JSON.stringify(a))} vs ${clip(JSON.stringify(b))}`;
}

function summariseArrayDiff(a: unknown[], b: unknown[]): string {
  const ids = (x: unknown[]) => x.map((e) => (e && typeof e === 'object' ? ((e as { id?: string }).id ?? (e as { reference?: string }).reference ?? '') : String(e)));
  const ia = ids(a);
  const ib = ids(b);
  const onlyA = ia.filter((x) => !ib.includes(x));
  const onlyB = ib.filter((x) => !ia.includes(x));
  return onlyA.length || onlyB.length ? ` (only in first: ${clip(onlyA.join(', '))}; only in second: ${clip(onlyB.join(', '))})` : '';
}

export function clip(s: string | undefined, n = 300): string {
  if (s === undefined) return 'undefined';
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

/** One line per request: type, id, primary code, doNotPerform, dates, reasons. */
export function describePlan(view: PlanView): string {
  if (view.requests.length === 0) return '      (no request, no Task)';
  return view.requests
    .map((r) => {
      const dates = r.spans.map((s) => (s.start === s.end ? `${s.where}=${s.start}` : `${s.where}=${s.start ?? ''}..${s.end ?? ''}`)).join(' ');
      // The evidence cited: reasonReference, and supportingInfo for types R4 does not allow there.
      const reasons = [...(r.resource.reasonReference ?? []), ...(r.resource.supportingInfo ?? [])].map((x) => x.reference).join(',');
      const reasonCodes = [r.resource.reasonCode ?? []]
        .flat()
        .map((c) => c.text ?? c.coding?.[0]?.code)
        .join(' / ');
      return `      ${r.type}/${r.id}${r.active ? '' : ' doNotPerform'} ${r.primary ?? '(no code)'}${dates ? ` ${dates}` : ''}${reasons ? ` reason=${reasons}` : ''}${reasonCodes ? ` reasonCode="${clip(reasonCodes, 120)}"` : ''}`;
    })
    .join('\n');
}
