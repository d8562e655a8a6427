/**
 * The CDS services this server offers, derived once from the knowledge base at start-up: for each
 * top-level PlanDefinition a `patient-view` service, and, when the protocol orders a procedure the
 * service can recognise in draft orders, `order-select` and `order-sign` services. Prefetch
 * templates come from the plan's own data requirements (exactly what its logic reads).
 */
import type { PlanDefinition } from '@medplum/fhirtypes';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.ts';
import type { ProtocolEngine } from '../engine-port.ts';
import type { HookName } from './hook-request.ts';
import { procedureMatcherFor, type CodingMatcher } from './procedure-orders.ts';
import { prefetchQueriesFor, templatesOf, type PrefetchQuery } from './prefetch-templates.ts';
import { planTitle } from './card-parts.ts';

export interface CdsService {
  id: string;
  hook: HookName;
  title: string;
  description: string;
  plan: PlanDefinition;
  queries: PrefetchQuery[];
  prefetch: Record<string, string>;
  usageRequirements: string;
  /** order hooks: recognises the plan's procedure in draft orders. */
  procedure?: CodingMatcher;
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

export function buildServiceCatalog(knowledge: KnowledgeBase, engine: ProtocolEngine, planIds?: string[]): CdsService[] {
  const plans = knowledge
    .all()
    .filter((r): r is PlanDefinition & { id: string } => r.resourceType === 'PlanDefinition' && Boolean(r.id))
    .filter((p) => p.status !== 'retired');
  // Protocols are the services; a workflow-definition pathway that nests them would repeat their cards.
  const protocols = plans.filter((p) => (p.type?.coding ?? []).some((c) => SERVICE_PLAN_TYPES.has(c.code ?? '')));
  const chosen = planIds ? plans.filter((p) => planIds.includes(p.id)) : protocols.length > 0 ? protocols : plans.filter((p) => !isSubPlan(p, plans));
  chosen.sort((a, b) => a.id.localeCompare(b.id));
  const services: CdsService[] = [];
  for (const plan of chosen) {
    const queries = prefetchQueriesFor(engine.dataRequirementsOf(plan, knowledge), knowledge);
    const prefetch = templatesOf(queries);
    const title = planTitle(plan);
    const about = plan.description ? ` ${plan.description.split(/\n/)[0]}` : '';
    services.push({
      id: `${plan.id}-patient-view`,
      hook: 'patient-view',
      title,
      description: `Applies the ${title} protocol when the chart is opened: proposed orders with their time window, contraindications with alternatives, and data to collect.${about}`,
      plan,
      queries,
      prefetch,
      usageRequirements: USAGE,
    });
    const procedure = procedureMatcherFor(plan);
    if (!procedure) continue;
    for (const hook of ['order-select', 'order-sign'] as const) {
      services.push({
        id: `${plan.id}-${hook}`,
        hook,
        title: `${title}: order check`,
        description: `Checks a draft order for the procedure of the ${title} protocol: contraindications, the time window, missing data and indication.`,
        plan,
        queries,
        prefetch,
        usageRequirements: USAGE,
        procedure,
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
