/**
 * Small constructors for the patient data of the clinical test cases, in the representations of
 * terminology.md section C, with dates counted back from the case's `now`.
 */
import type { Resource } from '@medplum/fhirtypes';

export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const ICD9 = 'http://hl7.org/fhir/sid/icd-9-cm';
export const LOCAL = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';
const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';

export const PATIENT_ID = 'patient';
const subject = { reference: `Patient/${PATIENT_ID}` };

/** `now` minus n days, as a date (YYYY-MM-DD) in the clock's own date. */
export function daysAgo(now: string, n: number): string {
  const d = new Date(`${now.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

/** The later of two YYYY-MM-DD dates (a window start that cannot be before a given day). */
export const laterDate = (a: string, b: string): string => (a > b ? a : b);

export function daysAfter(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The birth date of someone who turns `years` old `inDays` days after `now` (0 = today). */
export function birthDateFor(now: string, years: number, inDays = 0): string {
  const [y, m, d] = now.slice(0, 10).split('-').map(Number) as [number, number, number];
  const birthday = new Date(Date.UTC(y - years, m - 1, d));
  birthday.setUTCDate(birthday.getUTCDate() + inDays);
  return birthday.toISOString().slice(0, 10);
}

export const patient = (birthDate: string): Resource => ({ resourceType: 'Patient', id: PATIENT_ID, gender: 'female', birthDate, name: [{ family: 'Test', given: ['Case'] }] });

function observation(id: string, system: string, code: string, display: string, date: string, value: Record<string, unknown>): Resource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system, code, display }] },
    subject,
    effectiveDateTime: date,
    ...value,
  };
}

const concept = (system: string, code: string, display: string) => ({ valueCodeableConcept: { coding: [{ system, code, display }] } });
const INTERPRETATION_DISPLAY = { N: 'Normal', A: 'Abnormal', IND: 'Indeterminate' } as const;
const interpretation = (code: 'N' | 'A' | 'IND') => ({
  interpretation: [{ coding: [{ system: V3, code, display: INTERPRETATION_DISPLAY[code] }] }],
});

/** The same resource with another status (Observation/Procedure `status`): records that do not count, or a preliminary result (SAFE-10). */
export function withStatus(resource: Resource, status: string, id?: string): Resource {
  return { ...resource, id: id ?? resource.id, status } as Resource;
}

export const lmpStart = (id: string, date: string): Resource => observation(id, LOINC, '8665-2', 'Last menstrual period start date', date, { valueDateTime: date });
export const mensesEnd = (id: string, date: string): Resource => observation(id, LOCAL, 'menses-end-date', 'Date menstruation ended', date, { valueDateTime: date });
/** A complete period: started `length` days before it ended. */
export const period = (prefix: string, endDate: string, length = 5): Resource[] => [lmpStart(`${prefix}-start`, daysAfter(endDate, -length)), mensesEnd(`${prefix}-end`, endDate)];

export function pregnancyTest(id: string, date: string, result: 'positive' | 'negative', code: '2106-3' | '2118-8' = '2106-3'): Resource {
  const display = code === '2106-3' ? 'Choriogonadotropin (pregnancy test) [Presence] in Urine' : 'Choriogonadotropin (pregnancy test) [Presence] in Serum or Plasma';
  return observation(id, LOINC, code, display, date, result === 'positive' ? concept(SCT, '10828004', 'Positive') : concept(SCT, '260385009', 'Negative'));
}
export const pregnancyStatus = (id: string, date: string, pregnant: boolean): Resource =>
  observation(id, LOINC, '82810-3', 'Pregnancy status', date, pregnant ? concept(SCT, '77386006', 'Pregnant') : concept(SCT, '60001007', 'Not pregnant'));

/** A vaginal discharge routine: normal (N), abnormal (A) or indeterminate (IND, repeated: SAFE-3). */
export const leukorrhea = (id: string, date: string, normal: boolean | 'indeterminate'): Resource => ({
  ...observation(id, LOCAL, 'leukorrhea-routine', 'Vaginal discharge routine examination (leukorrhea routine)', date, {}),
  ...interpretation(normal === 'indeterminate' ? 'IND' : normal ? 'N' : 'A'),
});
export const iodineTest = (id: string, date: string, positive: boolean): Resource =>
  observation(
    id,
    LOCAL,
    'iodine-sensitivity-test',
    'Iodine (contrast) sensitivity test',
    date,
    positive ? concept(SCT, '10828004', 'Positive') : concept(SCT, '260385009', 'Negative'),
  );
export const fitness = (id: string, date: string, fit: boolean): Resource =>
  observation(id, LOCAL, 'fit-for-procedure', 'Clinician assessment: fit for procedure (no serious systemic disease)', date, { valueBoolean: fit });
export const regularity = (id: string, date: string, regular: boolean): Resource =>
  observation(
    id,
    LOCAL,
    'menstrual-regularity',
    'Menstrual regularity',
    date,
    regular ? concept(SCT, '78456001', 'Normal menstrual cycle') : concept(LOCAL, 'irregular-menstrual-cycle', 'Irregular menstrual cycle'),
  );
export const heavyBleedingNow = (id: string, date: string, heavy: boolean): Resource =>
  observation(id, LOCAL, 'heavy-uterine-bleeding-now', 'Active heavy uterine bleeding', date, { valueBoolean: heavy });
export const constipationNow = (id: string, date: string): Resource => observation(id, LOCAL, 'constipation-now', 'Currently constipated', date, { valueBoolean: true });
export const hsgCavity = (id: string, date: string, value: 'normal' | 'filling-defect' | 'contour-abnormal'): Resource =>
  observation(
    id,
    LOCAL,
    'hsg-uterine-cavity',
    'HSG uterine cavity assessment',
    date,
    concept(LOCAL, value, value === 'normal' ? 'Normal' : value === 'filling-defect' ? 'Uterine cavity filling defect' : 'Uterine cavity contour abnormal'),
  );

export function tubalPatency(id: string, date: string, right: string, left: string): Resource {
  const side = (code: string, display: string, value: string) => ({
    code: { coding: [{ system: LOCAL, code, display }] },
    valueCodeableConcept: { coding: [{ system: LOCAL, code: value }] },
  });
  return {
    ...observation(id, LOCAL, 'tubal-patency-panel', 'Tubal patency (per side)', date, {}),
    component: [side('tubal-patency-right', 'Right tube patency', right), side('tubal-patency-left', 'Left tube patency', left)],
  } as Resource;
}

export const partner = (id = 'husband'): Resource => ({
  resourceType: 'RelatedPerson',
  id,
  patient: subject,
  relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'HUSB', display: 'husband' }] }],
  gender: 'male',
});

export const semenAnalysis = (id: string, date: string, normal: boolean, partnerId = 'husband'): Resource =>
  ({
    ...observation(id, SCT, '5025004', 'Semen analysis, presence and motility of sperm', date, {}),
    code: {
      coding: [
        { system: SCT, code: '5025004', display: 'Semen analysis, presence and motility of sperm' },
        { system: LOCAL, code: 'semen-analysis-panel', display: 'Semen analysis panel (WHO)' },
      ],
    },
    focus: [{ reference: `RelatedPerson/${partnerId}` }],
    ...interpretation(normal ? 'N' : 'A'),
  }) as Resource;

/** A lab/test result by code (work-up already done). */
export const result = (id: string, system: string, code: string, display: string, date: string): Resource => ({
  ...observation(id, system, code, display, date, {}),
  ...interpretation('N'),
});

export interface ConditionOptions {
  onset?: string;
  recorded?: string;
  status?: 'active' | 'resolved' | 'inactive';
  bodySite?: { system: string; code: string; display: string };
  severe?: boolean;
  /** verificationStatus (default confirmed): a suspected condition holds a procedure, a refuted one does not count (SAFE-10). */
  verification?: 'confirmed' | 'provisional' | 'differential' | 'unconfirmed' | 'refuted' | 'entered-in-error';
}

export function condition(id: string, system: string, code: string, display: string, opts: ConditionOptions = {}): Resource {
  const c: Record<string, unknown> = {
    resourceType: 'Condition',
    id,
    clinicalStatus: { coding: [{ system: CLINICAL, code: opts.status ?? 'active' }] },
    verificationStatus: { coding: [{ system: VERIFICATION, code: opts.verification ?? 'confirmed' }] },
    code: { coding: [{ system, code, display }] },
    subject,
  };
  if (opts.severe) c.severity = { coding: [{ system: SCT, code: '24484000' }] };
  if (opts.bodySite) c.bodySite = [{ coding: [opts.bodySite] }];
  if (opts.onset) c.onsetDateTime = opts.onset;
  if (opts.recorded) c.recordedDate = opts.recorded;
  return c as unknown as Resource;
}

export function procedure(
  id: string,
  system: string,
  code: string,
  display: string,
  performed: string,
  extraCodings: { system: string; code: string; display: string }[] = [],
): Resource {
  return {
    resourceType: 'Procedure',
    id,
    status: 'completed',
    code: { coding: [{ system, code, display }, ...extraCodings] },
    subject,
    performedDateTime: performed,
  };
}

export function allergy(id: string, system: string, code: string, display: string, status: 'active' | 'resolved' = 'active'): Resource {
  return {
    resourceType: 'AllergyIntolerance',
    id,
    clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: status }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
    code: { coding: [{ system, code, display }] },
    patient: subject,
  };
}

export const noKnownAllergy = (id = 'nka'): Resource => ({
  resourceType: 'AllergyIntolerance',
  id,
  clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] },
  verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
  code: { coding: [{ system: SCT, code: '716186003', display: 'No known allergy' }] },
  patient: subject,
});

export const serviceRequest = (id: string, system: string, code: string, display: string, status: 'active' | 'draft'): Resource => ({
  resourceType: 'ServiceRequest',
  id,
  status,
  intent: 'order',
  code: { coding: [{ system, code, display }] },
  subject,
});

export const recanalizationPermit = (id: string, date: string): Resource => ({
  resourceType: 'DocumentReference',
  id,
  status: 'current',
  type: { coding: [{ system: LOCAL, code: 'recanalization-permit', display: 'Family-planning recanalization permit' }] },
  subject,
  date: `${date}T08:00:00Z`,
  content: [{ attachment: { contentType: 'application/pdf', title: 'Recanalization permit' } }],
});
