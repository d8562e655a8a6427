/**
 * Building blocks for authoring the protocol artifacts. The JSON under plandefinitions/ and
 * profiles/ is generated from these modules (`npm run build:protocols`) so that a rule's logic,
 * its citation and the expressions shared by several actions are written once; a test
 * (tests/protocols/artifacts-in-sync.test.ts) fails when the committed JSON drifts from them.
 */
import type { ActivityDefinition, Coding, Extension, DataRequirement, Expression, PlanDefinitionAction, RelatedArtifact } from '@medplum/fhirtypes';

export const BASE = 'http://infertility-protocols.org/fhir';
export const VERSION = '0.1.0';
export const PUBLISHER = 'infertility-protocols';
export const DATE = '2026-11-23';

export const LOCAL = `${BASE}/CodeSystem/infertility-workup`;
export const NHSA10 = `${BASE}/CodeSystem/cn-nhsa-icd10-v2`;
export const NHSA9 = `${BASE}/CodeSystem/cn-nhsa-icd9cm3-v2`;
export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const ICD9 = 'http://hl7.org/fhir/sid/icd-9-cm';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const UCUM = 'http://unitsofmeasure.org';
export const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const CPG_ACTIVITY = 'http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type';
export const INPUT_REQUIRED = `${BASE}/StructureDefinition/input-required`;

export const SOURCE = {
  reversal: '000_df67b89a1d6e44a9.txt',
  hsg: '001_77e565344cb021a4.txt',
  hysteroscopy: '002_04369e6709d45ade.txt',
} as const;

export type SourceFile = (typeof SOURCE)[keyof typeof SOURCE];

export const vsUrl = (id: string): string => `${BASE}/ValueSet/${id}`;
export const adUrl = (id: string): string => `${BASE}/ActivityDefinition/${id}`;
export const pdUrl = (id: string): string => `${BASE}/PlanDefinition/${id}`;
export const adCanonical = (id: string): string => `${adUrl(id)}|${VERSION}`;
export const pdCanonical = (id: string): string => `${pdUrl(id)}|${VERSION}`;

/** The computable `name` of an artifact: its kebab-case id in PascalCase (hsg-plan -> HsgPlan). */
export const computableName = (id: string): string =>
  id
    .split('-')
    .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
    .join('');

export const coding = (system: string, code: string, display?: string): Coding => (display === undefined ? { system, code } : { system, code, display });

// ---- citations ---------------------------------------------------------------------------------

/** The sentence of a source text a rule encodes (checked verbatim against plandefinitions/sources/). */
export interface Quote {
  file: SourceFile;
  text: string;
}

/**
 * `citation` RelatedArtifact of one quote: label = the rule id, display = the source document and
 * section, citation = markdown naming them, then the exact sentence as a blockquote (a reader, the
 * diagram and lint take the quote from there: src/diagram/citation.ts).
 */
export function cite(ruleId: string, quote: Quote, source: { title: string; section: string }): RelatedArtifact {
  return {
    type: 'citation',
    label: ruleId,
    display: `${source.title}, section "${source.section}"`,
    citation: `${source.title}. Clinical expert text, English translation; section "${source.section}".\n\n> ${quote.text}`,
  };
}

/** A reading we chose where the text slips or is silent (resolution, look-back), with its reason. */
export function justify(ruleId: string, text: string): RelatedArtifact {
  return { type: 'justification', display: ruleId, citation: text };
}

// ---- expressions --------------------------------------------------------------------------------

export function fhirpath(expression: string, description?: string): Expression {
  return description === undefined ? { language: 'text/fhirpath', expression } : { language: 'text/fhirpath', expression, description };
}

/**
 * A named expression (R4 core `variable` extension) on an action: evaluated once per apply and read
 * by the action's conditions, dynamic values and child actions as %<name>. Used for logic that
 * several actions share, so it is written and evaluated once.
 */
export function variable(name: string, expression: string, description: string): Extension {
  return { url: 'http://hl7.org/fhir/StructureDefinition/variable', valueExpression: { language: 'text/fhirpath', name, expression, description } };
}

export function applicability(expression: string, description: string): NonNullable<PlanDefinitionAction['condition']>[number] {
  return { kind: 'applicability', expression: fhirpath(expression, description) };
}

const q = (s: string): string => `'${s}'`;
export const codesIn = (codes: readonly string[]): string => `(${codes.map(q).join(' | ')})`;
/** True when one of the Codings at `path` has `system` and one of `codes`. */
export const hasCoding = (path: string, system: string, codes: readonly string[]): string => `${path}.exists(system = ${q(system)} and code in ${codesIn(codes)})`;

/** A Condition that is current: clinicalStatus active/recurrence/relapse (or unstated), not refuted. */
export const ACTIVE_CONDITION =
  "(clinicalStatus.empty() or clinicalStatus.coding.exists(code in ('active' | 'recurrence' | 'relapse'))) and verificationStatus.coding.exists(code in ('refuted' | 'entered-in-error')).not()";
/** A Condition or history entry that has not been refuted (history situations are often inactive). */
export const NOT_REFUTED = "verificationStatus.coding.exists(code in ('refuted' | 'entered-in-error')).not()";
export const ACTIVE_ALLERGY =
  "(clinicalStatus.empty() or clinicalStatus.coding.exists(code = 'active')) and verificationStatus.coding.exists(code in ('refuted' | 'entered-in-error')).not()";
/** A result that can be acted on: the only statuses that can clear a procedure (SAFE-10). */
export const RESULT_OK = "status in ('final' | 'amended' | 'corrected')";
/**
 * A result that can hold a procedure (SAFE-10): a `preliminary` result can hold one but never clear
 * one; `registered`, `cancelled` and `entered-in-error` are never evidence.
 */
export const RESULT_HOLDS = "status in ('preliminary' | 'final' | 'amended' | 'corrected')";
export const PROCEDURE_DONE = "status = 'completed'";

/** The calendar date (as recorded, in its own offset) of a date/dateTime expression. */
export const asDate = (expr: string): string => `${expr}.select(toString().substring(0, 10).toDate())`;
/**
 * The date a Period speaks for: its end, else its start (an open period is still going on). For a
 * result or event that holds a procedure this is the latest date it may speak for, the safer reading.
 */
const periodDate = (period: string): string => `iif(${period}.end.exists(), ${period}.end, ${period}.start)`;
/** The date of a result however R4 lets it be dated: effectiveDateTime, effectiveInstant or effectivePeriod (end, else start). */
export const effectiveDate = asDate(`(effective.ofType(dateTime) | effective.ofType(instant) | ${periodDate('effective.ofType(Period)')})`);
/** The date of a procedure: performedDateTime or performedPeriod (end, else start). */
export const performedDate = asDate(`(performed.ofType(dateTime) | ${periodDate('performed.ofType(Period)')})`);
/** The date of a Condition: onsetDateTime or onsetPeriod (end, else start), else recordedDate (when it was known at the latest). */
export const conditionDate = asDate(
  `iif((onset.ofType(dateTime) | onset.ofType(Period)).exists(), (onset.ofType(dateTime) | ${periodDate('onset.ofType(Period)')}), recordedDate)`,
);
/**
 * The records of `input` that say `holds` and that no newer record saying `clears` supersedes (a
 * same-day tie holds). Only records that are evidence are compared: the input is not limited to its
 * newest record in the DataRequirement, where a newer `registered` or `preliminary` record would hide
 * the one that counts (SAFE-10).
 */
export function newestHolding(input: string, holds: string, clears: string): string {
  const clearDate = `%${input}.where(${clears}).select(${effectiveDate}).max()`;
  return `%${input}.where((${holds}) and (${clearDate}.empty() or ${effectiveDate}.exists($this >= ${clearDate})))`;
}
export const NEWEST_EVIDENCE_JUSTIFICATION = justify(
  'newest evidence',
  'Safer reading (SAFE-10): the newest record that is evidence decides (final, amended or corrected; preliminary only where it holds); records that are not evidence (registered, cancelled, entered-in-error) are never chosen as the newest, so a newer one of those cannot hide a result that holds the procedure. When the newest holding and clearing records fall on the same day, the holding one wins.',
);
export const DATING_JUSTIFICATION = justify(
  'dates of records',
  'Safer reading: a result is dated by effectiveDateTime, effectiveInstant or effectivePeriod, a procedure by performedDateTime or performedPeriod, a condition by onsetDateTime or onsetPeriod, else its recordedDate; a period counts at its end, or at its start while it has no end: the latest date it may speak for, so a result or event that holds a procedure is never read as older than it may be.',
);

/** Indeterminate or equivocal (v3 IND, E): the test is repeated, never read as abnormal (SAFE-3). */
export const interpretationIndeterminate = `interpretation.coding.exists(system = '${V3_INTERPRETATION}' and code in ('IND' | 'E'))`;
/** Any other interpretation than normal or indeterminate (A, AA, H, L, POS, ...): abnormal. */
export const interpretationAbnormal = `interpretation.coding.exists(system = '${V3_INTERPRETATION}' and (code in ('N' | 'IND' | 'E')).not())`;
export const interpretationNormal = `interpretation.coding.exists(system = '${V3_INTERPRETATION}' and code = 'N')`;

// ---- inputs -------------------------------------------------------------------------------------

export interface InputOptions {
  /** Look-back in days (DataRequirement.dateFilter valueDuration: within the last N days). */
  lookBackDays?: number;
  datePath?: string;
  /** Newest first. Never limited to the newest record: the FHIRPath picks the newest that is evidence (newestHolding). */
  newestFirst?: boolean;
  required?: boolean;
  /** Extra codeFilter on another element, e.g. `value`, by a ValueSet of this module. */
  alsoFilter?: { path: string; valueSet: string };
}

function dateFilterOf(opts: InputOptions, datePath: string): Pick<DataRequirement, 'dateFilter'> {
  if (opts.lookBackDays === undefined) return {};
  return {
    dateFilter: [{ path: datePath, valueDuration: { value: opts.lookBackDays, unit: 'days', system: UCUM, code: 'd' } }],
  };
}

function finish(req: DataRequirement, opts: InputOptions, datePath: string): DataRequirement {
  const out: DataRequirement = { ...req };
  if (opts.required) out.extension = [{ url: INPUT_REQUIRED, valueBoolean: true }];
  if (opts.alsoFilter) out.codeFilter = [...(out.codeFilter ?? []), { path: opts.alsoFilter.path, valueSet: vsUrl(opts.alsoFilter.valueSet) }];
  Object.assign(out, dateFilterOf(opts, opts.datePath ?? datePath));
  if (opts.newestFirst) out.sort = [{ path: opts.datePath ?? datePath, direction: 'descending' }];
  return out;
}

const DATE_PATH: Record<string, string> = {
  Observation: 'effective',
  DiagnosticReport: 'effective',
  Procedure: 'performed',
  Condition: 'recordedDate',
  AllergyIntolerance: 'recordedDate',
  ServiceRequest: 'authoredOn',
  DocumentReference: 'date',
};

/** Input of every resource of a type (no codeFilter): for data read inside the resource, e.g. a report's contained results. */
export function typeInput(id: string, type: string, opts: InputOptions = {}): DataRequirement {
  return finish({ id, type }, opts, DATE_PATH[type] ?? 'date');
}

/** Input whose codeFilter is a ValueSet of this module. */
export function vsInput(id: string, type: string, valueSetId: string, opts: InputOptions = {}): DataRequirement {
  const req: DataRequirement = {
    id,
    type,
    codeFilter: [{ path: type === 'DocumentReference' ? 'type' : 'code', valueSet: vsUrl(valueSetId) }],
  };
  return finish(req, opts, DATE_PATH[type] ?? 'date');
}

/**
 * A required element of the patient herself (e.g. birthDate): the engine binds the subject and,
 * when the element is absent, asks for it with a collect-information Task instead of deciding.
 */
export function patientElementRequired(id: string, element: string): DataRequirement {
  return { id, type: 'Patient', mustSupport: [element], extension: [{ url: INPUT_REQUIRED, valueBoolean: true }] };
}

/** Input whose codeFilter lists its codes (one concept, or a few codings of it). */
export function codeInput(id: string, type: string, codes: Coding[], opts: InputOptions = {}): DataRequirement {
  const req: DataRequirement = {
    id,
    type,
    codeFilter: [{ path: type === 'DocumentReference' ? 'type' : 'code', code: codes }],
  };
  return finish(req, opts, DATE_PATH[type] ?? 'date');
}

// ---- actions ------------------------------------------------------------------------------------

export type Action = PlanDefinitionAction;

/** dynamicValues writing a fixed CodeableConcept into `reasonCode[0]` of the generated request. */
export function reasonCodeValues(code: Coding, text: string, path = 'reasonCode[0]'): NonNullable<Action['dynamicValue']> {
  const values: NonNullable<Action['dynamicValue']> = [
    { path: `${path}.coding[0].system`, expression: fhirpath(`'${code.system}'`) },
    { path: `${path}.coding[0].code`, expression: fhirpath(`'${code.code}'`) },
  ];
  if (code.display) values.push({ path: `${path}.coding[0].display`, expression: fhirpath(`'${code.display.replace(/'/g, "\\'")}'`) });
  values.push({ path: `${path}.text`, expression: fhirpath(`'${text.replace(/'/g, "\\'")}'`) });
  return values;
}

export interface ContraindicationSpec {
  id: string;
  ruleId: string;
  title: string;
  description: string;
  /** Boolean expression: true when the contraindication is present (never empty). */
  present: string;
  /** Expression returning the patient resources that contraindicate the procedure. */
  evidence: string;
  reason: Coding;
  /** The procedure's ActivityDefinition id. */
  procedure: string;
  documentation: NonNullable<Action['documentation']>;
  /** What the action records: a contraindication (default), or a rule that makes her not eligible (SAFE-7). */
  kind?: 'contraindication' | 'not-eligible';
}

/** The resource types R4 allows in ServiceRequest.reasonReference (CommunicationRequest's too). */
const REASON_REFERENCE_TYPES = ['Condition', 'Observation', 'DiagnosticReport', 'DocumentReference'];
const IS_REASON_REFERENCE = REASON_REFERENCE_TYPES.map((t) => `ofType(${t}).exists()`).join(' or ');

/**
 * A ServiceRequest's evidence, each resource where R4 lets it be cited: Conditions, Observations,
 * DiagnosticReports and DocumentReferences as reasonReference, anything else (an allergy, a
 * procedure, the patient's age on Patient, a planned request) as supportingInfo, Reference(Any).
 * HAPI refuses the request (422) when reasonReference holds another type. Order is kept in each.
 */
export function evidenceValues(evidence: string): NonNullable<Action['dynamicValue']> {
  return [
    { path: 'reasonReference', expression: fhirpath(`(${evidence}).where(${IS_REASON_REFERENCE})`) },
    { path: 'supportingInfo', expression: fhirpath(`(${evidence}).where((${IS_REASON_REFERENCE}).not())`) },
  ];
}

/** A contraindicated procedure: a doNotPerform request, reasons pointing at the patient's data. */
export function contraindication(spec: ContraindicationSpec): Action {
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    code: [{ coding: [spec.kind === 'not-eligible' ? coding(LOCAL, 'not-eligible', 'Not eligible for the procedure') : coding(LOCAL, 'contraindication', 'Contraindication')] }],
    documentation: spec.documentation,
    // The trace labels the condition with this: "HSG-C3: pregnancy" is false / true.
    condition: [applicability(spec.present, `${spec.ruleId}: ${spec.title.replace(/^Do not [^:]+: /, '')}`)],
    definitionCanonical: adCanonical(spec.procedure),
    dynamicValue: [{ path: 'doNotPerform', expression: fhirpath('true') }, ...evidenceValues(spec.evidence), ...reasonCodeValues(spec.reason, `${spec.ruleId}: ${spec.title}`)],
  };
}

export function relatedBefore(actionId: string, minutes?: number): NonNullable<Action['relatedAction']>[number] {
  return minutes === undefined
    ? { actionId, relationship: 'before-start' }
    : { actionId, relationship: 'before-start', offsetDuration: { value: minutes, unit: 'min', system: UCUM, code: 'min' } };
}

export function relatedAfterEnd(actionId: string): NonNullable<Action['relatedAction']>[number] {
  return { actionId, relationship: 'after-end' };
}

// ---- ActivityDefinitions -----------------------------------------------------------------------

export interface AdSpec {
  id: string;
  title: string;
  description: string;
  kind: 'ServiceRequest' | 'MedicationRequest' | 'CommunicationRequest' | 'Task';
  code?: Coding[];
  codeText?: string;
  /** Where the file goes: `shared` or a protocol id. */
  folder: string;
  extra?: Partial<ActivityDefinition>;
}

export function activityDefinition(spec: AdSpec): ActivityDefinition {
  const ad: ActivityDefinition = {
    resourceType: 'ActivityDefinition',
    id: spec.id,
    url: adUrl(spec.id),
    version: VERSION,
    name: computableName(spec.id),
    title: spec.title,
    status: 'draft',
    experimental: true,
    date: DATE,
    publisher: PUBLISHER,
    description: spec.description,
    kind: spec.kind,
    intent: 'proposal',
    priority: 'routine',
  };
  if (spec.code) ad.code = spec.codeText ? { coding: spec.code, text: spec.codeText } : { coding: spec.code };
  return { ...ad, ...spec.extra };
}
