/**
 * The standalone ActivityDefinition/$apply: checks its inputs at the boundary, binds the same
 * variables PlanDefinition/$apply binds (so one definition behaves the same either way) and
 * returns the request with an OperationOutcome of everything noticed on the way.
 */
import type { ActivityDefinition, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { recordShapeProblems } from '../../data/resource-shape.ts';
import { OperationOutcomeError, badRequest, issue, notSupported, outcome } from '../../errors/operation-outcome.ts';
import { makeClock } from '../../fhirpath/fhirpath-engine.ts';
import { baseVariables } from '../expression.ts';
import { parseApplyOptions } from '../options.ts';
import type { ApplyContext, ApplyOptions } from '../types.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { buildRequest, isSupportedKind, SUPPORTED_KINDS, transformRefusal, withActivityKind } from './build-request.ts';

const expressionSchema = z.looseObject({ language: z.string(), expression: z.string().optional(), reference: z.string().optional() });

const activityDefinitionSchema = z.looseObject({
  resourceType: z.literal('ActivityDefinition'),
  id: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'id must be 1-64 of A-Z a-z 0-9 - .')
    .optional(),
  kind: z.string().optional(),
  dynamicValue: z.array(z.looseObject({ path: z.string(), expression: expressionSchema })).optional(),
});

const contextSchema = z.looseObject({
  subject: z.looseObject({ resourceType: z.string(), id: z.string().optional() }),
  data: z.custom<ApplyContext['data']>((v) => typeof (v as ApplyContext['data'] | undefined)?.byType === 'function', 'data must come from buildPatientData()'),
});

function check<T>(schema: z.ZodType<T>, value: unknown, name: string): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw badRequest(parsed.error.issues.map((i) => `${name}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; '));
  }
}

export function applyActivityDefinition(
  ad: ActivityDefinition,
  context: ApplyContext,
  options: ApplyOptions,
  knowledge: CompiledKnowledge,
): { resource: Resource; outcome: OperationOutcome } {
  const resolved = parseApplyOptions(options);
  check(activityDefinitionSchema, ad, 'ActivityDefinition');
  const activity = withActivityKind(ad);
  const refused = transformRefusal(activity);
  if (refused) throw notSupported(refused);
  check(contextSchema, context, 'context');
  // Standalone, a placeholder resource would be a half-written result: refuse instead.
  if (!activity.kind) throw badRequest('ActivityDefinition.kind is required to know which request to create', ['ActivityDefinition.kind']);
  if (!isSupportedKind(activity.kind)) {
    throw notSupported(`ActivityDefinition.kind '${activity.kind}' is not supported (supported: ${SUPPORTED_KINDS.join(', ')})`);
  }
  const clock = makeClock(resolved.now);
  const issues: NonNullable<OperationOutcome['issue']> = [];
  const resource = buildRequest({
    definition: activity,
    context,
    variables: baseVariables(context, clock),
    id: activity.id ?? 'request',
    requestStatus: resolved.requestStatus,
    knowledge,
    ...(resolved.evaluators ? { evaluators: resolved.evaluators } : {}),
    issues,
    strict: resolved.strict,
    nowText: clock.nowText,
  });
  // Never a resource that is not valid R4 (e.g. a string integer copied from the definition into an
  // integer): standalone there is nothing to leave it out of, so the apply is refused naming the element.
  const invalid = recordShapeProblems([resource], { required: true });
  if (invalid.length > 0) {
    throw new OperationOutcomeError(
      outcome(
        ...invalid.map((p) =>
          issue(
            'error',
            'processing',
            `ActivityDefinition/${activity.id ?? ''}: the generated ${resource.resourceType} would not be valid FHIR R4: ${p.expression}: ${p.message}`,
            [p.expression],
          ),
        ),
        ...issues,
      ),
    );
  }
  if (issues.length === 0) issues.push(issue('information', 'informational', `ActivityDefinition/${activity.id ?? ''} applied without issues`));
  return { resource, outcome: outcome(...issues) };
}
