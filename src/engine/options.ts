/** ApplyOptions at the API boundary: parsed with zod, defaults filled in once. */
import { z } from 'zod';
import { badRequest } from '../errors/operation-outcome.ts';
import { isDateTimeWithOffset } from '../fhirpath/fhirpath-engine.ts';
import type { ApplyOptions, ExpressionEvaluator } from './types.ts';

const evaluatorSchema = z.custom<ExpressionEvaluator>((v) => typeof (v as ExpressionEvaluator | undefined)?.evaluate === 'function', 'an evaluator has an evaluate() function');

export const applyOptionsSchema = z.object({
  now: z.string().refine(isDateTimeWithOffset, 'now must be an ISO 8601 date-time with a time zone offset, e.g. 2026-11-23T09:00:00Z'),
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
