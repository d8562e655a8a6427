/**
 * What the patient's record says, read straight from the rules (clinical-rules.md SAFE-2, -3,
 * -4, -10), independently of the protocols: the oracles of the safety invariants. Look-backs are
 * calendar days counted from today, the calendar date of `now` in its own offset (SAFE-10);
 * "within the last 7 days" = dated today - 7 .. today. A result's date is its calendar date as
 * recorded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Coding, Resource, ValueSet } from '@medplum/fhirtypes';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { addDays, clip, LOCAL, LOINC, SCT } from './plan-output.ts';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
type Json = Record<string, unknown>;

function valueSetKeys(id: string): Set<string> {
  const vs = JSON.parse(readFileSync(join(PROJECT_ROOT, 'profiles', `ValueSet-${id}.json`), 'utf8')) as ValueSet;
  return new Set((vs.compose?.include ?? []).flatMap((inc) => (inc.concept ?? []).map((c) => `${inc.system}|${c.code}`)));
}

/** SAFE-3: acute or subacute genital inflammation (acute PID, endometritis, adnexitis, vaginitis, cervicitis): the module's ValueSet. */
export const ACUTE_GENITAL_INFLAMMATION = valueSetKeys('vs-genital-inflammation-acute');
/** SAFE-4: serious systemic disease. */
export const SERIOUS_SYSTEMIC_DISEASE = valueSetKeys('vs-serious-systemic-disease');

const PREGNANCY_OBS = new Set([`${LOINC}|2106-3`, `${LOINC}|2118-8`, `${LOINC}|82810-3`]);
const PREGNANCY_CONDITION = new Set([`${SCT}|77386006`, `${ICD10}|Z33`, `${ICD10}|Z32.1`]);
const POSITIVE = new Set(['10828004', '77386006']);
const NEGATIVE = new Set(['260385009', '60001007']);
const ABNORMAL_INTERPRETATION = new Set(['A', 'AA', 'H', 'HH', 'HU', 'L', 'LL', 'LU', 'POS']);

const codings = (v: unknown): Coding[] => (v as { coding?: Coding[] } | undefined)?.coding ?? [];
const keysOf = (r: Resource): string[] => codings((r as unknown as Json).code).map((c) => `${c.system}|${c.code}`);
const hasCode = (r: Resource, set: Set<string>) => keysOf(r).some((key) => set.has(key));

/** Observation statuses that can hold a procedure (preliminary included) and those that can clear one. */
const HOLDING = new Set(['final', 'amended', 'corrected', 'preliminary']);
const CLEARING = new Set(['final', 'amended', 'corrected']);

function observations(record: Resource[], codes: Set<string>): Json[] {
  return record.filter((r) => r.resourceType === 'Observation' && hasCode(r, codes)) as unknown as Json[];
}

export function dateOf(o: Json): string | undefined {
  const v = (o.effectiveDateTime ?? (o.effectivePeriod as { start?: string } | undefined)?.start ?? o.issued) as string | undefined;
  return v?.slice(0, 10);
}

const within = (date: string | undefined, today: string, days: number) => date !== undefined && date >= addDays(today, -days) && date <= today;

function conditionCounts(c: Json, opts: { suspectedCounts: boolean }): boolean {
  const clinical = codings(c.clinicalStatus).map((x) => x.code);
  const verification = codings(c.verificationStatus).map((x) => x.code);
  if (verification.some((v) => v === 'refuted' || v === 'entered-in-error')) return false;
  if (!opts.suspectedCounts && verification.some((v) => v === 'provisional' || v === 'differential' || v === 'unconfirmed')) return false;
  return clinical.length === 0 || clinical.some((x) => x === 'active' || x === 'recurrence' || x === 'relapse');
}

const conditions = (record: Resource[], codes: Set<string>, suspectedCounts: boolean) =>
  (record.filter((r) => r.resourceType === 'Condition' && hasCode(r, codes)) as unknown as Json[]).filter((c) => conditionCounts(c, { suspectedCounts }));

/**
 * "held" when a result that can hold (final..preliminary) says so and no result that can clear
 * (final) is strictly newer: the newest valid result decides; at the same date the hold wins; a
 * preliminary result never clears (SAFE-10).
 */
function heldBy(results: Json[], holds: (o: Json) => boolean, clears: (o: Json) => boolean): Json[] {
  return results.filter(
    (h) => HOLDING.has(h.status as string) && holds(h) && !results.some((c) => CLEARING.has(c.status as string) && clears(c) && (dateOf(c) ?? '') > (dateOf(h) ?? '')),
  );
}

const valueCodes = (o: Json) => codings(o.valueCodeableConcept).map((c) => c.code ?? '');
const interpretationCodes = (o: Json) => ((o.interpretation as { coding?: Coding[] }[] | undefined) ?? []).flatMap((i) => (i.coding ?? []).map((c) => c.code ?? ''));
const isPositive = (o: Json) => valueCodes(o).some((c) => POSITIVE.has(c)) || interpretationCodes(o).includes('POS');
const isNegative = (o: Json) => valueCodes(o).some((c) => NEGATIVE.has(c)) || interpretationCodes(o).includes('NEG');

/** SAFE-2: the evidence that she is pregnant (positive test/status newest in the last 7 days, or an active pregnancy Condition). */
export function pregnancyEvidence(record: Resource[], today: string): string[] {
  const recent = observations(record, PREGNANCY_OBS).filter((o) => within(dateOf(o), today, 7));
  const tests = heldBy(recent, isPositive, isNegative).map((o) => `Observation/${o.id as string}`);
  const conds = conditions(record, PREGNANCY_CONDITION, true).map((c) => `Condition/${c.id as string}`);
  return [...tests, ...conds];
}

/**
 * SAFE-2 second sentence: pregnancy is excluded only by a negative result that can clear
 * (final/amended/corrected) from the last 7 days that is newer than every positive one, and no
 * pregnancy Condition.
 */
export function pregnancyExcluded(record: Resource[], today: string): boolean {
  if (pregnancyEvidence(record, today).length > 0) return false;
  const all = observations(record, PREGNANCY_OBS).filter((o) => HOLDING.has(o.status as string));
  const negatives = all.filter((o) => CLEARING.has(o.status as string) && isNegative(o) && within(dateOf(o), today, 7));
  if (negatives.length === 0) return false;
  const newestNegative = negatives
    .map((o) => dateOf(o) ?? '')
    .sort()
    .at(-1)!;
  return !all.some((o) => isPositive(o) && (dateOf(o) ?? '') >= newestNegative);
}

/** SAFE-3: active acute genital inflammation (suspected counts) or an abnormal discharge result newest in the last 7 days (indeterminate is not abnormal). */
export function inflammationEvidence(record: Resource[], today: string): string[] {
  const conds = conditions(record, ACUTE_GENITAL_INFLAMMATION, true).map((c) => `Condition/${c.id as string}`);
  const discharge = observations(record, new Set([`${LOCAL}|leukorrhea-routine`])).filter((o) => within(dateOf(o), today, 7));
  const abnormal = heldBy(
    discharge,
    (o) => interpretationCodes(o).some((c) => ABNORMAL_INTERPRETATION.has(c)),
    (o) => interpretationCodes(o).includes('N'),
  ).map((o) => `Observation/${o.id as string}`);
  return [...conds, ...abnormal];
}

/**
 * SAFE-4: "not fit" - the newest clinician assessment that can decide says false (a newer final
 * "fit" lifts an older "not fit"), or a confirmed active serious systemic disease (a "fit" never
 * overrides it).
 */
export function unfitEvidence(record: Resource[]): string[] {
  const assessments = observations(record, new Set([`${LOCAL}|fit-for-procedure`]));
  const notFit = heldBy(
    assessments,
    (o) => o.valueBoolean === false,
    (o) => o.valueBoolean === true,
  ).map((o) => `Observation/${o.id as string}`);
  const disease = conditions(record, SERIOUS_SYSTEMIC_DISEASE, false).map((c) => `Condition/${c.id as string}`);
  return [...notFit, ...disease];
}

/**
 * SAFE-10 / HSG-C4: bleeding now - the newest period start (LOINC 8665-2) is within the last 8
 * days (today is day 1..8 of bleeding) and no end of bleeding is recorded on or after it.
 */
export function bleedingEvidence(record: Resource[], today: string): string[] {
  const value = (o: Json) => ((o.valueDateTime as string | undefined) ?? dateOf(o))?.slice(0, 10);
  const starts = observations(record, new Set([`${LOINC}|8665-2`])).filter((o) => HOLDING.has(o.status as string));
  const ends = observations(record, new Set([`${LOCAL}|menses-end-date`])).filter((o) => HOLDING.has(o.status as string));
  const newest = starts.sort((a, b) => (value(a) ?? '').localeCompare(value(b) ?? '')).at(-1);
  if (!newest) return [];
  const start = value(newest);
  if (!start || !within(start, today, 7)) return [];
  if (ends.some((e) => (value(e) ?? '') >= start)) return [];
  return [`Observation/${newest.id as string}`];
}

/** One line per resource of the record, for counterexamples. */
export function describeRecord(record: Resource[]): string {
  return record.map((r) => `      ${describeResource(r)}`).join('\n');
}

export function describeResource(r: Resource): string {
  const j = r as unknown as Json;
  const code = (cc: unknown) =>
    codings(cc)
      .map((c) => c.code)
      .join('/');
  const bits: string[] = [`${r.resourceType}/${r.id}`];
  switch (r.resourceType) {
    case 'Patient':
      bits.push(`birthDate=${(j.birthDate as string | undefined) ?? '(none)'}`);
      break;
    case 'Observation': {
      bits.push(String(j.status), code(j.code));
      const v = j.valueCodeableConcept ? code(j.valueCodeableConcept) : (j.valueDateTime ?? j.valueBoolean);
      if (v !== undefined) bits.push(`value=${String(v)}`);
      if (j.interpretation) bits.push(`interpretation=${interpretationCodes(j).join('/')}`);
      if (j.component) bits.push(`components=${(j.component as Json[]).map((c) => `${code(c.code)}:${code(c.valueCodeableConcept)}`).join(',')}`);
      bits.push(`@${dateOf(j) ?? '?'}`);
      break;
    }
    case 'Condition':
      bits.push(code(j.code), `clinical=${code(j.clinicalStatus) || '-'}`, `verification=${code(j.verificationStatus) || '-'}`);
      if (j.severity) bits.push(`severity=${code(j.severity)}`);
      if (j.bodySite) bits.push(`bodySite=${(j.bodySite as unknown[]).map(code).join(',')}`);
      if (j.onsetDateTime) bits.push(`onset=${String(j.onsetDateTime)}`);
      if (j.recordedDate) bits.push(`recorded=${String(j.recordedDate)}`);
      break;
    case 'Procedure':
      bits.push(String(j.status), code(j.code), `@${String(j.performedDateTime ?? '?')}`);
      break;
    case 'AllergyIntolerance':
      bits.push(code(j.code), `clinical=${code(j.clinicalStatus) || '-'}`, `verification=${code(j.verificationStatus) || '-'}`);
      break;
    case 'DocumentReference':
      bits.push(String(j.status), code(j.type), `@${String(j.date ?? '?')}`);
      break;
    case 'ServiceRequest':
      bits.push(String(j.status), code(j.code));
      break;
    default:
      break;
  }
  const subject = (j.subject ?? j.patient) as { reference?: string } | undefined;
  if (subject?.reference && subject.reference !== 'Patient/patient') bits.push(`subject=${subject.reference}`);
  return clip(bits.join(' '), 400);
}
