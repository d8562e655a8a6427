/**
 * What every per-kind mapper needs from one ActivityDefinition/$apply: the context references,
 * the request intent check, the concrete timing, the resolved participants - and a ledger of which
 * ActivityDefinition elements the mapper placed, so that elements a kind has no room for are
 * reported instead of silently dropped.
 */
import type { ActivityDefinition, CodeableConcept, OperationOutcomeIssue, Period, PlanDefinitionAction, Reference, Resource, Timing } from '@medplum/fhirtypes';
import { issue, outcome, OperationOutcomeError } from '../../errors/operation-outcome.ts';
import { copyJson } from '../../util/copy-json.ts';
import type { Variables } from '../expression.ts';
import { concreteTiming } from '../timing.ts';
import type { ApplyContext, ExpressionEvaluator } from '../types.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';

export interface RequestBuildInput {
  definition: ActivityDefinition;
  context: ApplyContext;
  variables: Variables;
  /** Id of the generated resource (deterministic: chosen by the caller). */
  id: string;
  requestStatus: 'draft' | 'active';
  /** Holds the compiled expressions. */
  knowledge: CompiledKnowledge;
  evaluators?: Record<string, ExpressionEvaluator>;
  issues: OperationOutcomeIssue[];
  strict: boolean;
  /** ISO date-time with offset: authoredOn / created, and the anchor of Duration timings. */
  nowText: string;
  /** The RequestGroup action being built, when applied from a PlanDefinition: receives the
   *  ActivityDefinition's `action.` / `%action.` dynamicValues. */
  actionTarget?: Record<string, unknown>;
}

/**
 * A reference whose target type is left open; `never` makes it assignable to every
 * `Reference<T>` of the generated resource types.
 */
export type OpenReference = Reference<never>;

export function referenceTo(resource: Resource | undefined): OpenReference | undefined {
  if (!resource?.id) return undefined;
  return { reference: `${resource.resourceType}/${resource.id}` };
}

/** The ActivityDefinition elements whose mapping the ledger tracks. */
export type MappedElement = 'code' | 'priority' | 'doNotPerform' | 'timing' | 'location' | 'participant' | 'product' | 'quantity' | 'dosage' | 'bodySite' | 'description';

/** Where a concrete timing ended up; the mapper asks for the shapes its kind can hold. */
export type Occurrence = { occurrenceDateTime: string } | { occurrencePeriod: Period } | { occurrenceTiming: Timing } | Record<string, never>;

export type OccurrenceShape = 'DateTime' | 'Period' | 'Timing';

export interface Participants {
  /** Distinct resolved references, in participant order. */
  actors: OpenReference[];
  roles: CodeableConcept[];
  /** One per participant, for kinds that keep them apart (Appointment). */
  entries: { actor?: OpenReference; role?: CodeableConcept }[];
}

export class MapContext {
  readonly ad: ActivityDefinition;
  readonly input: RequestBuildInput;
  /** Names the definition in messages, e.g. `ActivityDefinition/hsg`. */
  readonly where: string;
  readonly subject: OpenReference | undefined;
  readonly encounter: OpenReference | undefined;
  readonly practitioner: OpenReference | undefined;
  readonly organization: OpenReference | undefined;
  /** `url|version` (or url) for instantiatesCanonical. */
  readonly canonical: string | undefined;
  readonly placed = new Set<MappedElement>();

  constructor(input: RequestBuildInput) {
    this.input = input;
    this.ad = input.definition;
    this.where = `ActivityDefinition/${this.ad.id ?? this.ad.name ?? this.ad.url ?? '(no id)'}`;
    const { context } = input;
    this.subject = referenceTo(context.subject);
    this.encounter = referenceTo(context.encounter);
    this.practitioner = referenceTo(context.practitioner);
    this.organization = referenceTo(context.organization);
    this.canonical = this.ad.url ? (this.ad.version ? `${this.ad.url}|${this.ad.version}` : this.ad.url) : undefined;
  }

  /** Practitioner, else organization (every spec map). */
  get requester(): OpenReference | undefined {
    return this.practitioner ?? this.organization;
  }

  get nowText(): string {
    return this.input.nowText;
  }

  /**
   * Marks AD elements as placed and returns a copy of the value, so mappers read
   * `m.use('code', ad.code)`; a copy, because the request is edited afterwards (dynamic values)
   * and must share nothing with the loaded definition.
   */
  use<T>(element: MappedElement, value: T): T {
    if (value !== undefined) this.placed.add(element);
    return copyJson(value);
  }

  report(severity: OperationOutcomeIssue['severity'], code: OperationOutcomeIssue['code'], message: string): void {
    const found = issue(severity, code, `${this.where}: ${message}`, [this.where]);
    if (this.input.strict && (severity === 'error' || severity === 'fatal')) throw new OperationOutcomeError(outcome(found));
    this.input.issues.push(found);
  }

  /** AD.intent when the target type allows it, else `proposal` (with a warning). */
  intent<T extends string>(allowed: readonly T[]): T {
    const wanted = this.ad.intent;
    if (wanted === undefined) return 'proposal' as T;
    if ((allowed as readonly string[]).includes(wanted)) return wanted as T;
    this.report('warning', 'value', `intent '${wanted}' is not allowed on ${this.ad.kind}; used 'proposal'`);
    return 'proposal' as T;
  }

  private timingCache: ReturnType<typeof concreteTiming> | undefined;

  /** timing[x] made concrete: Age/Range against the birth date, Duration from now. */
  get timing(): ReturnType<typeof concreteTiming> {
    if (!this.timingCache) {
      const ad = this.ad;
      const source: PlanDefinitionAction = {
        timingDateTime: ad.timingDateTime,
        timingPeriod: ad.timingPeriod,
        timingTiming: ad.timingTiming,
        timingAge: ad.timingAge,
        timingDuration: ad.timingDuration,
        timingRange: ad.timingRange,
      };
      const subject = this.input.context.subject as { birthDate?: string };
      this.timingCache = concreteTiming(source, subject.birthDate, this.nowText);
    }
    return this.timingCache;
  }

  hasTiming(): boolean {
    const ad = this.ad;
    return Boolean(ad.timingDateTime ?? ad.timingPeriod ?? ad.timingTiming ?? ad.timingAge ?? ad.timingDuration ?? ad.timingRange);
  }

  /**
   * The timing as occurrence[x], restricted to the shapes the target kind allows. A timing that
   * stays relative (no birth date, non-calendar unit) or has no allowed shape is reported, not set.
   */
  occurrence(shapes: readonly OccurrenceShape[]): Occurrence {
    if (!this.hasTiming()) return {};
    const { timing, note } = this.timing;
    let result: Occurrence = {};
    if (timing.timingDateTime && shapes.includes('DateTime')) result = { occurrenceDateTime: timing.timingDateTime };
    else if (timing.timingPeriod && shapes.includes('Period')) result = { occurrencePeriod: timing.timingPeriod };
    else if (timing.timingDateTime && shapes.includes('Period')) result = { occurrencePeriod: { start: timing.timingDateTime, end: timing.timingDateTime } };
    else if (timing.timingTiming && shapes.includes('Timing')) result = { occurrenceTiming: timing.timingTiming };
    if (Object.keys(result).length > 0) {
      this.placed.add('timing');
      if (note) this.report('information', 'informational', `timing: ${note}`);
    } else if (note) {
      this.report('information', 'informational', `timing not mapped to ${this.ad.kind}: ${note}`);
      this.placed.add('timing');
    }
    return result;
  }

  private participantCache: Participants | undefined;

  /** participant -> references (patient -> subject, practitioner -> the practitioner in context) and roles. */
  get participants(): Participants {
    if (this.participantCache) return this.participantCache;
    const actors: OpenReference[] = [];
    const roles: CodeableConcept[] = [];
    const entries: Participants['entries'] = [];
    for (const [i, p] of (this.ad.participant ?? []).entries()) {
      if (p.role) roles.push(p.role);
      const actor = p.type === 'patient' ? this.subject : p.type === 'practitioner' ? this.practitioner : undefined;
      entries.push({ ...(actor ? { actor } : {}), ...(p.role ? { role: p.role } : {}) });
      if (actor) {
        if (!actors.some((a) => a.reference === actor.reference)) actors.push(actor);
      } else {
        const why = p.type === 'practitioner' || p.type === 'patient' ? `no ${p.type} was given` : 'the $apply context has no such parameter';
        this.report('information', 'informational', `participant[${i}] of type '${p.type}' not resolved to a reference: ${why}${p.role ? '; its role is kept' : ''}`);
      }
    }
    this.participantCache = { actors, roles, entries };
    return this.participantCache;
  }
}
