import { describe, expect, it } from 'vitest';
import { activity, build, context, NOW, snomed } from './fixtures.ts';

const hsg = snomed('168884001', 'Hysterosalpingography');
const theatre = { reference: 'Location/theatre' };
const nurse = snomed('224535009', 'Registered nurse');

describe('ActivityDefinition kinds', () => {
  it('ServiceRequest: the spec map plus participant, quantity and meta.profile', () => {
    const ad = activity('ServiceRequest', {
      profile: 'http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-servicerequest',
      code: hsg,
      intent: 'order',
      priority: 'urgent',
      timingPeriod: { start: '2026-03-05', end: '2026-03-09' },
      location: theatre,
      bodySite: [snomed('35039007', 'Uterus')],
      quantity: { value: 1 },
      participant: [{ type: 'practitioner', role: snomed('66862007', 'Radiologist') }, { type: 'patient' }],
    });
    const { resource, issues } = build(ad, { requestStatus: 'active' });
    expect(resource).toEqual({
      resourceType: 'ServiceRequest',
      id: 'req1',
      meta: { profile: ['http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-servicerequest'] },
      instantiatesCanonical: ['http://example.org/fhir/ActivityDefinition/ServiceRequest|1.0.0'],
      status: 'active',
      intent: 'order',
      priority: 'urgent',
      code: hsg,
      quantityQuantity: { value: 1 },
      subject: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/enc1' },
      occurrencePeriod: { start: '2026-03-05', end: '2026-03-09' },
      authoredOn: NOW,
      requester: { reference: 'Practitioner/dr1' },
      performerType: snomed('66862007', 'Radiologist'),
      performer: [{ reference: 'Practitioner/dr1' }, { reference: 'Patient/p1' }],
      locationReference: [theatre],
      bodySite: [snomed('35039007', 'Uterus')],
    });
    expect(issues).toEqual([]);
  });

  it('MedicationRequest: product -> medication[x], dosage -> dosageInstruction, quantity and timing -> dispenseRequest', () => {
    const doxycycline = snomed('372478003', 'Doxycycline');
    const dosage = [{ text: '100 mg twice daily', timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' as const } } }];
    const ad = activity('MedicationRequest', {
      productCodeableConcept: doxycycline,
      dosage,
      quantity: { value: 10, unit: 'tablet' },
      timingDuration: { value: 5, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
      doNotPerform: false,
    });
    const { resource, issues } = build(ad, { ctx: context({ practitioner: undefined }) });
    expect(resource).toMatchObject({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'proposal',
      doNotPerform: false,
      medicationCodeableConcept: doxycycline,
      subject: { reference: 'Patient/p1' },
      requester: { reference: 'Organization/clinic' },
      instantiatesCanonical: ['http://example.org/fhir/ActivityDefinition/MedicationRequest|1.0.0'],
      dosageInstruction: dosage,
      dispenseRequest: { quantity: { value: 10, unit: 'tablet' }, expectedSupplyDuration: { value: 5, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } },
      authoredOn: NOW,
    });
    expect(resource['recorder']).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('MedicationRequest: intent "directive" is not allowed there and falls back to proposal with a warning', () => {
    const { resource, issues } = build(activity('MedicationRequest', { productCodeableConcept: snomed('1', 'x'), intent: 'directive' }));
    expect(resource['intent']).toBe('proposal');
    expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'value' })]);
  });

  it('CommunicationRequest: category from code, payload from description, recipient from participants', () => {
    const ad = activity('CommunicationRequest', {
      code: snomed('313046007', 'Patient education'),
      description: 'Explain the HSG preparation and when to call the clinic.',
      timingDateTime: '2026-03-02',
      participant: [{ type: 'patient' }],
      priority: 'routine',
    });
    const { resource, issues } = build(ad);
    expect(resource).toEqual({
      resourceType: 'CommunicationRequest',
      id: 'req1',
      status: 'draft',
      category: [snomed('313046007', 'Patient education')],
      priority: 'routine',
      subject: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/enc1' },
      payload: [{ contentString: 'Explain the HSG preparation and when to call the clinic.' }],
      occurrenceDateTime: '2026-03-02',
      authoredOn: NOW,
      requester: { reference: 'Practitioner/dr1' },
      recipient: [{ reference: 'Patient/p1' }],
    });
    expect(issues).toEqual([]);
  });

  it('CommunicationRequest: without a description the payload is the code text', () => {
    const { resource } = build(activity('CommunicationRequest', { code: { text: 'Call the patient with results' } }));
    expect(resource['payload']).toEqual([{ contentString: 'Call the patient with results' }]);
  });

  it('Task: status draft, for, code, description, owner, performerType, restriction.period', () => {
    const ad = activity('Task', {
      code: { coding: [{ system: 'http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type', code: 'collect-information' }] },
      description: 'Record the first day of the last menstrual period',
      timingPeriod: { start: '2026-03-01', end: '2026-03-03' },
      participant: [{ type: 'practitioner', role: nurse }],
      location: theatre,
    });
    const { resource } = build(ad, { requestStatus: 'active' });
    expect(resource).toEqual({
      resourceType: 'Task',
      id: 'req1',
      instantiatesCanonical: 'http://example.org/fhir/ActivityDefinition/Task|1.0.0',
      status: 'draft',
      intent: 'proposal',
      code: ad.code,
      description: 'Record the first day of the last menstrual period',
      for: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/enc1' },
      authoredOn: NOW,
      requester: { reference: 'Practitioner/dr1' },
      performerType: [nurse],
      owner: { reference: 'Practitioner/dr1' },
      location: theatre,
      restriction: { period: { start: '2026-03-01', end: '2026-03-03' } },
    });
  });

  it('Appointment: proposed, subject and location as participants, numeric priority, instants -> start/end', () => {
    const ad = activity('Appointment', {
      code: snomed('183444007', 'Referral for further care'),
      priority: 'urgent',
      timingPeriod: { start: '2026-03-05T09:00:00+01:00', end: '2026-03-05T09:30:00+01:00' },
      participant: [
        { type: 'practitioner', role: nurse },
        { type: 'patient', role: snomed('116154003', 'Patient') },
      ],
      location: theatre,
      description: 'HSG slot',
    });
    const { resource, issues } = build(ad);
    expect(resource).toEqual({
      resourceType: 'Appointment',
      id: 'req1',
      status: 'proposed',
      serviceType: [snomed('183444007', 'Referral for further care')],
      priority: 7,
      description: 'HSG slot',
      start: '2026-03-05T09:00:00+01:00',
      end: '2026-03-05T09:30:00+01:00',
      created: NOW,
      participant: [
        { actor: { reference: 'Patient/p1' }, status: 'needs-action', type: [snomed('116154003', 'Patient')] },
        { type: [nurse], actor: { reference: 'Practitioner/dr1' }, status: 'needs-action' },
        { actor: theatre, status: 'needs-action' },
      ],
    });
    expect(issues).toEqual([]);
  });

  it('Appointment: a date-only window becomes requestedPeriod, a Duration becomes minutesDuration', () => {
    const window = build(activity('Appointment', { timingPeriod: { start: '2026-03-05', end: '2026-03-09' } })).resource;
    expect(window['requestedPeriod']).toEqual([{ start: '2026-03-05', end: '2026-03-09' }]);
    expect(window['start']).toBeUndefined();
    const duration = build(activity('Appointment', { timingDuration: { value: 1.5, unit: 'h', code: 'h' } })).resource;
    expect(duration['minutesDuration']).toBe(90);
  });

  it('DeviceRequest: coded product -> codeCodeableConcept, timing -> occurrence, performer', () => {
    const catheter = snomed('19923001', 'Catheter');
    const ad = activity('DeviceRequest', {
      productCodeableConcept: catheter,
      timingTiming: { repeat: { count: 1 } },
      participant: [{ type: 'practitioner' }],
    });
    const { resource } = build(ad, { requestStatus: 'active' });
    expect(resource).toMatchObject({
      resourceType: 'DeviceRequest',
      status: 'active',
      intent: 'proposal',
      codeCodeableConcept: catheter,
      subject: { reference: 'Patient/p1' },
      occurrenceTiming: { repeat: { count: 1 } },
      performer: { reference: 'Practitioner/dr1' },
      instantiatesCanonical: ['http://example.org/fhir/ActivityDefinition/DeviceRequest|1.0.0'],
      authoredOn: NOW,
    });
  });

  it('SupplyRequest: code -> item, quantity, location -> deliverTo, no subject element', () => {
    const ad = activity('SupplyRequest', { code: snomed('61968008', 'Syringe'), quantity: { value: 2 }, location: theatre, timingDateTime: '2026-03-04' });
    const { resource, issues } = build(ad);
    expect(resource).toEqual({
      resourceType: 'SupplyRequest',
      id: 'req1',
      status: 'draft',
      itemCodeableConcept: snomed('61968008', 'Syringe'),
      quantity: { value: 2 },
      occurrenceDateTime: '2026-03-04',
      authoredOn: NOW,
      requester: { reference: 'Practitioner/dr1' },
      deliverTo: theatre,
    });
    expect(issues).toEqual([]);
  });

  it('SupplyRequest without quantity warns that R4 requires it', () => {
    const { issues } = build(activity('SupplyRequest', { code: snomed('61968008', 'Syringe') }));
    expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'required', diagnostics: expect.stringContaining('quantity') })]);
  });

  it('NutritionOrder: code -> oralDiet.type, Timing -> schedule, or excludeFoodModifier when doNotPerform', () => {
    const diet = snomed('160670007', 'Diabetic diet');
    const schedule = { repeat: { frequency: 3, period: 1, periodUnit: 'd' as const } };
    const { resource } = build(activity('NutritionOrder', { code: diet, timingTiming: schedule }));
    expect(resource).toEqual({
      resourceType: 'NutritionOrder',
      id: 'req1',
      instantiatesCanonical: ['http://example.org/fhir/ActivityDefinition/NutritionOrder|1.0.0'],
      status: 'draft',
      intent: 'proposal',
      patient: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/enc1' },
      dateTime: NOW,
      orderer: { reference: 'Practitioner/dr1' },
      oralDiet: { type: [diet], schedule: [schedule] },
    });
    const avoid = build(activity('NutritionOrder', { code: snomed('256350002', 'Gluten'), doNotPerform: true }));
    expect(avoid.resource['excludeFoodModifier']).toEqual([snomed('256350002', 'Gluten')]);
    expect(avoid.resource['oralDiet']).toBeUndefined();
    expect(avoid.issues).toEqual([]);
  });

  it('ImmunizationRecommendation: vaccine, forecast status, due / latest dates from the timing window', () => {
    const rubella = snomed('386012008', 'Rubella vaccine');
    const ad = activity('ImmunizationRecommendation', {
      productCodeableConcept: rubella,
      timingPeriod: { start: '2026-03-10', end: '2026-06-10' },
      description: 'Rubella-non-immune before conception',
    });
    const { resource } = build(ad);
    expect(resource).toEqual({
      resourceType: 'ImmunizationRecommendation',
      id: 'req1',
      patient: { reference: 'Patient/p1' },
      date: NOW,
      authority: { reference: 'Organization/clinic' },
      recommendation: [
        {
          vaccineCode: [rubella],
          forecastStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status', code: 'due', display: 'Due' }] },
          dateCriterion: [
            { code: { coding: [{ system: 'http://loinc.org', code: '30980-7', display: 'Date vaccine due' }] }, value: '2026-03-10' },
            { code: { coding: [{ system: 'http://loinc.org', code: '59777-3', display: 'Latest date to give immunization' }] }, value: '2026-06-10' },
          ],
          description: 'Rubella-non-immune before conception',
        },
      ],
    });
    expect(resource['status']).toBeUndefined();
  });

  it('CarePlan (minimal): category from code, period from timing, author', () => {
    const ad = activity('CarePlan', { title: 'Fertility work-up', code: { text: 'Infertility work-up' }, timingPeriod: { start: '2026-03-01', end: '2026-06-01' } });
    const { resource } = build(ad, { ctx: context({ practitioner: undefined }) });
    expect(resource).toMatchObject({
      resourceType: 'CarePlan',
      status: 'draft',
      intent: 'proposal',
      category: [{ text: 'Infertility work-up' }],
      title: 'Fertility work-up',
      subject: { reference: 'Patient/p1' },
      period: { start: '2026-03-01', end: '2026-06-01' },
      created: NOW,
      author: { reference: 'Organization/clinic' },
    });
  });

  it('RequestGroup (minimal): code, priority, author', () => {
    const { resource } = build(activity('RequestGroup', { code: { text: 'HSG bundle' }, priority: 'routine' }));
    expect(resource).toMatchObject({
      resourceType: 'RequestGroup',
      status: 'draft',
      intent: 'proposal',
      code: { text: 'HSG bundle' },
      priority: 'routine',
      subject: { reference: 'Patient/p1' },
      author: { reference: 'Practitioner/dr1' },
    });
  });

  it('an unsupported kind gives a not-supported error issue and a bare placeholder', () => {
    const { resource, issues } = build(activity('VisionPrescription', { code: { text: 'glasses' } }));
    expect(resource).toEqual({ resourceType: 'VisionPrescription', id: 'req1' });
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'error', code: 'not-supported', diagnostics: expect.stringContaining("kind 'VisionPrescription' is not supported") }),
    ]);
  });

  it('an unsupported kind throws in strict mode', () => {
    expect(() => build(activity('Contract'), { strict: true })).toThrow(/not supported/);
  });
});

describe('mapping rules shared by the kinds', () => {
  it('instantiatesCanonical is the bare url when the definition has no version', () => {
    const { resource } = build(activity('ServiceRequest', { version: undefined, code: { text: 'x' } }));
    expect(resource['instantiatesCanonical']).toEqual(['http://example.org/fhir/ActivityDefinition/ServiceRequest']);
  });

  it('timingAge becomes a date from the birth date; timingDuration a date-time from now', () => {
    const age = build(activity('ServiceRequest', { timingAge: { value: 40, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' } }));
    expect(age.resource['occurrenceDateTime']).toBe('2030-05-01');
    expect(age.issues).toEqual([expect.objectContaining({ severity: 'information', diagnostics: expect.stringContaining('from birth date') })]);
    const inDays = build(activity('ServiceRequest', { timingDuration: { value: 3, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } }));
    expect(inDays.resource['occurrenceDateTime']).toBe('2026-03-04T09:00:00+01:00');
  });

  it('a Range of ages becomes a Period from the birth date', () => {
    const { resource } = build(activity('ServiceRequest', { timingRange: { low: { value: 30, unit: 'years', code: 'a' }, high: { value: 35, unit: 'years', code: 'a' } } }));
    expect(resource['occurrencePeriod']).toEqual({ start: '2020-05-01', end: '2025-05-01' });
  });

  it('a timingAge without a birth date is left out with an informational issue', () => {
    const { resource, issues } = build(activity('ServiceRequest', { timingAge: { value: 40, unit: 'years', code: 'a' } }), {
      ctx: context({ subject: { resourceType: 'Patient', id: 'p2' } }),
    });
    expect(Object.keys(resource).some((k) => k.startsWith('occurrence'))).toBe(false);
    expect(issues).toEqual([expect.objectContaining({ severity: 'information', diagnostics: expect.stringContaining('birth date') })]);
  });

  it('elements a kind cannot hold are reported, not dropped silently', () => {
    const { issues } = build(activity('ServiceRequest', { code: { text: 'x' }, dosage: [{ text: 'once' }], productCodeableConcept: { text: 'y' } }));
    expect(issues).toEqual([expect.objectContaining({ severity: 'information', diagnostics: expect.stringContaining('product, dosage have no counterpart on ServiceRequest') })]);
  });

  it('doNotPerform = true on a kind without it is an error, because the request would mean the opposite', () => {
    const { issues } = build(activity('Task', { code: { text: 'x' }, doNotPerform: true }));
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'not-supported', diagnostics: expect.stringContaining('doNotPerform') })]);
  });

  it('a participant that cannot be resolved keeps its role and says why', () => {
    const { resource, issues } = build(activity('ServiceRequest', { participant: [{ type: 'device', role: { text: 'Ultrasound' } }] }));
    expect(resource['performerType']).toEqual({ text: 'Ultrasound' });
    expect(resource['performer']).toBeUndefined();
    expect(issues[0]!.diagnostics).toMatch(/participant\[0\] of type 'device' not resolved/);
  });

  it('a missing kind is an error issue', () => {
    const { issues } = build(activity('ServiceRequest', { kind: undefined }));
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'required' })]);
  });

  it('a transform (StructureMap, not run) is refused with an error, and no request is mapped', () => {
    const { resource, issues } = build(activity('ServiceRequest', { transform: 'http://example.org/StructureMap/x' }));
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'not-supported' })]);
    expect(resource).toEqual({ resourceType: 'ServiceRequest', id: 'req1' });
  });
});
