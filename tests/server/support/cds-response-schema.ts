/**
 * The CDS Hooks 2.0 response rules as a zod schema, written from the specification text
 * (cds-hooks.hl7.org/2.0, "CDS Service Response" and "Discovery"), used to check every body the
 * service returns: required fields, enumerations, summary < 140 characters, selectionBehavior
 * when suggestions are present, override reasons with a display, no null or empty values.
 */
import { z } from 'zod';

const nonEmpty = z.string().min(1);
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const absoluteUrl = z.string().regex(/^https?:\/\/\S+$/);

/** JSON elements SHALL NOT be null or empty (strings, arrays, objects). */
export function assertNoNullOrEmpty(value: unknown, path = '$'): void {
  if (value === null) throw new Error(`${path} is null`);
  if (typeof value === 'string' && value.length === 0) throw new Error(`${path} is an empty string`);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      assertNoNullOrEmpty(v, `${path}[${i}]`);
    });
    return;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) throw new Error(`${path} is an empty object`);
    for (const [k, v] of entries) assertNoNullOrEmpty(v, `${path}.${k}`);
  }
}

const coding = z.strictObject({ code: nonEmpty, system: nonEmpty, display: nonEmpty.optional() });

export const actionSchema = z
  .strictObject({
    type: z.enum(['create', 'update', 'delete']),
    description: nonEmpty,
    resource: z.looseObject({ resourceType: nonEmpty }).optional(),
    resourceId: nonEmpty.optional(),
  })
  .refine((a) => a.type === 'delete' || a.resource, 'create/update actions carry the resource')
  .refine((a) => a.type !== 'delete' || a.resourceId, 'delete actions name the resourceId');

const suggestion = z.strictObject({
  label: nonEmpty,
  uuid: uuid.optional(),
  isRecommended: z.boolean().optional(),
  actions: z.array(actionSchema).min(1).optional(),
});

const link = z.strictObject({ label: nonEmpty, url: absoluteUrl, type: z.enum(['absolute', 'smart']), appContext: nonEmpty.optional() });

export const cardSchema = z
  .strictObject({
    uuid: uuid.optional(),
    summary: nonEmpty.refine((s) => Array.from(s).length < 140, 'summary must be under 140 characters'),
    detail: nonEmpty.optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: z.strictObject({
      label: nonEmpty,
      url: absoluteUrl.optional(),
      icon: absoluteUrl.optional(),
      topic: z.strictObject({ code: nonEmpty, system: nonEmpty, display: nonEmpty.optional() }).optional(),
    }),
    suggestions: z.array(suggestion).min(1).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z
      .array(coding.required({ display: true }))
      .min(1)
      .optional(),
    links: z.array(link).min(1).optional(),
  })
  .refine((c) => !c.suggestions || c.selectionBehavior, 'selectionBehavior MUST be provided when suggestions are present')
  .refine(
    (c) => c.selectionBehavior !== 'at-most-one' || (c.suggestions ?? []).filter((s) => s.isRecommended).length <= 1,
    'at most one suggestion is recommended when selectionBehavior is at-most-one',
  );

export const cdsResponseSchema = z.strictObject({
  cards: z.array(cardSchema),
  systemActions: z.array(actionSchema).min(1).optional(),
});

export const discoverySchema = z.strictObject({
  services: z.array(
    z.strictObject({
      hook: nonEmpty,
      title: nonEmpty.optional(),
      description: nonEmpty,
      id: nonEmpty,
      prefetch: z.record(z.string(), nonEmpty).optional(),
      usageRequirements: nonEmpty.optional(),
    }),
  ),
});

export type CheckedResponse = z.infer<typeof cdsResponseSchema>;

/** Parses a service response by the spec's rules; throws with the rule that failed. */
export function checkCdsResponse(body: unknown): CheckedResponse {
  assertNoNullOrEmptyExceptCards(body);
  return cdsResponseSchema.parse(body);
}

/** `cards: []` is the one empty value the spec allows ("no guidance"). */
function assertNoNullOrEmptyExceptCards(body: unknown): void {
  const { cards, ...rest } = body as { cards?: unknown[] };
  if (Object.keys(rest).length > 0) assertNoNullOrEmpty(rest);
  (cards ?? []).forEach((c, i) => {
    assertNoNullOrEmpty(c, `$.cards[${i}]`);
  });
}
