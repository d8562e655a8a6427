/**
 * Which recorded facts the timeline draws as the bleeding band. The protocols read the same two
 * (terminology.md section C): the LOINC "last menstrual period start date" and the project's own
 * menses-end-date. They are display choices of this page, not protocol logic: the dates of every
 * request come from $apply.
 */
export interface CodeRef {
  system: string;
  code: string;
}

export const CYCLE_CODES: { bleedingStart: CodeRef; bleedingEnd: CodeRef } = {
  bleedingStart: { system: 'http://loinc.org', code: '8665-2' },
  bleedingEnd: { system: 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup', code: 'menses-end-date' },
};
