/**
 * The CDS services this server offers, derived once from the knowledge base at start-up. Each
 * protocol (a PlanDefinition of type clinical-protocol or eca-rule, or one whose top-level actions
 * declare hook triggers) is served on the hooks its `named-event` triggers name (patient-view when
 * it names none); an order hook also needs the procedure codes its trigger's data carries
 * (protocol-facts.ts). Prefetch templates come from the plan's own data requirements (exactly what
 * its logic reads). Nothing here knows a protocol: a new one is served by loading its artifacts.
 */
import type { PlanDefinition } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import type { ProtocolEngine } from '../engine-port.ts';
import type { HookName } from './hook-request.ts';
import { prefetchQueriesFor, templatesOf, type PrefetchQuery } from './prefetch-templates.ts';
import { hookTriggers, protocolFacts, type OrderCheck, type ProtocolFacts } from './protocol-facts.ts';

export interface CdsService {
  id: string;
  hook: HookName;
  title: string;
  description: string;
  plan: PlanDefinition;
  /** What the protocol's artifacts say, derived once for all its services. */
  facts: ProtocolFacts;
  queries: PrefetchQuery[];
  prefetch: Record<string, string>;
  usageRequirements: string;
  /** order hooks: the drafts the service checks (the procedure's codes) and where the plan proposes it. */
  orderCheck?: OrderCheck;
}

/** The discovery entry, exactly the CDS Hooks fields (no internals). */
export interface DiscoveryEntry {
  hook: string;
  title: string;
  description: string;
  id: string;
  prefetch: Record<string, string>;
  usageRequirements: string;
}

const USAGE =
  'Needs the listed prefetch, or fhirServer (plus fhirAuthorization when that server requires a token) to read what is not prefetched; ' +
  'without either the call is answered 412. Every call must carry a JWT signed by a registered CDS client.';

const SERVICE_PLAN_TYPES = new Set(['clinical-protocol', 'eca-rule']);

function isSubPlan(plan: PlanDefinition, plans: PlanDefinition[]): boolean {
  const canonicals = new Set([plan.url, plan.url && plan.version ? `${plan.url}|${plan.version}` : undefined].filter(Boolean));
  const used = (actions: PlanDefinition['action']): boolean => (actions ?? []).some((a) => (a.definitionCanonical && canonicals.has(a.definitionCanonical)) || used(a.action));
  return plans.some((other) => other !== plan && used(other.action));
}

export function buildServiceCatalog(knowledge: CompiledKnowledge, engine: ProtocolEngine, planIds?: string[]): CdsService[] {
  const plans = knowledge
    .all()
    .filter((r): r is PlanDefinition & { id: string } => r.resourceType === 'PlanDefinition' && Boolean(r.id))
    .filter((p) => p.status !== 'retired');
  // Protocols are the services; a workflow-definition pathway that nests them would repeat their cards.
  const protocols = plans.filter((p) => (p.type?.coding ?? []).some((c) => SERVICE_PLAN_TYPES.has(c.code ?? '')) || hookTriggers(p).length > 0);
  const chosen = planIds ? plans.filter((p) => planIds.includes(p.id)) : protocols.length > 0 ? protocols : plans.filter((p) => !isSubPlan(p, plans));
  chosen.sort((a, b) => a.id.localeCompare(b.id));
  const services: CdsService[] = [];
  for (const plan of chosen) {
    const facts = protocolFacts(plan, knowledge);
    const queries = prefetchQueriesFor(knowledge.dataRequirements(plan), knowledge);
    const prefetch = templatesOf(queries);
    const { title } = facts;
    const about = plan.description ? ` ${plan.description.split(/\n/)[0] ?? ''}` : '';
    for (const hook of facts.hooks) {
      const common = { id: `${plan.id}-${hook}`, hook, plan, facts, queries, prefetch, usageRequirements: USAGE };
      const orderCheck = hook === 'patient-view' ? undefined : facts.orderChecks[hook];
      if (!orderCheck) {
        services.push({
          ...common,
          title,
          description: `Applies the ${title} protocol when the chart is opened: proposed orders with their time window, contraindications with alternatives, and data to collect.${about}`,
        });
        continue;
      }
      services.push({
        ...common,
        title: `${title}: order check`,
        description: `Checks a draft order for the procedure of the ${title} protocol: contraindications, the time window, missing data and indication.`,
        orderCheck,
      });
    }
  }
  return services;
}

export function discoveryEntry(service: CdsService): DiscoveryEntry {
  return {
    hook: service.hook,
    title: service.title,
    description: service.description,
    id: service.id,
    prefetch: service.prefetch,
    usageRequirements: service.usageRequirements,
  };
}
