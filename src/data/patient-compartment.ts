/**
 * SAFE-1 "one patient's data": the one place that decides which of the input resources an apply
 * may read. Every entry point (CLI apply --data/--server, FHIR $apply, batch, CDS prefetch) passes
 * its resources through `selectPatientCompartment` before the engine sees them, because the engine
 * reads its inputs by type and code and cannot tell whose record a resource is: one foreign
 * iodine-allergy AllergyIntolerance in the input would contraindicate the subject's HSG.
 *
 * Membership follows the R4 Patient CompartmentDefinition (its search parameters resolved to
 * element paths in patient-compartment-links.ts, generated from the definitions), with one
 * tightening: a resource whose own patient link (the `patient`/`subject` parameter: subject,
 * patient, for...) names ANOTHER patient is that patient's record even if the subject appears in
 * a secondary link (performer, asserter, author...) - an allergy of A asserted by B is not B's
 * allergy. Otherwise any link naming the subject puts it in her compartment (subject = B with
 * performer = Patient/A is B's).
 *
 * What is kept: the subject Patient; compartment resources that name her; resources of types
 * outside the compartment (Practitioner, Organization, Medication, Location...), which hold no
 * patient's data. What is dropped, each with one warning issue: other Patients (a duplicate of the
 * subject too), resources of another patient, and compartment resources whose patient cannot be
 * established (no link to a patient, or one that resolves to nobody we know) - not guessed.
 *
 * A reference names the subject when it is `Patient/<id>` (relative), `<base>/Patient/<id>`
 * (absolute; see `bases`), either with `/_history/<n>`, the fullUrl of her Bundle entry
 * (`urn:uuid:`, `urn:oid:` or absolute), or a logical reference whose identifier (system and value)
 * is one of hers. `#contained` references are never patient references.
 */
import type { Bundle, BundleEntry, OperationOutcomeIssue, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { PATIENT_COMPARTMENT_LINKS } from './patient-compartment-links.ts';

/** Where a resource came from in the input. */
export interface EntryInfo {
  /** Its Bundle entry's fullUrl: `urn:uuid:` references resolve through it. */
  fullUrl?: string;
  /** For people: `bundle.json entry[3]`, `Observation.ndjson:17`. */
  location?: string;
  /** FHIRPath to it in the input document (an issue's `expression`), e.g. `Bundle.entry[3].resource`. */
  expression?: string;
}

export interface CompartmentOptions {
  entries?: ReadonlyMap<Resource, EntryInfo>;
  /**
   * Service base URLs the data came from (a FHIR server, `dataEndpoint`, CDS `fhirServer`): an
   * absolute `.../Patient/<id>` names the subject only on one of them. The base of the subject's
   * own absolute fullUrl is added. With no base known at all, any absolute URL ending in
   * `Patient/<subject id>` is taken as hers: the input then has a single origin we cannot name
   * (an NDJSON export, a Bundle without fullUrls), every other patient still differs by id, and a
   * same-id patient of another server would need a second Patient/<id> in the same input, which is
   * itself dropped as a duplicate of the subject.
   */
  bases?: readonly string[];
}

export type DropKind = 'other-patient' | 'unknown-patient' | 'duplicate-subject';

export interface DroppedResource {
  resource: Resource;
  kind: DropKind;
  /** Why, as a sentence fragment: `its subject is Patient/a, not the subject Patient/b`. */
  reason: string;
}

export interface PatientCompartment {
  /** The subject and what may be read of her record, in input order. */
  resources: Resource[];
  dropped: DroppedResource[];
  /** One warning per dropped resource (empty when nothing was dropped). */
  issues: OperationOutcomeIssue[];
}

/** Compartment parameters named like this say whose record a resource is (primary links). */
const PRIMARY_PARAMS = new Set(['patient', 'subject']);

interface TypeLinks {
  /** Element paths (split) of the primary links, then of the others. */
  primary: readonly (readonly string[])[];
  secondary: readonly (readonly string[])[];
  /** Element names, for messages. */
  primaryNames: string;
  secondaryNames: string;
}

const LINKS: ReadonlyMap<string, TypeLinks> = new Map(
  Object.entries(PATIENT_COMPARTMENT_LINKS).map(([type, params]) => {
    const primary = new Set<string>();
    const secondary = new Set<string>();
    for (const [param, paths] of Object.entries(params)) for (const p of paths) (PRIMARY_PARAMS.has(param) ? primary : secondary).add(p);
    for (const p of primary) secondary.delete(p);
    return [
      type,
      {
        primary: [...primary].map((p) => p.split('.')),
        secondary: [...secondary].map((p) => p.split('.')),
        primaryNames: [...primary].join(', '),
        secondaryNames: [...secondary].join(', '),
      },
    ];
  }),
);

/** The search parameters that put `type` in the Patient compartment (empty: not patient data). */
export function patientCompartmentParams(type: string): string[] {
  return Object.keys(PATIENT_COMPARTMENT_LINKS[type] ?? {});
}

/**
 * The Patient the data is about: the one with `patientId` if given, else the only Patient present.
 * Several Patients and none chosen is an error, not a guess (SAFE-1).
 */
export function findSubject(resources: readonly Resource[], source: string, patientId?: string): Patient {
  const patients = resources.filter((r): r is Patient => r.resourceType === 'Patient');
  if (patientId !== undefined) {
    const found = patients.find((p) => p.id === patientId);
    if (!found) {
      throw new OperationOutcomeError(outcome(issue('error', 'not-found', `${source} has no Patient with id '${patientId}'`)));
    }
    return found;
  }
  if (patients.length === 1) return patients[0]!;
  throw new OperationOutcomeError(
    outcome(
      issue(
        'error',
        patients.length === 0 ? 'required' : 'invalid',
        patients.length === 0
          ? `${source} has no Patient resource: the data must include the subject Patient`
          : `${source} has ${patients.length} Patients (${patients.map((p) => p.id ?? '(no id)').join(', ')}): name the subject with --patient <id>`,
      ),
    ),
  );
}

/** Entry info of a Bundle's resources; `expression` and `location` prefix the entry index. */
export function bundleEntries(bundle: Bundle, expressionPrefix: string, locationPrefix: string): Map<Resource, EntryInfo> {
  const entries = new Map<Resource, EntryInfo>();
  // A Bundle from outside is untrusted in shape: a null entry is skipped, not dereferenced.
  ((bundle.entry ?? []) as (BundleEntry | null | undefined)[]).forEach((entry, i) => {
    if (!entry?.resource) return;
    const info: EntryInfo = { location: `${locationPrefix}entry[${i}]`, expression: `${expressionPrefix}.entry[${i}].resource` };
    if (entry.fullUrl) info.fullUrl = entry.fullUrl;
    entries.set(entry.resource, info);
  });
  return entries;
}

// ---------------------------------------------------------------------------------------------
// References

type Verdict =
  | { kind: 'subject' }
  | { kind: 'other' }
  /** Certainly not a Patient (a Practitioner, a contained resource...). */
  | { kind: 'not-patient' }
  /** Might be a patient, but not one we can name. */
  | { kind: 'unknown'; why: string };

const ID = '[A-Za-z0-9\\-.]{1,64}';
/** `[<base>/]<Type>/<id>[/_history/<vid>]`: group 1 base, 2 type, 3 id. */
const LITERAL = new RegExp(`^(?:(.+)/)?([A-Z][A-Za-z]+)/(${ID})(?:/_history/${ID})?$`);
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const stripSlash = (url: string) => url.replace(/\/+$/, '');
const identifierKey = (system: string | undefined, value: string | undefined) => (system && value ? `${system}|${value}` : undefined);

class Resolver {
  private readonly subjectKeys = new Set<string>();
  private readonly otherKeys = new Set<string>();
  private readonly byFullUrl = new Map<string, Resource>();
  private readonly bases: Set<string>;
  private readonly subject: Patient;

  constructor(subject: Patient, patients: readonly Patient[], entries: ReadonlyMap<Resource, EntryInfo> | undefined, bases: readonly string[]) {
    this.subject = subject;
    for (const id of subject.identifier ?? []) {
      const key = identifierKey(id.system, id.value);
      if (key) this.subjectKeys.add(key);
    }
    for (const p of patients) {
      if (p === subject) continue;
      for (const id of p.identifier ?? []) {
        const key = identifierKey(id.system, id.value);
        if (key && !this.subjectKeys.has(key)) this.otherKeys.add(key);
      }
    }
    if (entries) for (const [resource, info] of entries) if (info.fullUrl) this.byFullUrl.set(info.fullUrl, resource);
    this.bases = new Set(bases.map(stripSlash));
    const own = entries?.get(subject)?.fullUrl;
    const match = own && ABSOLUTE.test(own) ? LITERAL.exec(own) : undefined;
    if (match?.[1] && match[2] === 'Patient') this.bases.add(stripSlash(match[1]));
  }

  static label(resource: Resource): string {
    return `${resource.resourceType}/${resource.id ?? '(no id)'}`;
  }

  reference(ref: Reference): Verdict {
    let literal: Verdict | undefined;
    if (typeof ref.reference === 'string') {
      literal = this.literal(ref.reference);
      if (literal.kind !== 'unknown') return literal;
    }
    const key = identifierKey(ref.identifier?.system, ref.identifier?.value);
    if (key && (ref.type === undefined || ref.type === 'Patient')) {
      if (this.subjectKeys.has(key)) return { kind: 'subject' };
      if (this.otherKeys.has(key)) return { kind: 'other' };
    }
    if (literal) return literal;
    if (ref.type !== undefined && ref.type !== 'Patient') return { kind: 'not-patient' };
    if (key) return { kind: 'unknown', why: `identifier ${key} is not one of the subject's` };
    return { kind: 'unknown', why: 'a reference with neither a resolvable reference nor an identifier' };
  }

  private literal(text: string): Verdict {
    if (text.startsWith('#')) return { kind: 'not-patient' };
    const target = this.byFullUrl.get(text);
    if (target) {
      if (target === this.subject) return { kind: 'subject' };
      return target.resourceType === 'Patient' ? { kind: 'other' } : { kind: 'not-patient' };
    }
    if (text.startsWith('urn:')) return { kind: 'unknown', why: `'${text}' is no entry of the input` };
    const match = LITERAL.exec(text);
    if (!match) return { kind: 'unknown', why: `'${text}' is not a reference this engine can read` };
    const [, base, type, id] = match;
    if (base !== undefined && !ABSOLUTE.test(base)) return { kind: 'unknown', why: `'${text}' is neither relative nor absolute` };
    if (type !== 'Patient') return { kind: 'not-patient' };
    if (id !== this.subject.id) return { kind: 'other' };
    if (base === undefined || this.bases.size === 0 || this.bases.has(stripSlash(base))) return { kind: 'subject' };
    return { kind: 'unknown', why: `'${text}' is on another server than the data's (${[...this.bases].join(', ')})` };
  }
}

/** The Reference objects at a split element path, through arrays. */
function referencesAt(resource: Resource, path: readonly string[]): Reference[] {
  let values: unknown[] = [resource];
  for (const name of path) {
    const next: unknown[] = [];
    for (const v of values) {
      const child = v && typeof v === 'object' ? (v as Record<string, unknown>)[name] : undefined;
      if (Array.isArray(child)) next.push(...(child as unknown[]));
      else if (child !== undefined && child !== null) next.push(child);
    }
    if (next.length === 0) return [];
    values = next;
  }
  return values.filter((v): v is Reference => typeof v === 'object' && v !== null && !Array.isArray(v));
}

type Decision = { keep: true } | { keep: false; kind: DropKind; reason: string };

function describe(ref: Reference): string {
  if (ref.reference) return ref.reference;
  if (ref.identifier) return `identifier ${ref.identifier.system ?? ''}|${ref.identifier.value ?? ''}`;
  return ref.display ? `'${ref.display}'` : '(empty reference)';
}

function decide(resource: Resource, links: TypeLinks, resolverOf: () => Resolver, subjectLabel: string, relative: string | undefined): Decision {
  // Fast path (batch runs this for every resource): the usual `subject: {reference: 'Patient/<id>'}`.
  if (relative !== undefined) {
    for (const path of links.primary) {
      if (path.length !== 1) continue;
      const value = (resource as unknown as Record<string, { reference?: unknown } | undefined>)[path[0]!];
      if (value?.reference === relative) return { keep: true };
    }
  }
  const resolver = resolverOf();
  const judge = (paths: readonly (readonly string[])[]) => {
    const found: { path: string; ref: Reference; verdict: Verdict }[] = [];
    for (const path of paths) for (const ref of referencesAt(resource, path)) found.push({ path: path.join('.'), ref, verdict: resolver.reference(ref) });
    return found;
  };
  const primary = judge(links.primary);
  if (primary.some((f) => f.verdict.kind === 'subject')) return { keep: true };
  const otherOf = (list: typeof primary) => list.find((f) => f.verdict.kind === 'other');
  const primaryOther = otherOf(primary);
  if (primaryOther) {
    return { keep: false, kind: 'other-patient', reason: `its ${primaryOther.path} is ${describe(primaryOther.ref)}, not the subject ${subjectLabel}` };
  }
  const primaryUnknown = primary.find((f) => f.verdict.kind === 'unknown');
  if (primaryUnknown) {
    const why = (primaryUnknown.verdict as { why: string }).why;
    return { keep: false, kind: 'unknown-patient', reason: `its patient cannot be established: ${primaryUnknown.path} is ${why}` };
  }
  // No patient in its own links (absent, or not a patient): any other compartment link decides.
  const secondary = judge(links.secondary);
  if (secondary.some((f) => f.verdict.kind === 'subject')) return { keep: true };
  const secondaryOther = otherOf(secondary);
  if (secondaryOther) {
    return { keep: false, kind: 'other-patient', reason: `its ${secondaryOther.path} is ${describe(secondaryOther.ref)}, not the subject ${subjectLabel}` };
  }
  const checked = [links.primaryNames, links.secondaryNames].filter(Boolean).join(', ');
  return { keep: false, kind: 'unknown-patient', reason: `its patient cannot be established: none of ${checked} names the subject ${subjectLabel}` };
}

/**
 * The subject and the part of `resources` that is her record (input order kept), what was left out
 * and why. `subject` must be one of `resources` (the object, not a copy) or is added in front.
 */
export function selectPatientCompartment(resources: readonly Resource[], subject: Patient, options: CompartmentOptions = {}): PatientCompartment {
  let resolver: Resolver | undefined;
  const resolverOf = () =>
    (resolver ??= new Resolver(
      subject,
      resources.filter((r): r is Patient => r.resourceType === 'Patient'),
      options.entries,
      options.bases ?? [],
    ));
  const subjectLabel = `Patient/${subject.id ?? '(no id)'}`;
  const relative = subject.id === undefined ? undefined : subjectLabel;
  const kept: Resource[] = resources.includes(subject) ? [] : [subject];
  const dropped: DroppedResource[] = [];
  for (const resource of resources) {
    if (resource === subject) {
      kept.push(resource);
      continue;
    }
    if (resource.resourceType === 'Patient') {
      const duplicate = subject.id !== undefined && resource.id === subject.id;
      dropped.push(
        duplicate
          ? { resource, kind: 'duplicate-subject', reason: `it repeats the subject ${subjectLabel}; the first one is used` }
          : { resource, kind: 'other-patient', reason: `it is another patient than the subject ${subjectLabel}` },
      );
      continue;
    }
    const links = LINKS.get(resource.resourceType);
    if (!links) {
      kept.push(resource); // not patient data (Practitioner, Organization, Medication...)
      continue;
    }
    const decision = decide(resource, links, resolverOf, subjectLabel, relative);
    if (decision.keep) kept.push(resource);
    else dropped.push({ resource, kind: decision.kind, reason: decision.reason });
  }
  const issues = dropped.map((d) => droppedIssue(d, options.entries?.get(d.resource)));
  return { resources: kept, dropped, issues };
}

function droppedIssue(d: DroppedResource, info: EntryInfo | undefined): OperationOutcomeIssue {
  const where = info?.location ? ` (${info.location})` : '';
  return issue(
    'warning',
    'processing',
    `${Resolver.label(d.resource)}${where} is not used: ${d.reason} (SAFE-1: only the subject's compartment is read)`,
    info?.expression ? [info.expression] : undefined,
  );
}
