/**
 * One mapper per ActivityDefinition.kind: the AD's structural elements onto the request resource,
 * after the spec's activitydefinition-map-<Kind>.fhirmap maps (HL7/fhir source/activitydefinition),
 * completed where the maps stop short (participant, quantity, dosage) and corrected where a map
 * would write a clinically wrong element (see docs/activity-definition-apply.md).
 */
import type {
  Appointment,
  AppointmentParticipant,
  CarePlan,
  CodeableConcept,
  CommunicationRequest,
  DeviceRequest,
  ImmunizationRecommendation,
  MedicationRequest,
  Meta,
  NutritionOrder,
  Period,
  RequestGroup,
  Resource,
  ServiceRequest,
  SupplyRequest,
  Task,
  Timing,
} from '@medplum/fhirtypes';
import type { MapContext } from './map-context.ts';
import { IMMUNIZATION_DATE_CRITERION } from './r4-terminology.ts';

/**
 * Drops undefined members so the JSON carries only what was mapped (key order stays as written).
 * A new object rather than deletes: deleting turns an object into a slow dictionary for every later
 * read (dynamic values, the conformance walk, JSON.stringify).
 */
function compact<T extends object>(value: T): T {
  const kept: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) if (member !== undefined) kept[key] = member;
  return kept as T;
}

const list = <T>(value: T | undefined): T[] | undefined => (value === undefined ? undefined : [value]);
const nonEmpty = <T>(values: T[]): T[] | undefined => (values.length > 0 ? values : undefined);

function meta(m: MapContext): Meta | undefined {
  return m.ad.profile ? { profile: [m.ad.profile] } : undefined;
}

const REQUEST_INTENTS = ['proposal', 'plan', 'directive', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option'] as const;
const MEDICATION_INTENTS = ['proposal', 'plan', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option'] as const;
const TASK_INTENTS = ['unknown', ...MEDICATION_INTENTS] as const;
const CAREPLAN_INTENTS = ['proposal', 'plan', 'order', 'option'] as const;

/** The spec's Appointment map: request priority codes onto Appointment's 0-9 scale (0 = undefined). */
const APPOINTMENT_PRIORITY: Record<string, number> = { routine: 9, urgent: 7, asap: 4, stat: 1 };

const FULL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const MINUTES_PER: Record<string, number> = { min: 1, minute: 1, minutes: 1, h: 60, hour: 60, hours: 60, d: 1440, day: 1440, days: 1440, wk: 10080, week: 10080, weeks: 10080 };

const IMMUNIZATION_STATUS = 'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status';

export type KindMapper = (m: MapContext) => Resource;

function serviceRequest(m: MapContext): ServiceRequest {
  const { ad } = m;
  const { actors, roles } = m.participants;
  m.use('participant', ad.participant);
  return compact<ServiceRequest>({
    resourceType: 'ServiceRequest',
    id: m.input.id,
    meta: meta(m),
    instantiatesCanonical: list(m.canonical),
    status: m.input.requestStatus,
    intent: m.intent(REQUEST_INTENTS),
    priority: m.use('priority', ad.priority),
    doNotPerform: m.use('doNotPerform', ad.doNotPerform),
    code: m.use('code', ad.code),
    quantityQuantity: m.use('quantity', ad.quantity),
    subject: m.subject!,
    encounter: m.encounter,
    ...m.occurrence(['DateTime', 'Period', 'Timing']),
    authoredOn: m.nowText,
    requester: m.requester,
    performerType: roles[0],
    performer: nonEmpty(actors),
    locationReference: list(m.use('location', ad.location)),
    bodySite: m.use('bodySite', ad.bodySite),
  });
}

function medicationRequest(m: MapContext): MedicationRequest {
  const { ad } = m;
  const { actors, roles } = m.participants;
  m.use('participant', ad.participant);
  // timing: a Period bounds the order's validity; a Duration is how long the supply should last.
  // (The spec map sends a Duration to dispenseInterval, the minimum gap between dispenses - a
  // different instruction; see the docs.) Other timings have no MedicationRequest counterpart.
  const validityPeriod = ad.timingPeriod ? m.use('timing', ad.timingPeriod) : undefined;
  const expectedSupplyDuration = ad.timingDuration ? m.use('timing', ad.timingDuration) : undefined;
  const dispenseRequest = compact({ validityPeriod, quantity: m.use('quantity', ad.quantity), expectedSupplyDuration });
  return compact<MedicationRequest>({
    resourceType: 'MedicationRequest',
    id: m.input.id,
    meta: meta(m),
    status: m.input.requestStatus,
    intent: m.intent(MEDICATION_INTENTS),
    priority: m.use('priority', ad.priority),
    doNotPerform: m.use('doNotPerform', ad.doNotPerform),
    medicationCodeableConcept: m.use('product', ad.productCodeableConcept),
    medicationReference: m.use('product', ad.productReference) as MedicationRequest['medicationReference'],
    subject: m.subject!,
    encounter: m.encounter,
    authoredOn: m.nowText,
    requester: m.requester,
    performer: actors[0],
    performerType: roles[0],
    recorder: m.practitioner,
    instantiatesCanonical: list(m.canonical),
    dosageInstruction: m.use('dosage', ad.dosage),
    dispenseRequest: Object.keys(dispenseRequest).length > 0 ? dispenseRequest : undefined,
  });
}

function communicationText(m: MapContext): string | undefined {
  if (m.ad.description) return m.use('description', m.ad.description);
  return m.ad.code?.text ?? m.ad.code?.coding?.find((c) => c.display)?.display;
}

function communicationRequest(m: MapContext): CommunicationRequest {
  const { ad } = m;
  const { actors } = m.participants;
  m.use('participant', ad.participant);
  const text = communicationText(m);
  return compact<CommunicationRequest>({
    resourceType: 'CommunicationRequest',
    id: m.input.id,
    meta: meta(m),
    status: m.input.requestStatus,
    category: list(m.use('code', ad.code)),
    priority: m.use('priority', ad.priority),
    doNotPerform: m.use('doNotPerform', ad.doNotPerform),
    subject: m.subject,
    encounter: m.encounter,
    payload: text ? [{ contentString: text }] : undefined,
    ...(m.occurrence(['DateTime', 'Period']) as Pick<CommunicationRequest, 'occurrenceDateTime' | 'occurrencePeriod'>),
    authoredOn: m.nowText,
    requester: m.requester,
    recipient: nonEmpty(actors),
  });
}

function task(m: MapContext): Task {
  const { ad } = m;
  const { actors, roles } = m.participants;
  m.use('participant', ad.participant);
  const occurrence = m.occurrence(['Period']) as { occurrencePeriod?: Period };
  return compact<Task>({
    resourceType: 'Task',
    id: m.input.id,
    meta: meta(m),
    instantiatesCanonical: m.canonical,
    status: 'draft',
    intent: m.intent(TASK_INTENTS),
    priority: m.use('priority', ad.priority),
    code: m.use('code', ad.code),
    description: m.use('description', ad.description),
    for: m.subject,
    encounter: m.encounter,
    authoredOn: m.nowText,
    requester: m.requester,
    performerType: nonEmpty(roles),
    owner: actors[0],
    location: m.use('location', ad.location),
    restriction: occurrence.occurrencePeriod ? { period: occurrence.occurrencePeriod } : undefined,
  });
}

function appointmentTiming(m: MapContext): Pick<Appointment, 'start' | 'end' | 'minutesDuration' | 'requestedPeriod'> {
  const duration = m.ad.timingDuration;
  if (duration) {
    const per = MINUTES_PER[duration.code ?? ''] ?? MINUTES_PER[(duration.unit ?? '').toLowerCase()];
    const minutes = per !== undefined && duration.value !== undefined ? duration.value * per : undefined;
    if (minutes !== undefined && Number.isInteger(minutes) && minutes > 0) return { minutesDuration: m.use('timing', minutes) };
    return {};
  }
  const occurrence = m.occurrence(['DateTime', 'Period']) as { occurrenceDateTime?: string; occurrencePeriod?: Period };
  // Appointment.start/end are instants; a date-only or open window is a requested period instead.
  const at = occurrence.occurrenceDateTime;
  if (at) return FULL_INSTANT.test(at) ? { start: at } : { requestedPeriod: [{ start: at, end: at }] };
  const period = occurrence.occurrencePeriod;
  if (!period) return {};
  if (period.start && period.end && FULL_INSTANT.test(period.start) && FULL_INSTANT.test(period.end)) return { start: period.start, end: period.end };
  return { requestedPeriod: [period] };
}

function appointment(m: MapContext): Appointment {
  const { ad } = m;
  const participants: AppointmentParticipant[] = [];
  // The subject takes part (spec map); participants of type patient add only their role to it.
  const subjectEntry: AppointmentParticipant | undefined = m.subject ? { actor: m.subject, status: 'needs-action' } : undefined;
  if (subjectEntry) participants.push(subjectEntry);
  for (const entry of m.participants.entries) {
    if (entry.actor && entry.actor.reference === m.subject?.reference && subjectEntry) {
      if (entry.role) subjectEntry.type = [...(subjectEntry.type ?? []), entry.role];
      continue;
    }
    participants.push(compact<AppointmentParticipant>({ type: list(entry.role), actor: entry.actor, status: 'needs-action' }));
  }
  m.use('participant', ad.participant);
  if (ad.location) participants.push({ actor: m.use('location', ad.location), status: 'needs-action' });
  return compact<Appointment>({
    resourceType: 'Appointment',
    id: m.input.id,
    meta: meta(m),
    status: 'proposed',
    serviceType: list(m.use('code', ad.code)),
    priority: ad.priority ? m.use('priority', APPOINTMENT_PRIORITY[ad.priority]) : undefined,
    description: m.use('description', ad.description),
    ...appointmentTiming(m),
    created: m.nowText,
    participant: participants,
  });
}

function deviceRequest(m: MapContext): DeviceRequest {
  const { ad } = m;
  const { actors, roles } = m.participants;
  m.use('participant', ad.participant);
  // The device is the coded product when there is one, else the AD code (spec map: code -> code).
  // productReference points to a Medication or Substance, never a Device, so it cannot be used.
  const device = ad.productCodeableConcept ? { codeCodeableConcept: m.use('product', ad.productCodeableConcept) } : { codeCodeableConcept: m.use('code', ad.code) };
  return compact<DeviceRequest>({
    resourceType: 'DeviceRequest',
    id: m.input.id,
    meta: meta(m),
    instantiatesCanonical: list(m.canonical),
    status: m.input.requestStatus,
    intent: m.intent(REQUEST_INTENTS),
    priority: m.use('priority', ad.priority),
    ...device,
    subject: m.subject!,
    encounter: m.encounter,
    ...m.occurrence(['DateTime', 'Period', 'Timing']),
    authoredOn: m.nowText,
    requester: m.requester,
    performerType: roles[0],
    performer: actors[0],
  });
}

function supplyRequest(m: MapContext): SupplyRequest {
  const { ad } = m;
  const item = ad.productReference
    ? { itemReference: m.use('product', ad.productReference) as SupplyRequest['itemReference'] }
    : ad.productCodeableConcept
      ? { itemCodeableConcept: m.use('product', ad.productCodeableConcept) }
      : { itemCodeableConcept: m.use('code', ad.code) };
  return compact<SupplyRequest>({
    resourceType: 'SupplyRequest',
    id: m.input.id,
    meta: meta(m),
    status: m.input.requestStatus,
    priority: m.use('priority', ad.priority),
    ...item,
    quantity: m.use('quantity', ad.quantity)!,
    ...m.occurrence(['DateTime', 'Period', 'Timing']),
    authoredOn: m.nowText,
    requester: m.requester,
    deliverTo: m.use('location', ad.location),
  });
}

function nutritionOrder(m: MapContext): NutritionOrder {
  const { ad } = m;
  // A "do not" nutrition activity names food to exclude; otherwise its code is the diet type.
  const exclude = ad.doNotPerform === true && ad.code !== undefined;
  if (exclude) m.use('doNotPerform', true);
  const schedule = (m.occurrence(['Timing']) as { occurrenceTiming?: Timing }).occurrenceTiming;
  const oralDiet = compact({ type: exclude ? undefined : list(m.use('code', ad.code)), schedule: list(schedule) });
  return compact<NutritionOrder>({
    resourceType: 'NutritionOrder',
    id: m.input.id,
    meta: meta(m),
    instantiatesCanonical: list(m.canonical),
    status: m.input.requestStatus,
    intent: m.intent(REQUEST_INTENTS),
    patient: m.subject!,
    encounter: m.encounter,
    dateTime: m.nowText,
    orderer: m.practitioner,
    excludeFoodModifier: exclude ? list(m.use('code', ad.code)) : undefined,
    oralDiet: Object.keys(oralDiet).length > 0 ? oralDiet : undefined,
  });
}

function immunizationRecommendation(m: MapContext): ImmunizationRecommendation {
  const { ad } = m;
  const vaccine: CodeableConcept | undefined = ad.productCodeableConcept ? m.use('product', ad.productCodeableConcept) : m.use('code', ad.code);
  const occurrence = m.occurrence(['DateTime', 'Period']) as { occurrenceDateTime?: string; occurrencePeriod?: Period };
  const criteria: { code: CodeableConcept; value: string }[] = [];
  const due = occurrence.occurrenceDateTime ?? occurrence.occurrencePeriod?.start;
  if (due) criteria.push({ code: { coding: [{ ...IMMUNIZATION_DATE_CRITERION.due }] }, value: due });
  const latest = occurrence.occurrencePeriod?.end;
  if (latest) criteria.push({ code: { coding: [{ ...IMMUNIZATION_DATE_CRITERION.latest }] }, value: latest });
  // R4 imr-1: a recommendation names a vaccine or a target disease; the definition gives neither.
  if (!vaccine)
    m.report(
      'warning',
      'required',
      'ImmunizationRecommendation.recommendation has neither vaccineCode nor targetDisease (R4 imr-1): give the ActivityDefinition a productCodeableConcept or code',
    );
  return compact<ImmunizationRecommendation>({
    resourceType: 'ImmunizationRecommendation',
    id: m.input.id,
    meta: meta(m),
    patient: m.subject!,
    date: m.nowText,
    authority: m.organization,
    recommendation: [
      compact({
        vaccineCode: list(vaccine),
        forecastStatus: { coding: [{ system: IMMUNIZATION_STATUS, code: 'due', display: 'Due' }] },
        dateCriterion: nonEmpty(criteria),
        description: m.use('description', ad.description),
      }),
    ],
  });
}

function carePlan(m: MapContext): CarePlan {
  const { ad } = m;
  const occurrence = m.occurrence(['Period']) as { occurrencePeriod?: Period };
  return compact<CarePlan>({
    resourceType: 'CarePlan',
    id: m.input.id,
    meta: meta(m),
    instantiatesCanonical: list(m.canonical),
    status: m.input.requestStatus,
    intent: m.intent(CAREPLAN_INTENTS),
    category: list(m.use('code', ad.code)),
    title: ad.title,
    description: m.use('description', ad.description),
    subject: m.subject!,
    encounter: m.encounter,
    period: occurrence.occurrencePeriod,
    created: m.nowText,
    author: m.requester,
  });
}

function requestGroup(m: MapContext): RequestGroup {
  const { ad } = m;
  return compact<RequestGroup>({
    resourceType: 'RequestGroup',
    id: m.input.id,
    meta: meta(m),
    instantiatesCanonical: list(m.canonical),
    status: m.input.requestStatus,
    intent: m.intent(REQUEST_INTENTS),
    priority: m.use('priority', ad.priority),
    code: m.use('code', ad.code),
    subject: m.subject,
    encounter: m.encounter,
    authoredOn: m.nowText,
    author: m.requester,
  });
}

export const KIND_MAPPERS: Readonly<Record<string, KindMapper>> = {
  ServiceRequest: serviceRequest,
  MedicationRequest: medicationRequest,
  CommunicationRequest: communicationRequest,
  Task: task,
  Appointment: appointment,
  DeviceRequest: deviceRequest,
  SupplyRequest: supplyRequest,
  NutritionOrder: nutritionOrder,
  ImmunizationRecommendation: immunizationRecommendation,
  CarePlan: carePlan,
  RequestGroup: requestGroup,
};

/** Elements each kind must carry (R4 cardinality 1..1 / 1..*), checked after dynamicValues. */
export const REQUIRED_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  ServiceRequest: ['subject'],
  MedicationRequest: ['subject', 'medication[x]'],
  DeviceRequest: ['subject', 'code[x]'],
  SupplyRequest: ['quantity', 'item[x]'],
  NutritionOrder: ['patient'],
  ImmunizationRecommendation: ['patient'],
  Appointment: ['participant'],
  CarePlan: ['subject'],
};
