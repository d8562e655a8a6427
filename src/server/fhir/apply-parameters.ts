/**
 * The $apply operation's input Parameters (R4 PlanDefinition-apply / ActivityDefinition-apply,
 * plus the CPG `data`, `dataEndpoint` and `parameters`, and this module's `now`, `mode` and `trace`).
 */
import { z } from 'zod';
import type { CodeableConcept, Endpoint, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../errors/operation-outcome.ts';
import type { OutputMode } from '../../engine/types.ts';
import { bundleEntries, type EntryInfo } from '../../data/patient-compartment.ts';

/** One Parameters.parameter, recursive through `part` (named in the OpenAPI document: see observability.ts). */
export const parameterSchema: z.ZodType<ParametersParameter> = z.lazy(() =>
  z.looseObject({
    name: z.string().min(1),
    resource: z.looseObject({ resourceType: z.string().min(1) }).optional(),
    part: z.array(parameterSchema).optional(),
  }),
) as unknown as z.ZodType<ParametersParameter>;

export const parametersSchema = z.looseObject({
  resourceType: z.literal('Parameters'),
  parameter: z.array(parameterSchema).optional(),
});

const dateTimeWithOffset = z.iso.datetime({ offset: true, local: false });

export interface ApplyParameters {
  subject: string;
  /** Type-level: which definition (canonical `url[|version]`, `Type/id`, or inline). */
  definition?: string;
  inlineDefinition?: Resource;
  data: Resource[];
  /** Where each `data` resource is in the Bundle, and its fullUrl (urn:uuid references, SAFE-1). */
  dataEntries?: Map<Resource, EntryInfo>;
  dataEndpoint?: { address: string; authorization?: string };
  now?: string;
  mode: OutputMode;
  /** PlanDefinition only: the RequestGroup carries the apply-trace extension of every action. */
  trace: boolean;
  encounter?: string;
  practitioner?: string;
  organization?: string;
  concepts: Partial<Record<'userType' | 'userLanguage' | 'userTaskContext' | 'setting' | 'settingContext', CodeableConcept>>;
  parameters: Record<string, unknown>;
}

const KNOWN = new Set([
  'subject',
  'planDefinition',
  'activityDefinition',
  'url',
  'version',
  'data',
  'dataEndpoint',
  'now',
  'mode',
  'trace',
  'encounter',
  'practitioner',
  'organization',
  'userType',
  'userLanguage',
  'userTaskContext',
  'setting',
  'settingContext',
  'parameters',
]);

/** The single value[x] of a parameter, whatever its type. */
function valueOf(p: ParametersParameter): unknown {
  for (const [k, v] of Object.entries(p)) if (k.startsWith('value')) return v;
  return undefined;
}

function stringValue(p: ParametersParameter | undefined, name: string): string | undefined {
  if (!p) return undefined;
  const v = valueOf(p);
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { reference?: unknown }).reference === 'string') return (v as { reference: string }).reference;
  throw badRequest(`parameter '${name}' must be a string, uri, canonical or Reference`, [`Parameters.parameter.where(name='${name}')`]);
}

export function parseApplyParameters(body: unknown, definitionType: 'PlanDefinition' | 'ActivityDefinition'): ApplyParameters {
  const parsed = parametersSchema.safeParse(body);
  if (!parsed.success) {
    throw badRequest(`the body must be a Parameters resource: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const params = (parsed.data as Parameters).parameter ?? [];
  const one = (name: string) => {
    const all = params.filter((p) => p.name === name);
    if (all.length > 1) throw badRequest(`parameter '${name}' is given ${all.length} times`);
    return all[0];
  };
  for (const p of params) if (!KNOWN.has(p.name)) throw badRequest(`unknown parameter '${p.name}'`);

  const subject = stringValue(one('subject'), 'subject');
  if (!subject || !/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(subject)) throw badRequest("parameter 'subject' is required, as 'Patient/<id>'");

  const result: ApplyParameters = { subject, data: [], mode: 'r4', trace: false, concepts: {}, parameters: {} };

  const defParam = one(definitionType === 'PlanDefinition' ? 'planDefinition' : 'activityDefinition');
  if (defParam?.resource) {
    if (defParam.resource.resourceType !== definitionType) throw badRequest(`parameter '${defParam.name}' must be a ${definitionType}`);
    result.inlineDefinition = defParam.resource;
  } else if (defParam) {
    result.definition = stringValue(defParam, defParam.name);
  }
  const url = stringValue(one('url'), 'url');
  const version = stringValue(one('version'), 'version');
  if (url) result.definition = version ? `${url}|${version}` : url;

  const data = one('data');
  if (data) {
    if (data.resource?.resourceType !== 'Bundle') throw badRequest("parameter 'data' must be a Bundle resource");
    result.data = (data.resource.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    result.dataEntries = bundleEntries(data.resource, `Parameters.parameter.where(name='data').resource`, "parameter 'data' ");
  }
  const endpoint = one('dataEndpoint');
  if (endpoint) {
    const ep = endpoint.resource as Endpoint | undefined;
    if (ep?.resourceType !== 'Endpoint' || !ep.address || !/^https?:\/\//.test(ep.address)) {
      throw badRequest("parameter 'dataEndpoint' must be an Endpoint resource with an http(s) address");
    }
    const auth = (ep.header ?? []).find((h) => /^authorization:/i.test(h));
    result.dataEndpoint = { address: ep.address.replace(/\/+$/, '') };
    if (auth) result.dataEndpoint.authorization = auth.replace(/^authorization:\s*/i, '');
  }
  const now = stringValue(one('now'), 'now');
  if (now !== undefined) {
    if (!dateTimeWithOffset.safeParse(now).success) throw badRequest("parameter 'now' must be a date-time with a time-zone offset");
    result.now = now;
  }
  const mode = stringValue(one('mode'), 'mode');
  if (mode !== undefined) {
    if (mode !== 'r4' && mode !== 'cpg') throw badRequest("parameter 'mode' must be 'r4' or 'cpg'");
    result.mode = mode;
  }
  const trace = one('trace');
  if (trace) {
    if (definitionType !== 'PlanDefinition') throw badRequest("parameter 'trace' is a PlanDefinition/$apply parameter (an ActivityDefinition has no actions to trace)");
    // valueBoolean in a Parameters body; the string 'true' / 'false' from a GET query.
    const value = valueOf(trace);
    if (value !== true && value !== false && value !== 'true' && value !== 'false') throw badRequest("parameter 'trace' must be a boolean (true or false)");
    result.trace = value === true || value === 'true';
  }
  for (const name of ['encounter', 'practitioner', 'organization'] as const) {
    const ref = stringValue(one(name), name);
    if (ref) result[name] = ref;
  }
  for (const name of ['userType', 'userLanguage', 'userTaskContext', 'setting', 'settingContext'] as const) {
    const p = one(name);
    if (!p) continue;
    const v = valueOf(p);
    if (!v || typeof v !== 'object') throw badRequest(`parameter '${name}' must be a CodeableConcept`);
    result.concepts[name] = v;
  }
  const libraryParams = one('parameters');
  if (libraryParams) {
    if (libraryParams.resource?.resourceType !== 'Parameters') throw badRequest("parameter 'parameters' must be a Parameters resource");
    for (const p of libraryParams.resource.parameter ?? []) {
      if (p.name) result.parameters[p.name] = p.resource ?? valueOf(p);
    }
  }
  return result;
}
