/**
 * The module's profiles as data: what each one constrains on top of its R4 base type. This is the
 * single source of the differentials; `scripts/build-profiles.ts` turns it into StructureDefinitions
 * with snapshots (profiles/StructureDefinition-*.json, by profiles/_authoring/build-profile.ts).
 * `appliesWhen` is written into each generated profile (src/validation/profile-selector.ts), where
 * the validator reads it to pick the profile for a resource that does not declare one in
 * meta.profile: src/validation never reads these specs.
 *
 * Codes and representations follow terminology.md section C (binding contract). @medplum/core does
 * not enforce choice-type restrictions or bindings, so every restriction that matters to the
 * protocols is ALSO written as a root invariant. Invariants that test the type of a choice element
 * go through `%resource` so they see the resource with its base R4 typing (see docs/profiles.md).
 */
import type { ElementDefinition, StructureDefinitionContext } from '@medplum/fhirtypes';

export const CANONICAL_BASE = 'http://infertility-protocols.org/fhir';
export const PROFILE_BASE = `${CANONICAL_BASE}/StructureDefinition`;
export const PROFILE_VERSION = '0.1.0';
export const PUBLISHER = 'infertility-protocols';

export const LOCAL = `${CANONICAL_BASE}/CodeSystem/infertility-workup`;
export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export type ProfiledType = 'Observation' | 'Procedure' | 'CarePlan' | 'Extension';

export interface Invariant {
  key: string;
  human: string;
  expression: string;
  /** 'error' blocks conformance; 'warning' is reported but does not (default error). */
  severity?: 'error' | 'warning';
}

export interface ProfileSpec {
  /** Resource id; the canonical url is `${PROFILE_BASE}/${id}`. */
  id: string;
  name: string;
  title: string;
  type: ProfiledType;
  description: string;
  /** clinical-rules.md rule ids whose logic reads data of this shape. */
  ruleIds: string[];
  /**
   * FHIRPath on a resource of `type`, true when the resource carries this profile's content (its
   * code). Used to validate resources that do not list the profile in meta.profile.
   */
  appliesWhen?: string;
  /** Extension definitions only: where the extension may appear. */
  context?: StructureDefinitionContext[];
  /** Differential element constraints (root excluded); `id` is the snapshot element id. */
  elements: (ElementDefinition & { id: string })[];
  /** Root-level invariants (FHIRPath). */
  invariants: Invariant[];
}

export const profileUrl = (spec: Pick<ProfileSpec, 'id'>): string => `${PROFILE_BASE}/${spec.id}`;

// ---- FHIRPath building blocks --------------------------------------------------------------------

const q = (s: string): string => `'${s}'`;
const anyOf = (codes: readonly string[]): string => `(${codes.map(q).join(' | ')})`;
/** True when the collection of Codings at `path` has one from `system` with a code in `codes`. */
const hasCoding = (path: string, system: string, codes: readonly string[]): string => `${path}.where(system = ${q(system)} and code in ${anyOf(codes)}).exists()`;
const codeSelector = (system: string, codes: readonly string[]): string => hasCoding('code.coding', system, codes);

/** Root invariant restricting a choice element to one type (Medplum ignores the type list). */
function choiceType(key: string, element: 'value' | 'effective' | 'performed', type: string, label: string): Invariant {
  return {
    key,
    human: `${label} SHALL be a ${element}${type[0]?.toUpperCase()}${type.slice(1)}`,
    expression: `%resource.${element}.exists() implies (%resource.${element} is ${type})`,
  };
}

function valueCoded(key: string, system: string, codes: readonly string[], label: string): Invariant {
  return {
    key,
    human: `${label} SHALL be coded ${codes.map((c) => `${system === SCT ? 'SNOMED' : system === LOCAL ? 'LOCAL' : system}#${c}`).join(' or ')}`,
    expression: `value.exists() implies ${hasCoding('value.coding', system, codes)}`,
  };
}

function datePrecision(key: string, element: 'value' | 'effective', label: string): Invariant {
  return {
    key,
    severity: 'warning',
    human: `${label} should be a date (YYYY-MM-DD): day counts compare calendar dates`,
    expression: `(%resource.${element} is dateTime) implies %resource.${element}.toString().length() = 10`,
  };
}

// ---- element helpers -------------------------------------------------------------------------------

/** A pattern holds system and code only: a display in a pattern would oblige instances to repeat it. */
const codePattern = (type: ProfiledType, system: string, code: string, display: string): ProfileSpec['elements'][number] => ({
  id: `${type}.code`,
  path: `${type}.code`,
  short: display,
  patternCodeableConcept: { coding: [{ system, code }] },
});

const subjectPatient = (type: ProfiledType): ProfileSpec['elements'][number] => ({
  id: `${type}.subject`,
  path: `${type}.subject`,
  min: 1,
  type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Patient'] }],
});

const requiredChoice = (type: ProfiledType, element: 'value' | 'effective', code: string): ProfileSpec['elements'][number] => ({
  id: `${type}.${element}[x]`,
  path: `${type}.${element}[x]`,
  min: 1,
  type: [{ code }],
});

// ---- value sets used by invariants (terminology.md section C / 7.1) --------------------------------

const PREGNANCY_TEST_CODES = ['2106-3', '2118-8'] as const;
const POS_NEG = ['10828004', '260385009'] as const;
const PREGNANCY_STATUS_VALUES = ['77386006', '60001007', '152231000119106'] as const;
const REGULARITY_SCT = ['78456001'] as const;
const REGULARITY_LOCAL = ['irregular-menstrual-cycle'] as const;
const TUBAL_STERILIZATION_SCT = ['287664005', '77543007', '189234004', '287945002', '25344002'] as const;
const TL_METHODS = ['tl-method-core-extraction', 'tl-method-pomeroy', 'tl-method-ring', 'tl-method-clip', 'tl-method-electrocoagulation', 'tl-method-salpingectomy'] as const;
const TUBE_SEGMENTS = ['tube-segment-isthmic', 'tube-segment-ampullary', 'tube-segment-middle-third', 'tube-segment-fimbrial', 'tube-segment-interstitial'] as const;
const CAVITY_VALUES = ['normal', 'filling-defect', 'contour-abnormal'] as const;
const PATENCY_VALUES = ['patent', 'blocked-proximal', 'blocked-distal', 'not-visualized', 'equivocal-spasm'] as const;
const TUBE_SIDES = ['tubal-patency-right', 'tubal-patency-left'] as const;

// ---- the profiles ------------------------------------------------------------------------------------

const lmpStart: ProfileSpec = {
  id: 'ip-lmp-start',
  name: 'IpLmpStart',
  title: 'Last menstrual period start date',
  type: 'Observation',
  description:
    'First day of the last menstrual bleeding: LOINC 8665-2 with valueDateTime (date precision). An LMP start with no menses-end date after it means the woman is menstruating now.',
  ruleIds: ['HSG-C4', 'TR-T1', 'HSG-T1', 'HYS-T1'],
  appliesWhen: codeSelector(LOINC, ['8665-2']),
  elements: [codePattern('Observation', LOINC, '8665-2', 'Last menstrual period start date'), subjectPatient('Observation'), requiredChoice('Observation', 'value', 'dateTime')],
  invariants: [choiceType('ip-lmp-1', 'value', 'dateTime', 'The LMP start'), datePrecision('ip-lmp-2', 'value', 'The LMP start')],
};

const mensesEnd: ProfileSpec = {
  id: 'ip-menses-end',
  name: 'IpMensesEnd',
  title: 'Date menstruation ended',
  type: 'Observation',
  description: 'Last day of menstrual bleeding (LOCAL#menses-end-date, valueDateTime, date precision). The procedure windows count from it: day 1 = the first day after it.',
  ruleIds: ['TR-T1', 'HSG-T1', 'HYS-T1', 'HSG-C4', 'HSG-P1'],
  appliesWhen: codeSelector(LOCAL, ['menses-end-date']),
  elements: [codePattern('Observation', LOCAL, 'menses-end-date', 'Date menstruation ended'), subjectPatient('Observation'), requiredChoice('Observation', 'value', 'dateTime')],
  invariants: [choiceType('ip-mend-1', 'value', 'dateTime', 'The menses end date'), datePrecision('ip-mend-2', 'value', 'The menses end date')],
};

const menstrualRegularity: ProfileSpec = {
  id: 'ip-menstrual-regularity',
  name: 'IpMenstrualRegularity',
  title: 'Menstrual regularity',
  type: 'Observation',
  description: 'Whether the cycles are regular: LOCAL#menstrual-regularity with valueCodeableConcept SNOMED 78456001 (normal menstrual cycle) or LOCAL#irregular-menstrual-cycle.',
  ruleIds: ['TR-I3'],
  appliesWhen: codeSelector(LOCAL, ['menstrual-regularity']),
  elements: [
    codePattern('Observation', LOCAL, 'menstrual-regularity', 'Menstrual regularity'),
    subjectPatient('Observation'),
    requiredChoice('Observation', 'value', 'CodeableConcept'),
  ],
  invariants: [
    choiceType('ip-mreg-1', 'value', 'CodeableConcept', 'Menstrual regularity'),
    {
      key: 'ip-mreg-2',
      human: 'Menstrual regularity SHALL be SNOMED#78456001 (normal cycle) or LOCAL#irregular-menstrual-cycle',
      expression: `value.exists() implies (${hasCoding('value.coding', SCT, REGULARITY_SCT)} or ${hasCoding('value.coding', LOCAL, REGULARITY_LOCAL)})`,
    },
  ],
};

const pregnancyTest: ProfileSpec = {
  id: 'ip-pregnancy-test',
  name: 'IpPregnancyTest',
  title: 'Pregnancy test (urine or serum hCG)',
  type: 'Observation',
  description:
    'Qualitative hCG test: LOINC 2106-3 (urine) or 2118-8 (serum), valueCodeableConcept SNOMED 10828004 positive / 260385009 negative, effectiveDateTime (the protocols only trust a recent result).',
  ruleIds: ['HSG-C3', 'HYS-C3', 'TR-F1'],
  appliesWhen: codeSelector(LOINC, PREGNANCY_TEST_CODES),
  elements: [
    { id: 'Observation.code', path: 'Observation.code', short: 'LOINC 2106-3 (urine hCG) or 2118-8 (serum hCG)' },
    subjectPatient('Observation'),
    requiredChoice('Observation', 'effective', 'dateTime'),
    requiredChoice('Observation', 'value', 'CodeableConcept'),
  ],
  invariants: [
    { key: 'ip-pt-1', human: 'The code SHALL include LOINC 2106-3 or 2118-8', expression: codeSelector(LOINC, PREGNANCY_TEST_CODES) },
    choiceType('ip-pt-2', 'value', 'CodeableConcept', 'The pregnancy test result'),
    valueCoded('ip-pt-3', SCT, POS_NEG, 'The pregnancy test result'),
    choiceType('ip-pt-4', 'effective', 'dateTime', 'The time of the pregnancy test'),
  ],
};

const pregnancyStatus: ProfileSpec = {
  id: 'ip-pregnancy-status',
  name: 'IpPregnancyStatus',
  title: 'Pregnancy status',
  type: 'Observation',
  description: 'Pregnancy status: LOINC 82810-3 with valueCodeableConcept SNOMED 77386006 pregnant / 60001007 not pregnant / 152231000119106 not yet confirmed, effectiveDateTime.',
  ruleIds: ['HSG-C3', 'HYS-C3', 'TR-F1'],
  appliesWhen: codeSelector(LOINC, ['82810-3']),
  elements: [
    codePattern('Observation', LOINC, '82810-3', 'Pregnancy status'),
    subjectPatient('Observation'),
    requiredChoice('Observation', 'effective', 'dateTime'),
    requiredChoice('Observation', 'value', 'CodeableConcept'),
  ],
  invariants: [
    choiceType('ip-ps-1', 'value', 'CodeableConcept', 'The pregnancy status'),
    valueCoded('ip-ps-2', SCT, PREGNANCY_STATUS_VALUES, 'The pregnancy status'),
    choiceType('ip-ps-3', 'effective', 'dateTime', 'The time of the pregnancy status'),
  ],
};

const tubalLigation: ProfileSpec = {
  id: 'ip-tubal-ligation',
  name: 'IpTubalLigation',
  title: 'Tubal sterilisation (ligation) history',
  type: 'Procedure',
  description:
    'A past tubal sterilisation: Procedure.code with a SNOMED tubal sterilisation coding; the original method as an extra LOCAL#tl-method-* coding in Procedure.code and the ligated segment as Procedure.bodySite LOCAL#tube-segment-* (both optional, used for prognosis).',
  ruleIds: ['TR-I1', 'TR-O1'],
  appliesWhen: codeSelector(SCT, TUBAL_STERILIZATION_SCT),
  elements: [
    { id: 'Procedure.code', path: 'Procedure.code', min: 1, short: 'SNOMED tubal sterilisation (+ optional LOCAL#tl-method-* coding)' },
    subjectPatient('Procedure'),
    { id: 'Procedure.bodySite', path: 'Procedure.bodySite', mustSupport: true, short: 'Ligated tubal segment (LOCAL#tube-segment-*)' },
  ],
  invariants: [
    {
      key: 'ip-tl-1',
      human: `The code SHALL include a SNOMED tubal sterilisation procedure (${TUBAL_STERILIZATION_SCT.join(', ')})`,
      expression: codeSelector(SCT, TUBAL_STERILIZATION_SCT),
    },
    {
      key: 'ip-tl-2',
      human: 'A LOCAL coding in the code SHALL be a sterilisation method (LOCAL#tl-method-*)',
      expression: `code.coding.where(system = ${q(LOCAL)}).all(code in ${anyOf(TL_METHODS)})`,
    },
    {
      key: 'ip-tl-3',
      human: 'A LOCAL coding in bodySite SHALL be a tubal segment (LOCAL#tube-segment-*)',
      expression: `bodySite.coding.where(system = ${q(LOCAL)}).all(code in ${anyOf(TUBE_SEGMENTS)})`,
    },
  ],
};

const iodineSensitivityTest: ProfileSpec = {
  id: 'ip-iodine-sensitivity-test',
  name: 'IpIodineSensitivityTest',
  title: 'Iodine (contrast) sensitivity test result',
  type: 'Observation',
  description: 'Pre-HSG iodine sensitivity test: LOCAL#iodine-sensitivity-test, valueCodeableConcept SNOMED 10828004 positive / 260385009 negative, effectiveDateTime.',
  ruleIds: ['HSG-P3', 'HSG-C6'],
  appliesWhen: codeSelector(LOCAL, ['iodine-sensitivity-test']),
  elements: [
    codePattern('Observation', LOCAL, 'iodine-sensitivity-test', 'Iodine (contrast) sensitivity test'),
    subjectPatient('Observation'),
    requiredChoice('Observation', 'effective', 'dateTime'),
    requiredChoice('Observation', 'value', 'CodeableConcept'),
  ],
  invariants: [
    choiceType('ip-iod-1', 'value', 'CodeableConcept', 'The iodine sensitivity result'),
    valueCoded('ip-iod-2', SCT, POS_NEG, 'The iodine sensitivity result'),
    choiceType('ip-iod-3', 'effective', 'dateTime', 'The time of the iodine sensitivity test'),
  ],
};

const hsgUterineCavity: ProfileSpec = {
  id: 'ip-hsg-uterine-cavity',
  name: 'IpHsgUterineCavity',
  title: 'HSG uterine cavity finding',
  type: 'Observation',
  description: 'Uterine cavity as seen on hysterosalpingography: LOCAL#hsg-uterine-cavity with valueCodeableConcept LOCAL#normal / #filling-defect / #contour-abnormal.',
  ruleIds: ['HYS-I4', 'HSG-I1'],
  appliesWhen: codeSelector(LOCAL, ['hsg-uterine-cavity']),
  elements: [
    codePattern('Observation', LOCAL, 'hsg-uterine-cavity', 'HSG uterine cavity assessment'),
    subjectPatient('Observation'),
    requiredChoice('Observation', 'value', 'CodeableConcept'),
  ],
  invariants: [choiceType('ip-cav-1', 'value', 'CodeableConcept', 'The HSG cavity finding'), valueCoded('ip-cav-2', LOCAL, CAVITY_VALUES, 'The HSG cavity finding')],
};

const sideSlice = (side: 'right' | 'left'): ProfileSpec['elements'] => [
  { id: `Observation.component:${side}`, path: 'Observation.component', sliceName: side, min: 1, max: '1' },
  {
    id: `Observation.component:${side}.code`,
    path: 'Observation.component.code',
    patternCodeableConcept: { coding: [{ system: LOCAL, code: `tubal-patency-${side}` }] },
  },
  { id: `Observation.component:${side}.value[x]`, path: 'Observation.component.value[x]', min: 1, type: [{ code: 'CodeableConcept' }] },
];

const tubalPatency: ProfileSpec = {
  id: 'ip-tubal-patency',
  name: 'IpTubalPatency',
  title: 'Tubal patency per side',
  type: 'Observation',
  description:
    'Tubal patency panel (HSG, HyCoSy, laparoscopic dye test or hydrotubation): LOCAL#tubal-patency-panel with exactly one right and one left component (LOCAL#tubal-patency-right / -left), each valued LOCAL#patent / #blocked-proximal / #blocked-distal / #not-visualized / #equivocal-spasm. Both sides blocked = bilateral tubal obstruction.',
  ruleIds: ['TR-F1', 'TR-F2', 'HSG-I1', 'HYS-F1'],
  appliesWhen: codeSelector(LOCAL, ['tubal-patency-panel']),
  elements: [
    codePattern('Observation', LOCAL, 'tubal-patency-panel', 'Tubal patency (per side)'),
    subjectPatient('Observation'),
    { id: 'Observation.value[x]', path: 'Observation.value[x]', max: '0' },
    {
      id: 'Observation.component',
      path: 'Observation.component',
      min: 2,
      slicing: { discriminator: [{ type: 'pattern', path: 'code' }], ordered: false, rules: 'open' },
    },
    ...sideSlice('right'),
    ...sideSlice('left'),
  ],
  invariants: [
    {
      key: 'ip-tp-1',
      human: 'Each side SHALL be valued LOCAL#patent, #blocked-proximal, #blocked-distal, #not-visualized or #equivocal-spasm',
      expression: `component.where(${hasCoding('code.coding', LOCAL, TUBE_SIDES)}).all(value is CodeableConcept and ${hasCoding('value.coding', LOCAL, PATENCY_VALUES)})`,
    },
  ],
};

const semenAnalysis: ProfileSpec = {
  id: 'ip-semen-analysis',
  name: 'IpSemenAnalysis',
  title: 'Partner semen analysis',
  type: 'Observation',
  description:
    "Male partner semen analysis recorded in the woman's record: LOCAL#semen-analysis-panel, subject = the woman, focus = the partner RelatedPerson, interpretation from v3-ObservationInterpretation (N normal, A/H/L... abnormal) - the protocols read the interpretation, not the values.",
  ruleIds: ['TR-W1'],
  appliesWhen: codeSelector(LOCAL, ['semen-analysis-panel']),
  elements: [
    codePattern('Observation', LOCAL, 'semen-analysis-panel', 'Semen analysis panel (WHO)'),
    subjectPatient('Observation'),
    {
      id: 'Observation.focus',
      path: 'Observation.focus',
      min: 1,
      type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/RelatedPerson'] }],
    },
    { id: 'Observation.interpretation', path: 'Observation.interpretation', min: 1 },
  ],
  invariants: [
    {
      key: 'ip-sa-1',
      human: 'focus SHALL reference the partner as RelatedPerson/<id>',
      expression: `focus.where(reference.startsWith('RelatedPerson/')).exists()`,
    },
    {
      key: 'ip-sa-2',
      human: 'Every interpretation SHALL carry a v3-ObservationInterpretation coding',
      expression: `interpretation.all(coding.where(system = ${q(V3_INTERPRETATION)}).exists())`,
    },
  ],
};

const protocolCarePlan: ProfileSpec = {
  id: 'ip-protocol-careplan',
  name: 'IpProtocolCarePlan',
  title: 'Protocol CarePlan ($apply result)',
  type: 'CarePlan',
  description:
    'The CarePlan that PlanDefinition/$apply returns: instantiatesCanonical = the applied PlanDefinition, intent proposal, subject = the Patient, the RequestGroup contained and referenced from activity.reference.',
  ruleIds: [
    'TR-I1',
    'TR-I2',
    'TR-I3',
    'TR-I4',
    'TR-I5',
    'TR-W1',
    'TR-T1',
    'TR-P1',
    'TR-S1',
    'TR-S2',
    'TR-S3',
    'TR-A1',
    'TR-A2',
    'TR-A3',
    'TR-F1',
    'TR-F2',
    'HSG-I1',
    'HSG-I2',
    'HSG-C1',
    'HSG-C2',
    'HSG-C3',
    'HSG-C4',
    'HSG-C5',
    'HSG-C6',
    'HSG-T1',
    'HSG-P1',
    'HSG-P2',
    'HSG-P3',
    'HSG-P4',
    'HSG-P5',
    'HSG-A1',
    'HSG-A2',
    'HSG-ALT1',
    'HYS-I1',
    'HYS-I2',
    'HYS-I3',
    'HYS-I4',
    'HYS-I5',
    'HYS-I6',
    'HYS-I7',
    'HYS-C1',
    'HYS-C2',
    'HYS-C3',
    'HYS-C4',
    'HYS-P1',
    'HYS-P2',
    'HYS-T1',
  ],
  appliesWhen: `instantiatesCanonical.where(startsWith('${CANONICAL_BASE}/PlanDefinition/')).exists()`,
  elements: [
    { id: 'CarePlan.instantiatesCanonical', path: 'CarePlan.instantiatesCanonical', min: 1 },
    { id: 'CarePlan.intent', path: 'CarePlan.intent', fixedCode: 'proposal' },
    subjectPatient('CarePlan'),
    { id: 'CarePlan.activity', path: 'CarePlan.activity', min: 1 },
    { id: 'CarePlan.activity.reference', path: 'CarePlan.activity.reference', mustSupport: true },
  ],
  invariants: [
    { key: 'ip-cp-1', human: 'The RequestGroup SHALL be contained', expression: 'contained.ofType(RequestGroup).exists()' },
    {
      key: 'ip-cp-2',
      // Only the top RequestGroup: a nested PlanDefinition's RequestGroup is referenced from its
      // parent action (dom-3 covers orphans; Medplum's FHIRPath cannot walk nested actions).
      human: 'The CarePlan activity SHALL reference a contained RequestGroup',
      expression: `contained.ofType(RequestGroup).where(('#' + id) in %resource.activity.reference.reference).exists()`,
    },
    {
      key: 'ip-cp-3',
      human: 'A local activity.reference (#id) SHALL resolve to a contained resource',
      expression: `activity.reference.reference.where(startsWith('#')).all(substring(1) in %resource.contained.id)`,
    },
  ],
};

// ---- extension definitions used by the engine (src/engine/types.ts) ---------------------------------

const subExtension = (name: string, type: string, min: number, max: string): ProfileSpec['elements'] => [
  { id: `Extension.extension:${name}`, path: 'Extension.extension', sliceName: name, min, max },
  { id: `Extension.extension:${name}.extension`, path: 'Extension.extension.extension', max: '0' },
  { id: `Extension.extension:${name}.url`, path: 'Extension.extension.url', fixedUri: name },
  { id: `Extension.extension:${name}.value[x]`, path: 'Extension.extension.value[x]', min: 1, type: [{ code: type }] },
];

const inputRequired: ProfileSpec = {
  id: 'input-required',
  name: 'InputRequired',
  title: 'Input required',
  type: 'Extension',
  description:
    'On a PlanDefinition.action.input DataRequirement: true when the action cannot be decided without this data. $apply then does not apply the action and proposes a Task (collect-information) for the missing input.',
  ruleIds: ['TR-I1', 'TR-I2', 'TR-I3', 'TR-T1', 'HSG-C3', 'HSG-C4', 'HSG-T1', 'HSG-P3', 'HYS-C3', 'HYS-T1'],
  context: [{ type: 'element', expression: 'DataRequirement' }],
  elements: [
    { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
    { id: 'Extension.url', path: 'Extension.url', fixedUri: `${PROFILE_BASE}/input-required` },
    { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'boolean' }] },
  ],
  invariants: [{ key: 'ip-inreq-1', human: 'The value SHALL be a valueBoolean', expression: 'value.exists() implies (value is boolean)' }],
};

const requestPerUse: ProfileSpec = {
  id: 'request-per-use',
  name: 'RequestPerUse',
  title: 'One request per use',
  type: 'Extension',
  description:
    'On an ActivityDefinition: true when each use of the activity in a plan is its own occasion, such as a pregnancy test on the day of the procedure it precedes. $apply then never merges two uses into one request (the one-request-per-activity rule, SAFE-6, gives way to SAFE-2): a pathway that plans two procedures orders one test before each.',
  ruleIds: ['SAFE-2', 'SAFE-6'],
  context: [{ type: 'element', expression: 'ActivityDefinition' }],
  elements: [
    { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
    { id: 'Extension.url', path: 'Extension.url', fixedUri: `${PROFILE_BASE}/request-per-use` },
    { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'boolean' }] },
  ],
  invariants: [{ key: 'ip-rpu-1', human: 'The value SHALL be a valueBoolean', expression: 'value.exists() implies (value is boolean)' }],
};

/**
 * A complex sub-extension (no value of its own) whose parts are sub-extensions named in
 * `definition`. The parts are not sliced here: @medplum/core, the validator of this project,
 * folds nested slices into the outer slicing (a part would then be demanded of the whole
 * extension), so they are documented rather than constrained.
 */
const complexSubExtension = (name: string, min: number, max: string, definition: string): ProfileSpec['elements'] => [
  { id: `Extension.extension:${name}`, path: 'Extension.extension', sliceName: name, min, max, definition },
  { id: `Extension.extension:${name}.extension`, path: 'Extension.extension.extension', min: 1 },
  { id: `Extension.extension:${name}.url`, path: 'Extension.extension.url', fixedUri: name },
  { id: `Extension.extension:${name}.value[x]`, path: 'Extension.extension.value[x]', max: '0' },
];

const applyTrace: ProfileSpec = {
  id: 'apply-trace',
  name: 'ApplyTrace',
  title: '$apply trace of one action',
  type: 'Extension',
  description:
    'On the RequestGroup produced by $apply (engine option traceExtension, served $apply parameter trace=true): why one PlanDefinition action was or was not applied - its id, title and parent action, the applicability outcome and the reason, each condition with its result, the inputs it read (how many resources each held), each missing input with the collect-information Task that asks for it, the request made for it, and notes.',
  ruleIds: [],
  context: [{ type: 'element', expression: 'RequestGroup' }],
  elements: [
    ...subExtension('actionId', 'string', 1, '1'),
    ...subExtension('title', 'string', 0, '1'),
    ...subExtension('parent', 'string', 0, '1'),
    ...subExtension('applicability', 'code', 1, '1'),
    ...subExtension('reason', 'string', 1, '1'),
    ...complexSubExtension(
      'condition',
      0,
      '*',
      "One applicability condition, in the action's order: `kind` valueCode 1..1, `expression` valueExpression 0..1 (its description names the rule), `result` valueString 0..1 (the result collection as JSON, e.g. [true]) or `error` valueString 0..1.",
    ),
    ...complexSubExtension(
      'input',
      0,
      '*',
      'One input the action could read: `id` valueString 1..1 (bound as `%` + that id, e.g. `%pregnancyStatus`), `count` valueUnsignedInt 1..1 (resources it held).',
    ),
    ...complexSubExtension(
      'missing',
      0,
      '*',
      'One required input that was empty: `inputId` valueString 1..1, `type` valueCode 1..1, `code` valueCoding 0..* (codes that would satisfy it), `task` valueReference 1..1 (the collect-information Task asking for it).',
    ),
    ...subExtension('resource', 'Reference', 0, '1'),
    ...subExtension('note', 'string', 0, '*'),
    { id: 'Extension.url', path: 'Extension.url', fixedUri: `${PROFILE_BASE}/apply-trace` },
    { id: 'Extension.value[x]', path: 'Extension.value[x]', max: '0' },
  ],
  invariants: [
    {
      key: 'ip-trace-1',
      human: "applicability SHALL be 'applicable', 'not-applicable', 'missing-data' or 'error'",
      expression: `extension('applicability').value.all($this in ('applicable' | 'not-applicable' | 'missing-data' | 'error'))`,
    },
  ],
};

export const PROFILE_SPECS: readonly ProfileSpec[] = [
  lmpStart,
  mensesEnd,
  menstrualRegularity,
  pregnancyTest,
  pregnancyStatus,
  tubalLigation,
  iodineSensitivityTest,
  hsgUterineCavity,
  tubalPatency,
  semenAnalysis,
  protocolCarePlan,
  inputRequired,
  requestPerUse,
  applyTrace,
];
