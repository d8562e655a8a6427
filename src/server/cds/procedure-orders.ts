/**
 * Which draft orders a protocol can check: the procedure codes of terminology.md section C
 * (binding), per PlanDefinition id, and the plan actions that order that procedure.
 */
import type { ActivityDefinition, Bundle, Coding, PlanDefinition, PlanDefinitionAction, ServiceRequest } from '@medplum/fhirtypes';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.ts';

export const SNOMED = 'http://snomed.info/sct';
export const LOCAL_SYSTEM = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';

export type CodingMatcher = (coding: Coding) => boolean;

const PROCEDURE_CODES: Record<string, CodingMatcher> = {
  hysterosalpingography: (c) => c.system === SNOMED && c.code === '168884001',
  'infertility-hysteroscopy': (c) => c.system === SNOMED && (c.code === '233545006' || c.code === '88355005'),
  'tubal-reanastomosis': (c) => c.system === LOCAL_SYSTEM && (c.code ?? '').startsWith('tubal-reanastomosis-'),
};

export function procedureMatcherFor(plan: PlanDefinition): CodingMatcher | undefined {
  return plan.id ? PROCEDURE_CODES[plan.id] : undefined;
}

export function codesMatch(concept: { coding?: Coding[] } | undefined, matcher: CodingMatcher): boolean {
  return (concept?.coding ?? []).some(matcher);
}

/** The draft ServiceRequests of the call this protocol checks (order-select: only the selections). */
export function draftProcedureOrders(draftOrders: Bundle | undefined, selections: string[] | undefined, matcher: CodingMatcher): ServiceRequest[] {
  const wanted = selections ? new Set(selections) : undefined;
  const orders: ServiceRequest[] = [];
  for (const entry of draftOrders?.entry ?? []) {
    const r = entry.resource;
    if (r?.resourceType !== 'ServiceRequest') continue;
    if (wanted && !(r.id && (wanted.has(`ServiceRequest/${r.id}`) || wanted.has(r.id)))) continue;
    if (codesMatch(r.code, matcher)) orders.push(r);
  }
  return orders;
}

/** Ids of the plan actions whose ActivityDefinition orders the procedure (for the "why not"). */
export function procedureActionIds(plan: PlanDefinition, knowledge: KnowledgeBase, matcher: CodingMatcher): string[] {
  const ids: string[] = [];
  const walk = (actions: PlanDefinitionAction[] | undefined) => {
    for (const action of actions ?? []) {
      const canonical = action.definitionCanonical;
      const ad = canonical ? knowledge.resolve<ActivityDefinition>(canonical, 'ActivityDefinition') : undefined;
      if (action.id && (codesMatch(ad?.code, matcher) || codesMatch(action.code?.[0], matcher))) ids.push(action.id);
      walk(action.action);
    }
  };
  walk(plan.action);
  return ids;
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
