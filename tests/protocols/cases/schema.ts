/**
 * The clinical test case format (tests/protocols/<plan id>/<case>.json), as a zod schema: the
 * runner parses every case file with it, so a malformed case fails loudly instead of passing.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';

const codeKey = z.string().regex(/^[^|\s]+\|[^|\s]+$/, 'system|code');
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const reference = z.string().regex(/^[A-Za-z]+\/[A-Za-z0-9\-.]+$/, 'Type/id');

export const ExpectSchema = z
  .object({
    /** Requests the patient should have (not doNotPerform), by any coding of their code. */
    proposed: z
      .array(
        z
          .object({
            code: codeKey,
            /** The exact window; omit `end` for an open window. */
            occurrencePeriod: z.object({ start: date, end: date.optional() }).strict().optional(),
            /** The evidence cited: reasonReference, or supportingInfo for types R4 does not allow there. */
            reasonReference: z.array(reference).optional(),
          })
          .strict(),
      )
      .default([]),
    /** Every doNotPerform request of the result (the list is exact), with the patient data that caused it. */
    contraindicated: z.array(z.object({ code: codeKey, reasonReference: z.array(reference) }).strict()).default([]),
    /** Codes that must not be proposed. */
    notProposed: z.array(codeKey).default([]),
    /** Every collect-information Task of the result (the list is exact), each by one code it names. */
    /** What each collect-information Task names: a code (system|code), or an element path (Patient.birthDate) when the element has no code. */
    tasks: z.array(z.union([codeKey, z.string().regex(/^[A-Z][A-Za-z]+\.[a-z][A-Za-z.]*$/, 'Type.element')])).default([]),
  })
  .strict();

export const CaseFileSchema = z
  .object({
    description: z.string().min(10),
    rules: z.array(z.string().regex(/^(TR|HSG|HYS|SAFE)-[A-Z0-9]+$/)).min(1),
    now: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/),
    bundle: z
      .object({
        resourceType: z.literal('Bundle'),
        type: z.literal('collection'),
        entry: z.array(z.object({ fullUrl: z.string(), resource: z.object({ resourceType: z.string(), id: z.string() }).passthrough() })).min(1),
      })
      .passthrough(),
    /**
     * The profile errors the patient data is meant to have ("Type/id: message"): a case showing that
     * data the module's profiles refuse, but which a FHIR server may still hold, is read safely.
     */
    nonConforming: z.array(z.string()).optional(),
    expect: ExpectSchema,
  })
  .strict();

export type Expect = z.input<typeof ExpectSchema>;
export type CaseFile = z.output<typeof CaseFileSchema>;

/** A case as authored in tests/protocols/cases/*.ts. */
export interface CaseSpec {
  /** File name (without .json): names the scenario. */
  name: string;
  plan: 'tubal-reanastomosis' | 'hysterosalpingography' | 'infertility-hysteroscopy' | 'infertility-work-up-pathway';
  description: string;
  rules: string[];
  now: string;
  resources: Resource[];
  expect: Expect;
  /** The profile errors the data is meant to have (see CaseFileSchema.nonConforming). */
  nonConforming?: string[];
  /** Also shipped as examples/<name>.json for the demo. */
  example?: boolean;
}

export function bundleOf(spec: Pick<CaseSpec, 'resources' | 'now' | 'name'>): Bundle {
  return {
    resourceType: 'Bundle',
    id: spec.name,
    type: 'collection',
    timestamp: spec.now,
    entry: spec.resources.map((resource) => ({ fullUrl: `https://example.org/fhir/${resource.resourceType}/${resource.id}`, resource })),
  };
}
