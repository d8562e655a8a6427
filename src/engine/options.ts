/** ApplyOptions at the API boundary: parsed with zod, defaults filled in once. */
import { z } from 'zod';
import { badRequest } from '../errors/operation-outcome.ts';
import { isRealDateTimeWithOffset } from '../data/calendar.ts';
import type { PatientData } from '../data/patient-data.ts';
import type { ApplyContext, ApplyOptions, ExpressionEvaluator } from './types.ts';

const evaluatorSchema = z.custom<ExpressionEvaluator>((v) => typeof (v as ExpressionEvaluator | undefined)?.evaluate === 'function', 'an evaluator has an evaluate() function');

export const applyOptionsSchema = z.object({
  now: z.string().refine(isRealDateTimeWithOffset, 'now must be an ISO 8601 date-time with a time zone offset on a real calendar day, e.g. 2026-11-23T09:00:00Z'),
  mode: z.enum(['r4', 'cpg']).default('r4'),
  requestStatus: z.enum(['draft', 'active']).default('draft'),
  carePlanStatus: z.enum(['draft', 'active']).default('draft'),
  strict: z.boolean().default(false),
  traceExtension: z.boolean().default(false),
  evaluators: z.record(z.string(), evaluatorSchema).optional(),
});

export type ResolvedOptions = z.infer<typeof applyOptionsSchema>;

export function parseApplyOptions(options: ApplyOptions): ResolvedOptions {
  const parsed = applyOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw badRequest(parsed.error.issues.map((i) => `options.${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

const resourceOf = (type: string) => z.looseObject({ resourceType: z.literal(type), id: z.string().optional() });
const codeableConcept = z.looseObject({ coding: z.array(z.looseObject({})).optional(), text: z.string().optional() });

/** The $apply context parameters: a subject with an id, an indexed record, typed context resources. */
export const applyContextSchema = z.object({
  subject: z.looseObject({ resourceType: z.string().min(1), id: z.string().min(1, 'subject must have an id') }),
  data: z.custom<PatientData>((v) => typeof (v as PatientData | undefined)?.byType === 'function', 'data must come from buildPatientData()'),
  encounter: resourceOf('Encounter').optional(),
  practitioner: resourceOf('Practitioner').optional(),
  organization: resourceOf('Organization').optional(),
  userType: codeableConcept.optional(),
  userLanguage: codeableConcept.optional(),
  userTaskContext: codeableConcept.optional(),
  setting: codeableConcept.optional(),
  settingContext: codeableConcept.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

export function checkApplyContext(context: ApplyContext): void {
  const parsed = applyContextSchema.safeParse(context);
  if (!parsed.success) {
    throw badRequest(parsed.error.issues.map((i) => `context.${i.path.join('.')}: ${i.message}`).join('; '));
  }
}
