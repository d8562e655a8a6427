/**
 * The page's calls to the server that served it (same origin): the PlanDefinitions, $apply and
 * the CDS service. Every failure becomes a readable message (the server's OperationOutcome text
 * when there is one), never an exception text or a stack.
 */
import type { Bundle, CarePlan, OperationOutcome, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { prefetchFromBundle } from './prefetch.ts';

export class ReadableError extends Error {}

export interface CdsCard {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string };
  suggestions?: { label: string; uuid?: string; isRecommended?: boolean; actions?: { type: string; description: string }[] }[];
  selectionBehavior?: string;
  links?: { label: string; url: string; type: string }[];
  overrideReasons?: { code: string; display: string }[];
}

export interface DiscoveryService {
  id: string;
  hook: string;
  title?: string;
  prefetch?: Record<string, string>;
}

function outcomeText(body: unknown): string | undefined {
  const outcome = body as OperationOutcome | undefined;
  if (outcome?.resourceType !== 'OperationOutcome') return undefined;
  const issues = outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return (issues.length ? issues : outcome.issue).map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ');
}

async function call(path: string, init: RequestInit, token: string | undefined, what: string): Promise<unknown> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json, application/fhir+json');
  if (token?.trim()) headers.set('authorization', `Bearer ${token.trim()}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ReadableError(`${what}: the server could not be reached.`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) return body;
  const why = outcomeText(body) ?? (text.slice(0, 300) || response.statusText);
  if (response.status === 401) {
    throw new ReadableError(
      `${what} was refused (401): the server requires a signed bearer token${token?.trim() ? ' and did not accept the one given' : ' - paste one under "Authorization"'}. ${why}`,
    );
  }
  throw new ReadableError(`${what} failed (${response.status}): ${why}`);
}

export async function listPlans(): Promise<PlanDefinition[]> {
  const bundle = (await call('/fhir/PlanDefinition', {}, undefined, 'Reading the protocols')) as Bundle | undefined;
  return (bundle?.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'PlanDefinition' ? [e.resource] : [])).sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
}

export async function diagramSvg(planId: string): Promise<string> {
  const response = await fetch(`/diagrams/${encodeURIComponent(planId)}.svg`);
  if (!response.ok) throw new ReadableError(`The diagram of ${planId} could not be drawn (${response.status}).`);
  return response.text();
}

export interface ApplyRequest {
  plan: PlanDefinition;
  bundle: Bundle;
  patientId: string;
  now: string;
  token?: string;
}

export async function applyPlan(request: ApplyRequest): Promise<CarePlan> {
  const canonical = request.plan.version ? `${request.plan.url ?? ''}|${request.plan.version}` : (request.plan.url ?? '');
  const parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'planDefinition', valueCanonical: canonical },
      { name: 'subject', valueString: `Patient/${request.patientId}` },
      { name: 'now', valueDateTime: request.now },
      { name: 'data', resource: request.bundle },
      // The page shows why each action is in or out as the server decided it (apply-trace extensions).
      { name: 'trace', valueBoolean: true },
    ],
  };
  const body = (await call(
    '/fhir/PlanDefinition/$apply',
    { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(parameters) },
    request.token,
    '$apply',
  )) as Resource | undefined;
  if (body?.resourceType !== 'CarePlan') throw new ReadableError('$apply answered without a CarePlan.');
  return body;
}

export async function discovery(token?: string): Promise<DiscoveryService[]> {
  const body = (await call('/cds-services', {}, token, 'CDS discovery')) as { services?: DiscoveryService[] } | undefined;
  return body?.services ?? [];
}

export interface CdsAnswer {
  cards: CdsCard[];
  /** Prefetch templates the page could not evaluate (left out, with why). */
  notPrefetched: { key: string; why: string }[];
}

export async function callCds(service: DiscoveryService, bundle: Bundle, patientId: string, token?: string): Promise<CdsAnswer> {
  const context = { userId: 'Practitioner/patient-view-page', patientId };
  const { prefetch, notPrefetched } = prefetchFromBundle(service.prefetch ?? {}, bundle, context);
  const request = { hook: service.hook, hookInstance: crypto.randomUUID(), context, prefetch };
  const body = (await call(
    `/cds-services/${encodeURIComponent(service.id)}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) },
    token,
    'The CDS service call',
  )) as { cards?: CdsCard[] } | undefined;
  return { cards: body?.cards ?? [], notPrefetched };
}
