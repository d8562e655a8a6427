/**
 * Draft orders as an order hook sees them: the ServiceRequests of the call that carry one of the
 * codes the protocol's order trigger names (protocol-facts.ts), and what they ask for.
 */
import type { Bundle, Coding, ServiceRequest } from '@medplum/fhirtypes';
import { hasCode } from './protocol-facts.ts';

/** The draft ServiceRequests of the call this protocol checks (order-select: only the selections). */
export function draftProcedureOrders(draftOrders: Bundle | undefined, selections: string[] | undefined, codes: ReadonlySet<string>): ServiceRequest[] {
  const wanted = selections ? new Set(selections) : undefined;
  const orders: ServiceRequest[] = [];
  for (const entry of draftOrders?.entry ?? []) {
    const r = entry.resource;
    if (r?.resourceType !== 'ServiceRequest') continue;
    if (wanted && !(r.id && (wanted.has(`ServiceRequest/${r.id}`) || wanted.has(r.id)))) continue;
    if (hasCode(r.code, codes)) orders.push(r);
  }
  return orders;
}

/** `system|code` keys of a concept's codings. */
export function keysOf(concept: { coding?: Coding[] } | undefined): Set<string> {
  return new Set((concept?.coding ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`));
}

/** True when the two concepts share a coding (same system and code). */
export function sameProcedure(a: { coding?: Coding[] } | undefined, b: { coding?: Coding[] } | undefined): boolean {
  const keys = keysOf(a);
  return [...keysOf(b)].some((k) => keys.has(k));
}

/** A draft order's requested time as whole days [start, end], when it has one. */
export function requestedDays(order: ServiceRequest): { start: string; end: string } | undefined {
  const day = (v: string | undefined) => v?.slice(0, 10);
  if (order.occurrenceDateTime) {
    const d = day(order.occurrenceDateTime) as string;
    return { start: d, end: d };
  }
  const period = order.occurrencePeriod ?? order.occurrenceTiming?.repeat?.boundsPeriod;
  const event = order.occurrenceTiming?.event?.[0];
  const start = day(period?.start ?? event);
  const end = day(period?.end ?? period?.start ?? event);
  return start && end ? { start, end } : undefined;
}
