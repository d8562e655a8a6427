/**
 * order-select / order-sign: checks one draft procedure order against the protocol's result.
 * - contraindicated -> critical card, reason and evidence, the alternative as a suggestion that
 *   also removes the draft;
 * - ordered outside the computed window -> warning card with the right window and an update;
 * - no date yet -> info card with the window;
 * - the protocol could not decide (missing data) -> warning card saying what to collect;
 * - not indicated -> warning card with the protocol's reason;
 * - indicated and in the window -> no card (silence is the right answer).
 */
import type { Period, ServiceRequest } from '@medplum/fhirtypes';
import type { ActionTrace } from '../../engine/types.ts';
import type { CdsAction, CdsCard } from './card-types.ts';
import { OVERRIDE_REASONS, explainLeaves, linksFor, traceLines } from './card-parts.ts';
import { alternativesOf, contraindicationCard, missingDataCard } from './recommendation-cards.ts';
import { requestedDays, sameProcedure } from './procedure-orders.ts';
import { hasCode, protocolNameFor, type OrderCheck } from './protocol-facts.ts';
import { escapeMarkdown, periodLabel, requestLabel, truncateSummary } from './render.ts';
import type { Leaf, ResultView } from './result-view.ts';

function draftReference(order: ServiceRequest): string | undefined {
  return order.id ? `ServiceRequest/${order.id}` : undefined;
}

function deleteDraft(order: ServiceRequest, what: string): CdsAction[] {
  const ref = draftReference(order);
  return ref ? [{ type: 'delete', description: `Remove the draft order for ${what}`, resourceId: ref }] : [];
}

/**
 * The order's name: its own display or text, else the protocol's request for the same coding,
 * else the protocol's ActivityDefinition for it; never a bare code when a name is known.
 */
function orderLabel(order: ServiceRequest, related: Leaf[], view: ResultView): string {
  const own = order.code?.text ?? order.code?.coding?.find((c) => c.display)?.display;
  if (own) return own;
  const same = related.find((l) => sameProcedure((l.resource as ServiceRequest).code, order.code));
  return (
    (same ? requestLabel(same.resource) : undefined) ??
    protocolNameFor(view.facts, order.code) ??
    // Another coding of the same procedure (diagnostic vs operative hysteroscopy): the protocol's name.
    (related[0] ? requestLabel(related[0].resource) : undefined) ??
    requestLabel(order)
  );
}

function rescheduled(order: ServiceRequest, window: Period): ServiceRequest {
  const { occurrenceDateTime: _dt, occurrencePeriod: _p, occurrenceTiming: _t, ...rest } = order;
  const period: Period = {};
  if (window.start) period.start = window.start;
  if (window.end) period.end = window.end;
  return { ...rest, occurrencePeriod: period };
}

function inWindow(days: { start: string; end: string }, window: Period): boolean {
  const start = window.start?.slice(0, 10);
  const end = window.end?.slice(0, 10);
  return (!start || days.start >= start) && (!end || days.end <= end);
}

function timingCard(view: ResultView, order: ServiceRequest, proposal: Leaf, what: string, baseUrl: string): CdsCard | undefined {
  const window = (proposal.resource as ServiceRequest).occurrencePeriod;
  if (!window?.start && !window?.end) return undefined;
  const days = requestedDays(order);
  if (days && inWindow(days, window)) return undefined;
  const windowText = periodLabel(window) as string;
  const requested = days ? (days.start === days.end ? days.start : `${days.start} to ${days.end}`) : undefined;
  const card: CdsCard = {
    summary: truncateSummary(requested ? `${what} on ${requested} is outside the protocol window: schedule it ${windowText}` : `${what}: schedule it ${windowText}`),
    detail: explainLeaves(view, [proposal]) + view.facts.footer,
    indicator: requested ? 'warning' : 'info',
    source: view.facts.source,
  };
  if (order.id) {
    card.suggestions = [
      {
        label: `Schedule ${what} ${windowText}`,
        isRecommended: true,
        actions: [{ type: 'update', description: `Set the requested time of the ${what} order to ${windowText}`, resource: rescheduled(order, window) }],
      },
    ];
    card.selectionBehavior = 'at-most-one';
  }
  if (requested) card.overrideReasons = OVERRIDE_REASONS;
  const links = linksFor(view.facts, [proposal.action], baseUrl);
  if (links.length > 0) card.links = links;
  return card;
}

function notIndicatedCard(view: ResultView, order: ServiceRequest, what: string, check: OrderCheck, baseUrl: string): CdsCard {
  // Per way of ordering the procedure, the deepest evaluated step: the gate that stopped it.
  const gates = new Map<string, ActionTrace>();
  for (const path of check.actionPaths) {
    const traced = path.map((id) => view.traceById(id)).filter((t) => t !== undefined);
    const gate = traced[traced.length - 1];
    if (gate && gate.applicability !== 'applicable') gates.set(gate.actionId, gate);
  }
  // One bullet per gate, its trace nested under it (GFM nests on two-space indentation).
  const reasons = [...gates.values()].map(
    (t) =>
      `- **${escapeMarkdown(t.title ?? t.actionId)}**${traceLines(t)
        .map((l) => `\n  - ${l}`)
        .join('')}`,
  );
  const card: CdsCard = {
    summary: truncateSummary(`${what} is not indicated by the protocol for this patient now`),
    detail:
      `The protocol's conditions for ${escapeMarkdown(what)} are not met.\n\n` +
      (reasons.length > 0 ? reasons.join('\n') : 'No applicable action of the protocol orders this procedure.') +
      view.facts.footer,
    indicator: 'warning',
    source: view.facts.source,
    overrideReasons: OVERRIDE_REASONS,
  };
  const remove = deleteDraft(order, what);
  if (remove.length > 0) {
    card.suggestions = [{ label: `Remove the ${what} order`, actions: remove }];
    card.selectionBehavior = 'at-most-one';
  }
  const links = linksFor(view.facts, [], baseUrl);
  if (links.length > 0) card.links = links;
  return card;
}

export function orderCards(view: ResultView, order: ServiceRequest, check: OrderCheck, baseUrl: string): CdsCard[] {
  const related = view.leaves.filter((l) => l.resource.resourceType === 'ServiceRequest' && hasCode(l.resource.code, check.codes));
  const what = orderLabel(order, related, view);
  const contraindications = related.filter((l) => l.kind === 'contraindication');
  if (contraindications.length > 0) {
    // Alternatives that every contraindication leaves open (HyCoSy gets round an iodine allergy, not a pregnancy).
    const [first, ...others] = contraindications as [Leaf, ...Leaf[]];
    const alternatives = alternativesOf(view, first).filter((alt) => others.every((o) => alternativesOf(view, o).includes(alt)));
    const remove = deleteDraft(order, what);
    const card = contraindicationCard(view, contraindications, baseUrl, 'critical', alternatives, remove, what);
    if (!card.suggestions && remove.length > 0) {
      // Nothing to order instead: the one action left is taking the draft back.
      card.suggestions = [{ label: `Remove the ${what} order`, isRecommended: true, actions: remove }];
      card.selectionBehavior = 'at-most-one';
    }
    return [card];
  }
  // The same technique when the protocol proposes it, else any option of the procedure (one window).
  const proposals = related.filter((l) => l.kind === 'proposal');
  const proposal = proposals.find((l) => sameProcedure((l.resource as ServiceRequest).code, order.code)) ?? proposals[0];
  if (proposal) {
    const card = timingCard(view, order, proposal, what, baseUrl);
    return card ? [card] : [];
  }
  const tasks = view.leaves.filter((l) => l.kind === 'collect');
  if (tasks.length > 0) return [missingDataCard(view, tasks, baseUrl, 'warning', `Cannot check the ${what} order`)];
  return [notIndicatedCard(view, order, what, check, baseUrl)];
}
