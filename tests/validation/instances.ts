/**
 * Instances for the profile tests: for every profile one conforming resource, and for every
 * constraint a resource that breaks that constraint only (expected: the invariant key, or the
 * Medplum message and element path of a structural check).
 */
import type { Resource } from '@medplum/fhirtypes';
import { LOCAL, LOINC, SCT, V3_INTERPRETATION } from '../../profiles/_authoring/profile-specs.ts';

export const PATIENT = { reference: 'Patient/pat-1' };

export interface Expected {
  /** Root invariant key, e.g. ip-lmp-1. */
  key?: string;
  /** Medplum message text (details.text) of a structural issue. */
  text?: string;
  /** Element path of the issue (issue.expression[0]). */
  expression?: string;
}

export interface Violation {
  name: string;
  resource: Resource;
  expected: Expected;
}

export interface ProfileCase {
  id: string;
  valid: Resource[];
  violations: Violation[];
}

type Json = Record<string, unknown>;
const cc = (system: string, code: string): Json => ({ coding: [{ system, code }] });
const obs = (code: Json, rest: Json): Resource => ({ resourceType: 'Observation', status: 'final', code, subject: PATIENT, ...rest });
/** A copy of `r` with `changes` applied; a key set to undefined is removed. */
function edit(r: Resource, changes: Json): Resource {
  const copy: Json = { ...structuredClone(r) };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) Reflect.deleteProperty(copy, k);
    else copy[k] = v;
  }
  return copy as unknown as Resource;
}

const missing = (expression: string): Expected => ({ text: 'Missing required property', expression });
const pattern = (expression: string): Expected => ({ text: 'Value did not match expected pattern', expression });

// ---- conforming instances -------------------------------------------------------------------------

const lmp = obs(cc(LOINC, '8665-2'), { valueDateTime: '2025-03-01' });
const mensesEnd = obs(cc(LOCAL, 'menses-end-date'), { valueDateTime: '2025-03-06' });
const regular = obs(cc(LOCAL, 'menstrual-regularity'), { valueCodeableConcept: cc(SCT, '78456001') });
const pregnancyTest = obs(cc(LOINC, '2106-3'), { effectiveDateTime: '2025-03-08', valueCodeableConcept: cc(SCT, '260385009') });
const pregnancyStatus = obs(cc(LOINC, '82810-3'), { effectiveDateTime: '2025-03-08', valueCodeableConcept: cc(SCT, '60001007') });
const tubalLigation = {
  resourceType: 'Procedure',
  status: 'completed',
  code: {
    coding: [
      { system: SCT, code: '287664005' },
      { system: LOCAL, code: 'tl-method-pomeroy' },
    ],
  },
  subject: PATIENT,
  performedDateTime: '2015-06-01',
  bodySite: [cc(LOCAL, 'tube-segment-isthmic')],
} as Resource;
const iodine = obs(cc(LOCAL, 'iodine-sensitivity-test'), { effectiveDateTime: '2025-03-08', valueCodeableConcept: cc(SCT, '260385009') });
const cavity = obs(cc(LOCAL, 'hsg-uterine-cavity'), { valueCodeableConcept: cc(LOCAL, 'filling-defect') });
const side = (s: 'right' | 'left', value: string): Json => ({ code: cc(LOCAL, `tubal-patency-${s}`), valueCodeableConcept: cc(LOCAL, value) });
const patency = obs(cc(LOCAL, 'tubal-patency-panel'), { method: cc(LOCAL, 'hycosy'), component: [side('right', 'patent'), side('left', 'blocked-distal')] });
const semen = obs(
  {
    coding: [
      { system: LOCAL, code: 'semen-analysis-panel' },
      { system: SCT, code: '5025004' },
    ],
  },
  { focus: [{ reference: 'RelatedPerson/partner-1' }], interpretation: [cc(V3_INTERPRETATION, 'N')] },
);
const requestGroup = { resourceType: 'RequestGroup', id: 'rg', status: 'draft', intent: 'proposal', subject: PATIENT };
const carePlan = {
  resourceType: 'CarePlan',
  id: 'careplan-hysterosalpingography',
  contained: [requestGroup],
  instantiatesCanonical: ['http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography|0.1.0'],
  status: 'draft',
  intent: 'proposal',
  subject: PATIENT,
  created: '2025-03-08T09:00:00+08:00',
  activity: [{ reference: { reference: '#rg' } }],
} as Resource;

export const PROFILE_CASES: ProfileCase[] = [
  {
    id: 'ip-lmp-start',
    valid: [lmp, edit(lmp, { valueDateTime: '2025-03-01T08:00:00+08:00' })],
    violations: [
      { name: 'wrong code', resource: edit(lmp, { code: cc(LOINC, '8302-2') }), expected: pattern('Observation.code') },
      { name: 'no value', resource: edit(lmp, { valueDateTime: undefined }), expected: missing('Observation.value[x]') },
      { name: 'valueString', resource: edit(lmp, { valueDateTime: undefined, valueString: '2025-03-01' }), expected: { key: 'ip-lmp-1' } },
      { name: 'no subject', resource: edit(lmp, { subject: undefined }), expected: missing('Observation.subject') },
    ],
  },
  {
    id: 'ip-menses-end',
    valid: [mensesEnd],
    violations: [
      { name: 'wrong code', resource: edit(mensesEnd, { code: cc(LOCAL, 'menstruating-now') }), expected: pattern('Observation.code') },
      { name: 'no value', resource: edit(mensesEnd, { valueDateTime: undefined }), expected: missing('Observation.value[x]') },
      { name: 'valuePeriod', resource: edit(mensesEnd, { valueDateTime: undefined, valuePeriod: { end: '2025-03-06' } }), expected: { key: 'ip-mend-1' } },
    ],
  },
  {
    id: 'ip-menstrual-regularity',
    valid: [regular, edit(regular, { valueCodeableConcept: cc(LOCAL, 'irregular-menstrual-cycle') })],
    violations: [
      { name: 'no value', resource: edit(regular, { valueCodeableConcept: undefined }), expected: missing('Observation.value[x]') },
      { name: 'valueBoolean', resource: edit(regular, { valueCodeableConcept: undefined, valueBoolean: true }), expected: { key: 'ip-mreg-1' } },
      { name: 'value not a regularity code', resource: edit(regular, { valueCodeableConcept: cc(SCT, '386804004') }), expected: { key: 'ip-mreg-2' } },
    ],
  },
  {
    id: 'ip-pregnancy-test',
    valid: [pregnancyTest, edit(pregnancyTest, { code: cc(LOINC, '2118-8'), valueCodeableConcept: cc(SCT, '10828004') })],
    violations: [
      { name: 'pregnancy status code', resource: edit(pregnancyTest, { code: cc(LOINC, '82810-3') }), expected: { key: 'ip-pt-1' } },
      { name: 'valueString', resource: edit(pregnancyTest, { valueCodeableConcept: undefined, valueString: 'negative' }), expected: { key: 'ip-pt-2' } },
      { name: 'value not positive/negative', resource: edit(pregnancyTest, { valueCodeableConcept: cc(SCT, '77386006') }), expected: { key: 'ip-pt-3' } },
      { name: 'effectivePeriod', resource: edit(pregnancyTest, { effectiveDateTime: undefined, effectivePeriod: { start: '2025-03-08' } }), expected: { key: 'ip-pt-4' } },
      { name: 'no effective time', resource: edit(pregnancyTest, { effectiveDateTime: undefined }), expected: missing('Observation.effective[x]') },
      { name: 'no value', resource: edit(pregnancyTest, { valueCodeableConcept: undefined }), expected: missing('Observation.value[x]') },
    ],
  },
  {
    id: 'ip-pregnancy-status',
    valid: [pregnancyStatus, edit(pregnancyStatus, { valueCodeableConcept: cc(SCT, '77386006') })],
    violations: [
      { name: 'wrong code', resource: edit(pregnancyStatus, { code: cc(LOINC, '2106-3') }), expected: pattern('Observation.code') },
      { name: 'valueBoolean', resource: edit(pregnancyStatus, { valueCodeableConcept: undefined, valueBoolean: false }), expected: { key: 'ip-ps-1' } },
      { name: 'test result instead of status', resource: edit(pregnancyStatus, { valueCodeableConcept: cc(SCT, '10828004') }), expected: { key: 'ip-ps-2' } },
      { name: 'effectiveInstant', resource: edit(pregnancyStatus, { effectiveDateTime: undefined, effectiveInstant: '2025-03-08T09:00:00Z' }), expected: { key: 'ip-ps-3' } },
    ],
  },
  {
    id: 'ip-tubal-ligation',
    valid: [tubalLigation, edit(tubalLigation, { code: cc(SCT, '77543007'), bodySite: undefined, performedDateTime: undefined })],
    violations: [
      { name: 'not a sterilisation code', resource: edit(tubalLigation, { code: cc(SCT, '233545006') }), expected: { key: 'ip-tl-1' } },
      {
        name: 'LOCAL code that is not a method',
        resource: edit(tubalLigation, {
          code: {
            coding: [
              { system: SCT, code: '287664005' },
              { system: LOCAL, code: 'tube-segment-isthmic' },
            ],
          },
        }),
        expected: { key: 'ip-tl-2' },
      },
      { name: 'bodySite LOCAL code that is not a segment', resource: edit(tubalLigation, { bodySite: [cc(LOCAL, 'tl-method-ring')] }), expected: { key: 'ip-tl-3' } },
      { name: 'no subject', resource: edit(tubalLigation, { subject: undefined }), expected: missing('Procedure.subject') },
    ],
  },
  {
    id: 'ip-iodine-sensitivity-test',
    valid: [iodine, edit(iodine, { valueCodeableConcept: cc(SCT, '10828004') })],
    violations: [
      { name: 'wrong code', resource: edit(iodine, { code: cc(LOCAL, 'iodine-allergy') }), expected: pattern('Observation.code') },
      { name: 'valueBoolean', resource: edit(iodine, { valueCodeableConcept: undefined, valueBoolean: false }), expected: { key: 'ip-iod-1' } },
      { name: 'value not positive/negative', resource: edit(iodine, { valueCodeableConcept: cc(LOCAL, 'normal') }), expected: { key: 'ip-iod-2' } },
      { name: 'effectivePeriod', resource: edit(iodine, { effectiveDateTime: undefined, effectivePeriod: { start: '2025-03-08' } }), expected: { key: 'ip-iod-3' } },
      { name: 'no value', resource: edit(iodine, { valueCodeableConcept: undefined }), expected: missing('Observation.value[x]') },
    ],
  },
  {
    id: 'ip-hsg-uterine-cavity',
    valid: [cavity, edit(cavity, { valueCodeableConcept: cc(LOCAL, 'normal') })],
    violations: [
      { name: 'valueString', resource: edit(cavity, { valueCodeableConcept: undefined, valueString: 'filling defect' }), expected: { key: 'ip-cav-1' } },
      { name: 'patency value for the cavity', resource: edit(cavity, { valueCodeableConcept: cc(LOCAL, 'patent') }), expected: { key: 'ip-cav-2' } },
      { name: 'no value', resource: edit(cavity, { valueCodeableConcept: undefined }), expected: missing('Observation.value[x]') },
    ],
  },
  {
    id: 'ip-tubal-patency',
    valid: [patency],
    violations: [
      {
        name: 'left side missing',
        resource: edit(patency, { component: [side('right', 'patent')] }),
        expected: { text: "Incorrect number of values provided for slice 'left': expected 1..1, but found 0", expression: 'Observation.component' },
      },
      {
        name: 'right side twice',
        resource: edit(patency, { component: [side('right', 'patent'), side('right', 'patent'), side('left', 'patent')] }),
        expected: { text: "Incorrect number of values provided for slice 'right': expected 1..1, but found 2", expression: 'Observation.component' },
      },
      { name: 'side valued with a cavity code', resource: edit(patency, { component: [side('right', 'filling-defect'), side('left', 'patent')] }), expected: { key: 'ip-tp-1' } },
      {
        name: 'side without value',
        resource: edit(patency, { component: [{ code: cc(LOCAL, 'tubal-patency-right') }, side('left', 'patent')] }),
        expected: { key: 'ip-tp-1' },
      },
      {
        name: 'panel value',
        resource: edit(patency, { valueCodeableConcept: cc(LOCAL, 'patent') }),
        expected: { text: 'Invalid number of values: expected 0..0, but found 1', expression: 'Observation.value[x]' },
      },
    ],
  },
  {
    id: 'ip-semen-analysis',
    valid: [semen, edit(semen, { interpretation: [cc(V3_INTERPRETATION, 'A')] })],
    violations: [
      { name: 'no focus', resource: edit(semen, { focus: undefined }), expected: missing('Observation.focus') },
      { name: 'focus is not a RelatedPerson', resource: edit(semen, { focus: [{ reference: 'Patient/partner-as-patient' }] }), expected: { key: 'ip-sa-1' } },
      { name: 'no interpretation', resource: edit(semen, { interpretation: undefined }), expected: missing('Observation.interpretation') },
      { name: 'interpretation as text only', resource: edit(semen, { interpretation: [{ text: 'abnormal' }] }), expected: { key: 'ip-sa-2' } },
      { name: 'sct code only', resource: edit(semen, { code: cc(SCT, '5025004') }), expected: pattern('Observation.code') },
    ],
  },
  {
    id: 'ip-protocol-careplan',
    valid: [carePlan],
    violations: [
      { name: 'no instantiatesCanonical', resource: edit(carePlan, { instantiatesCanonical: undefined }), expected: missing('CarePlan.instantiatesCanonical') },
      { name: 'intent plan', resource: edit(carePlan, { intent: 'plan' }), expected: pattern('CarePlan.intent') },
      { name: 'no subject', resource: edit(carePlan, { subject: undefined }), expected: missing('CarePlan.subject') },
      {
        name: 'RequestGroup not contained',
        resource: edit(carePlan, { contained: undefined, activity: [{ reference: { reference: 'RequestGroup/rg' } }] }),
        expected: { key: 'ip-cp-1' },
      },
      {
        name: 'contained RequestGroup not referenced by an activity',
        resource: edit(carePlan, { activity: [{ reference: { reference: 'RequestGroup/elsewhere' } }] }),
        expected: { key: 'ip-cp-2' },
      },
      {
        name: 'activity.reference to a missing contained resource',
        resource: edit(carePlan, { activity: [{ reference: { reference: '#rg' } }, { reference: { reference: '#gone' } }] }),
        expected: { key: 'ip-cp-3' },
      },
      { name: 'no activity', resource: edit(carePlan, { activity: undefined }), expected: missing('CarePlan.activity') },
    ],
  },
];
