/**
 * Which draft orders a protocol can check: the procedure codes of terminology.md section C
 * (binding), per PlanDefinition id, and the plan actions that order that procedure.
 */
import type { ActivityDefinition, Bundle, Coding, PlanDefinition, PlanDefinitionAction, ServiceRequest } from '@medplum/fhirtypes';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.ts';

export const SNOMED = 'http://snomed.info/sct';
export const LOCAL_SYSTEM = 'http://infertility-protocols.org/fhir/CodeSystem/infertility-workup';
export const ICD9_SYSTEM = 'http://hl7.org/fhir/sid/icd-9-cm';

export type CodingMatcher = (coding: Coding) => boolean;

const PROCEDURE_CODES: Record<string, CodingMatcher> = {
  hysterosalpingography: (c) => c.system === SNOMED && c.code === '168884001',
  'infertility-hysteroscopy': (c) => c.system === SNOMED && (c.code === '233545006' || c.code === '88355005'),
  // Section C: the technique codes, plus ICD-9-CM 66.73 that the protocol's own "do not perform the
  // reversal" requests carry (they hold for every technique).
  'tubal-reanastomosis': (c) => (c.system === LOCAL_SYSTEM && (c.code ?? '').startsWith('tubal-reanastomosis-')) || (c.system === ICD9_SYSTEM && c.code === '66.73'),
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

function setsDoNotPerform(action: PlanDefinitionAction, ad: ActivityDefinition | undefined): boolean {
  return ad?.doNotPerform === true || (action.dynamicValue ?? []).some((d) => d.path === 'doNotPerform');
}

/**
 * For each plan action that proposes the procedure (not its "do not perform" ones), the ids from
 * the top-level action down to it: the "why not" is the deepest of them the apply evaluated.
 */
export function procedureActionPaths(plan: PlanDefinition, knowledge: KnowledgeBase, matcher: CodingMatcher): string[][] {
  const paths: string[][] = [];
  const walk = (actions: PlanDefinitionAction[] | undefined, above: string[]) => {
    for (const action of actions ?? []) {
      const path = action.id ? [...above, action.id] : above;
      const canonical = action.definitionCanonical;
      const ad = canonical ? knowledge.resolve<ActivityDefinition>(canonical, 'ActivityDefinition') : undefined;
      if (action.id && (codesMatch(ad?.code, matcher) || codesMatch(action.code?.[0], matcher)) && !setsDoNotPerform(action, ad)) paths.push(path);
      walk(action.action, path);
    }
  };
  walk(plan.action, []);
  return paths;
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

/**
 * The protocol's own name for the procedure a draft order codes (its ActivityDefinition's display),
 * so a card never names an order by a bare code when the EHR sent no display.
 */
export function protocolNameFor(plan: PlanDefinition, knowledge: KnowledgeBase, concept: { coding?: Coding[] } | undefined): string | undefined {
  let found: string | undefined;
  const walk = (actions: PlanDefinitionAction[] | undefined) => {
    for (const action of actions ?? []) {
      if (found) return;
      const ad = action.definitionCanonical ? knowledge.resolve<ActivityDefinition>(action.definitionCanonical, 'ActivityDefinition') : undefined;
      if (ad?.code && sameProcedure(ad.code, concept)) {
        found = ad.code.text ?? ad.code.coding?.find((c) => c.display && keysOf(concept).has(`${c.system ?? ''}|${c.code ?? ''}`))?.display ?? ad.title;
      }
      walk(action.action);
    }
  };
  walk(plan.action);
  return found;
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
