/**
 * Conformance feature files: one JSON file per mirrored public fixture, read like Gherkin
 * (feature -> scenarios -> given / when / then). The files are a trust boundary of the suite, so
 * they are parsed with zod and a malformed file fails loudly instead of testing nothing.
 */
import type { Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const FEATURES_DIR = join(import.meta.dirname, '..', 'features');

const resource = z.looseObject({ resourceType: z.string().min(1) }).transform((r) => r as unknown as Resource);
const partialObject = z.record(z.string(), z.unknown());

/** A resource or element: partial deep match (toMatchObject) and elements that must be absent. */
const shape = z.object({ match: partialObject.optional(), absent: z.array(z.string()).optional() });

const applicability = z.enum(['applicable', 'not-applicable', 'missing-data', 'error']);

const issueExpectation = z.object({
  severity: z.enum(['fatal', 'error', 'warning', 'information']),
  code: z.string().optional(),
  /** A regular expression the diagnostics must match. */
  diagnostics: z.string().optional(),
});

const planThen = z.object({
  /** The RequestGroup's action tree, depth-first, as `parent/child` id paths; exact and ordered. */
  actions: z.array(z.string()).optional(),
  /** The resource each named action references: its type, a partial match, absent elements. */
  requests: z.record(z.string(), shape.extend({ resourceType: z.string() })).optional(),
  /** The RequestGroup action itself (copied elements, computed timing, dynamic values). */
  actionElements: z.record(z.string(), shape).optional(),
  requestGroup: shape.optional(),
  /** R4 mode only: the CarePlan around the RequestGroup. */
  carePlan: shape.optional(),
  /** The Goals generated, in order; exact count. */
  goals: z.array(shape).optional(),
  /** Applicability per action id, from the trace. */
  trace: z.record(z.string(), applicability).optional(),
  /** Issues that must be present in the OperationOutcome. */
  issues: z.array(issueExpectation).optional(),
  /** No error or fatal issue in the OperationOutcome. */
  noErrors: z.boolean().optional(),
  /** How many resources were generated besides the RequestGroup (requests, Goals, Tasks). */
  resourceCount: z.number().int().nonnegative().optional(),
});

const activityThen = z.object({
  resource: shape.extend({ resourceType: z.string() }),
  issues: z.array(issueExpectation).optional(),
  noErrors: z.boolean().optional(),
});

const contextSchema = z
  .object({
    practitioner: resource,
    organization: resource,
    encounter: resource,
    userType: partialObject,
    setting: partialObject,
    parameters: partialObject,
  })
  .partial();

const given = z
  .object({
    /** Replaces the feature's patient for this scenario. */
    patient: resource.optional(),
    /** The patient's record besides the Patient. */
    data: z.array(resource).default([]),
    /** Replaces the feature's context for this scenario. */
    context: contextSchema.optional(),
  })
  .default({ data: [] });

const planScenario = z.object({
  name: z.string().min(1),
  given,
  when: z.object({
    apply: z.literal('PlanDefinition'),
    canonical: z.string().min(1),
    options: z
      .object({ requestStatus: z.enum(['draft', 'active']), carePlanStatus: z.enum(['draft', 'active']) })
      .partial()
      .default({}),
  }),
  then: planThen,
});

const activityScenario = z.object({
  name: z.string().min(1),
  given,
  when: z.object({ apply: z.literal('ActivityDefinition'), canonical: z.string().min(1) }),
  then: activityThen,
});

const mirror = z.object({
  /** owner/name of the public repository (or "HL7 FHIR R4 examples"). */
  source: z.string().min(1),
  path: z.string().min(1),
  /** What of it this feature mirrors, and how it was rewritten (CQL -> FHIRPath over %inputs). */
  mirrored: z.string().min(1),
});

export const featureSchema = z.object({
  feature: z.string().min(1),
  mirrors: z.array(mirror).min(1),
  /** The injected clock for every scenario of the feature. */
  now: z.string().min(1),
  patient: resource,
  context: contextSchema.default({}),
  /** PlanDefinitions, ActivityDefinitions, Questionnaires... resolved by canonical. */
  knowledge: z.array(resource).min(1),
  scenarios: z.array(z.union([planScenario, activityScenario])).min(1),
});

export type Feature = z.infer<typeof featureSchema>;
export type Scenario = Feature['scenarios'][number];
export type PlanScenario = z.infer<typeof planScenario>;
export type ActivityScenario = z.infer<typeof activityScenario>;

export function isPlanScenario(s: Scenario): s is PlanScenario {
  return s.when.apply === 'PlanDefinition';
}
export type Shape = z.infer<typeof shape>;
export type IssueExpectation = z.infer<typeof issueExpectation>;

export function parseFeature(text: string, file: string): Feature {
  const parsed = featureSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function loadFeatures(dir = FEATURES_DIR): { file: string; feature: Feature }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, feature: parseFeature(readFileSync(join(dir, file), 'utf8'), file) }));
}
