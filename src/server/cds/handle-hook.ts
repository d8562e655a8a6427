/**
 * One CDS service call, start to finish: parse the request, find the draft orders to check
 * (order hooks), gather the patient's data (prefetch, then fhirServer), apply the protocol, turn
 * the result into cards with deterministic uuids. Times the apply step for Server-Timing.
 */
import type { OperationOutcome, Practitioner, ServiceRequest } from '@medplum/fhirtypes';
import type { ApplyContext } from '../../engine/types.ts';
import { OperationOutcomeError, issue, outcome } from '../../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { formatNow } from '../clock.ts';
import type { ProtocolEngine } from '../engine-port.ts';
import { withUuids } from './card-ids.ts';
import type { CdsCard, CdsResponse } from './card-types.ts';
import { gatherData, notUsedDataCard, type GatherOptions } from './gather-data.ts';
import { parseHookRequest, type HookRequest } from './hook-request.ts';
import { orderCards } from './order-cards.ts';
import { draftProcedureOrders } from './procedure-orders.ts';
import { patientViewCards } from './recommendation-cards.ts';
import { bulletList, escapeMarkdown, truncateSummary } from './render.ts';
import { buildResultView } from './result-view.ts';
import type { CdsService } from './service-catalog.ts';

export interface HookDeps {
  engine: ProtocolEngine;
  knowledge: CompiledKnowledge;
  clock: () => Date;
  utcOffset: string;
  baseUrl: string;
  gather: GatherOptions;
}

export interface HookTimings {
  dataMs: number;
  applyMs: number;
  cardsMs: number;
}

export interface HookOutcome {
  response: CdsResponse;
  timings: HookTimings;
}

function practitionerOf(userId: string): Practitioner | undefined {
  const match = /^Practitioner\/([^/]+)$/.exec(userId);
  return match?.[1] ? { resourceType: 'Practitioner', id: match[1] } : undefined;
}

/** Expression errors make actions silently inapplicable; the clinician must know the check is partial. */
function evaluationErrorCard(service: CdsService, o: OperationOutcome): CdsCard | undefined {
  const errors = o.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length === 0) return undefined;
  return {
    summary: truncateSummary(`${service.title}: part of the protocol could not be evaluated; its advice may be incomplete`),
    detail:
      `${errors.length} rule${errors.length > 1 ? 's' : ''} failed and ${errors.length > 1 ? 'were' : 'was'} treated as not applicable:\n\n` +
      bulletList(errors.map((i) => `${escapeMarkdown(i.diagnostics ?? i.code)}${i.expression?.length ? ` (at \`${i.expression[0]}\`)` : ''}`)) +
      service.facts.footer,
    indicator: 'warning',
    source: service.facts.source,
  };
}

function parse(service: CdsService, body: unknown): HookRequest {
  const parsed = parseHookRequest(body, service.hook);
  if (!parsed.ok) throw new OperationOutcomeError(outcome(...parsed.problems.map((p) => issue('error', 'invalid', p))));
  return parsed.request;
}

/** `issuer`: the authenticated CDS client's (undefined when auth is off); fhirServer must be allowed for it. */
export async function handleHook(service: CdsService, body: unknown, deps: HookDeps, issuer?: string): Promise<HookOutcome> {
  const request = parse(service, body);
  const timings: HookTimings = { dataMs: 0, applyMs: 0, cardsMs: 0 };

  let orders: ServiceRequest[] = [];
  if (service.orderCheck) {
    orders = draftProcedureOrders(request.context.draftOrders, service.hook === 'order-select' ? request.context.selections : undefined, service.orderCheck.codes);
    // Nothing this protocol checks is being ordered: no data needed, no card.
    if (orders.length === 0) return { response: { cards: [] }, timings };
  }

  // One clinical now for the whole call: the reads' look-backs and the apply agree.
  const now = formatNow(deps.clock(), deps.utcOffset);
  let t = performance.now();
  const gathered = await gatherData(service.queries, request, { ...deps.gather, issuer }, now);
  timings.dataMs = performance.now() - t;

  t = performance.now();
  const data = deps.engine.buildPatientData([gathered.patient, ...gathered.resources]);
  const context: ApplyContext = { subject: gathered.patient, data };
  const practitioner = practitionerOf(request.context.userId);
  if (practitioner) context.practitioner = practitioner;
  const result = deps.engine.apply(service.plan, context, { now, mode: 'r4' }, deps.knowledge);
  timings.applyMs = performance.now() - t;

  t = performance.now();
  const view = buildResultView(service.facts, result, data);
  const cards: CdsCard[] = [];
  const errorCard = evaluationErrorCard(service, result.outcome);
  if (errorCard) cards.push(errorCard);
  const notUsedCard = notUsedDataCard(service.plan, service.title, gathered.notUsed);
  if (notUsedCard) cards.push(notUsedCard);
  if (service.orderCheck) {
    for (const order of orders) cards.push(...orderCards(view, order, service.orderCheck, deps.baseUrl));
  } else {
    cards.push(...patientViewCards(view, deps.baseUrl));
  }
  const response: CdsResponse = { cards: cards.map((c) => withUuids(c, service.id, request.hookInstance)) };
  timings.cardsMs = performance.now() - t;
  return { response, timings };
}
