/**
 * The CDS Hooks 2.0 service request, parsed (not just validated) at the edge: hook, hookInstance,
 * fhirServer / fhirAuthorization (cds-r-1: authorization implies a server), the hook's context
 * (patient-view, order-select, order-sign) and prefetch.
 */
import { z } from 'zod';
import type { Bundle, Resource } from '@medplum/fhirtypes';

export const SUPPORTED_HOOKS = ['patient-view', 'order-select', 'order-sign'] as const;
export type HookName = (typeof SUPPORTED_HOOKS)[number];

const resourceSchema = z.looseObject({ resourceType: z.string().min(1) });

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z.array(z.looseObject({ resource: resourceSchema.optional() })).optional(),
});

export const fhirAuthorizationSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type must be Bearer'),
  expires_in: z.number().int(),
  scope: z.string(),
  subject: z.string(),
  patient: z.string().optional(),
});

const baseContext = {
  userId: z.string().min(1),
  patientId: z.string().min(1),
  encounterId: z.string().min(1).optional(),
};

export const contextSchemas = {
  'patient-view': z.looseObject(baseContext),
  'order-select': z.looseObject({
    ...baseContext,
    selections: z.array(z.string().min(1)).min(1),
    draftOrders: bundleSchema,
  }),
  'order-sign': z.looseObject({ ...baseContext, draftOrders: bundleSchema }),
} as const;

export const hookRequestSchema = z
  .looseObject({
    hook: z.string().min(1),
    hookInstance: z.string().min(1),
    fhirServer: z.url().optional(),
    fhirAuthorization: fhirAuthorizationSchema.optional(),
    context: z.looseObject({}),
    // A key may be null: the client had no data for that template (spec, "Prefetch Template").
    prefetch: z.record(z.string(), z.union([resourceSchema, z.null()])).optional(),
  })
  .refine((r) => !r.fhirAuthorization || r.fhirServer, {
    message: 'fhirAuthorization is present, so fhirServer is required (cds-r-1)',
    path: ['fhirServer'],
  });

export interface HookContext {
  userId: string;
  patientId: string;
  encounterId?: string;
  selections?: string[];
  draftOrders?: Bundle;
}

export interface HookRequest {
  hook: HookName;
  hookInstance: string;
  fhirServer?: string;
  accessToken?: string;
  context: HookContext;
  /** Keys present in the request; null = the client had no data for the template. */
  prefetch: Record<string, Resource | null>;
}

export type ParseResult = { ok: true; request: HookRequest } | { ok: false; problems: string[] };

function problemsOf(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.')}: ${i.message}`);
}

/** Parses the body for a service registered on `expectedHook`. */
export function parseHookRequest(body: unknown, expectedHook: HookName): ParseResult {
  const parsed = hookRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error, '') };
  const r = parsed.data;
  if (r.hook !== expectedHook) {
    return { ok: false, problems: [`hook: this service is registered for '${expectedHook}', the request says '${r.hook}'`] };
  }
  const context = contextSchemas[expectedHook].safeParse(r.context);
  if (!context.success) return { ok: false, problems: problemsOf(context.error, 'context') };
  const request: HookRequest = {
    hook: expectedHook,
    hookInstance: r.hookInstance,
    context: context.data,
    prefetch: (r.prefetch ?? {}) as Record<string, Resource | null>,
  };
  if (r.fhirServer) request.fhirServer = r.fhirServer.replace(/\/+$/, '');
  if (r.fhirAuthorization) request.accessToken = r.fhirAuthorization.access_token;
  return { ok: true, request };
}
