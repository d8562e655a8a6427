/**
 * Cards for what a protocol recommends, independent of the hook: contraindications (with the
 * alternative as a suggestion), data to collect, and proposed orders grouped the way the
 * CDS-on-FHIR mapping suggests (one card per top-level RequestGroup action; a choice group
 * becomes its own at-most-one card).
 */
import type { RequestGroupAction, Task } from '@medplum/fhirtypes';
import type { ActionTrace } from '../../engine/types.ts';
import type { CdsAction, CdsCard, CdsSuggestion, Indicator } from './card-types.ts';
import { OVERRIDE_REASONS, explainLeaves, linksFor, reasonLines, reasonSummary, suggestionOf, traceLines } from './card-parts.ts';
import { bulletList, codingKeys, conceptLabel, escapeMarkdown, periodLabel, requestConcept, requestLabel, truncateSummary } from './render.ts';
import type { ChoiceGroupCodes } from './protocol-facts.ts';
import { selectionGroupOf, type Leaf, type ResultView } from './result-view.ts';

/**
 * True when a choice group offering `candidateGroupCodes` is interchangeable with one the plan
 * offers `blocked` in: some plan choice group has an option with a blocked code and shares another
 * option with the candidate group (HSG vs HyCoSy: both groups also offer hydrotubation and the
 * laparoscopic dye test).
 */
function offeredInParallel(groups: readonly ChoiceGroupCodes[], blocked: Set<string>, candidateGroupCodes: Set<string>): boolean {
  return groups.some((options) => {
    const hasBlocked = options.some((codes) => [...codes].some((k) => blocked.has(k)));
    if (!hasBlocked) return false;
    return options.some((codes) => ![...codes].some((k) => blocked.has(k)) && [...codes].some((k) => candidateGroupCodes.has(k)));
  });
}

/**
 * Proposals offered as the way around a contraindication: requests of the same kind (another
 * procedure) in the contraindication's own choice group, or options of a choice group under the
 * same parent action that the protocol offers in parallel to one holding the contraindicated
 * procedure (HSG-C6: the HyCoSy patency-test group stands in for the HSG one). Neighbours that are
 * merely in the same plan (work-up, admission, another technique) are never alternatives, and
 * relatedAction is timing, not substitution.
 */
export function alternativesOf(view: ResultView, contraindication: Leaf): Leaf[] {
  const group = selectionGroupOf(contraindication);
  const parent = contraindication.ancestors[contraindication.ancestors.length - 1];
  const blocked = new Set(codingKeys(requestConcept(contraindication.resource)));
  const groupCodes = new Map<RequestGroupAction, Set<string>>();
  const codesOf = (choice: RequestGroupAction): Set<string> => {
    let codes = groupCodes.get(choice);
    if (!codes) {
      codes = new Set(view.leaves.filter((l) => selectionGroupOf(l) === choice).flatMap((l) => codingKeys(requestConcept(l.resource))));
      groupCodes.set(choice, codes);
    }
    return codes;
  };
  return view.leaves.filter((leaf) => {
    if (leaf.kind !== 'proposal' || leaf.resource.resourceType !== contraindication.resource.resourceType) return false;
    // The contraindicated procedure itself is never its own alternative.
    if (codingKeys(requestConcept(leaf.resource)).some((k) => blocked.has(k))) return false;
    const choice = selectionGroupOf(leaf);
    if (!choice) return false;
    if (group) return choice === group;
    // A top-level contraindication has no parent: everything would be its "sibling".
    if (!parent || !leaf.ancestors.includes(parent)) return false;
    return offeredInParallel(view.facts.choiceGroups, blocked, codesOf(choice));
  });
}

/**
 * One card for the contraindications of one procedure: each with its reason, the record entries
 * behind it and its trace (order hooks put every contraindication of the ordered procedure on one
 * card, so its "remove the order" suggestion is offered once).
 */
export function contraindicationCard(
  view: ResultView,
  leaves: Leaf | Leaf[],
  baseUrl: string,
  indicator: Indicator,
  alternatives: Leaf[],
  /** Actions every alternative suggestion also carries (e.g. delete the draft order). */
  withEachAlternative: CdsAction[] = [],
  /** The name to use (order hooks: the draft order's), else the contraindicated request's. */
  name?: string,
): CdsCard {
  const all = Array.isArray(leaves) ? leaves : [leaves];
  const first = all[0] as Leaf;
  const what = name ?? requestLabel(first.resource);
  const whys = [...new Set(all.map((l) => reasonSummary(view, l.resource)).filter((w): w is string => Boolean(w)))];
  const detail = [`**${escapeMarkdown(what)} should not be performed.**`, ...all.map((l) => bulletList([...reasonLines(view, l.resource), ...traceLines(view.traceOf(l.action))]))];
  if (alternatives.length > 0) detail.push(`**Alternative${alternatives.length > 1 ? 's' : ''}:**\n\n${explainLeaves(view, alternatives)}`);
  const card: CdsCard = {
    summary: truncateSummary(`${what} should not be performed${whys.length > 0 ? `: ${whys.join('; ')}` : ''}`),
    detail: detail.join('\n\n') + view.facts.footer,
    indicator,
    source: view.facts.source,
  };
  if (alternatives.length > 0) {
    card.suggestions = alternatives.map((alt) => {
      const s = suggestionOf(`Order ${requestLabel(alt.resource)} instead`, [alt], withEachAlternative);
      if (alt.action.precheckBehavior === 'yes') s.isRecommended = true;
      return s;
    });
    // at-most-one allows one recommended suggestion only.
    if (card.suggestions.filter((s) => s.isRecommended).length > 1) for (const s of card.suggestions) delete s.isRecommended;
    card.selectionBehavior = 'at-most-one';
  }
  card.overrideReasons = OVERRIDE_REASONS;
  const links = linksFor(view.facts, [...all.map((l) => l.action), ...alternatives.map((a) => a.action)], baseUrl);
  if (links.length > 0) card.links = links;
  return card;
}

/** The element to record, as short as it can be said: the requirement's code display first. */
function taskLabel(task: Task): string {
  const requirement = task.input?.[0]?.valueDataRequirement;
  const display = requirement?.codeFilter?.flatMap((f) => f.code ?? []).find((c) => c.display)?.display;
  return display ?? conceptLabel(task.reasonCode) ?? task.description ?? requirement?.type ?? 'missing information';
}

function blockedActions(trace: ActionTrace[]): ActionTrace[] {
  const found: ActionTrace[] = [];
  const walk = (nodes: ActionTrace[]) => {
    for (const t of nodes) {
      // A group waiting on its actions is named through them (they say what is missing).
      if (t.applicability === 'missing-data' && !t.children.some((c) => c.applicability === 'missing-data')) found.push(t);
      walk(t.children);
    }
  };
  walk(trace);
  return found;
}

export function missingDataCard(view: ResultView, tasks: Leaf[], baseUrl: string, indicator: Indicator, lead?: string): CdsCard {
  const labels = tasks.map((t) => taskLabel(t.resource as Task));
  const blocked = blockedActions(view.result.trace).map((t) => `**${escapeMarkdown(t.title ?? t.actionId)}** cannot be decided: ${escapeMarkdown(t.reason)}`);
  const missing = view.result.missing.map(
    (m) => `${escapeMarkdown(m.inputId)}: ${escapeMarkdown(m.type)}${m.codes.length > 0 ? ` with code ${m.codes.map((c) => `\`${c}\``).join(' or ')}` : ''}`,
  );
  const summary = `${lead ?? view.facts.title}: record ${labels.length === 1 ? labels[0] : `${labels.length} missing items (${labels.join(', ')})`}`;
  const card: CdsCard = {
    summary: truncateSummary(summary),
    detail:
      [
        'The protocol needs data that is not in the record, and does not guess.',
        blocked.length > 0 ? bulletList(blocked) : '',
        missing.length > 0 ? `**Missing:**\n${bulletList(missing)}` : '',
      ]
        .filter(Boolean)
        .join('\n\n') + view.facts.footer,
    indicator,
    source: view.facts.source,
    suggestions: tasks.map((t) => suggestionOf(`Collect: ${taskLabel(t.resource as Task)}`, [t])),
    selectionBehavior: 'any',
  };
  const links = linksFor(
    view.facts,
    tasks.map((t) => t.action),
    baseUrl,
  );
  if (links.length > 0) card.links = links;
  return card;
}

function proposalLabel(leaf: Leaf): string {
  const label = requestLabel(leaf.resource);
  switch (leaf.resource.resourceType) {
    case 'CommunicationRequest':
      return `Give instructions: ${label}`;
    case 'Task':
      return `Create task: ${label}`;
    default:
      return `Order ${label}`;
  }
}

export function proposalCards(view: ResultView, proposals: Leaf[], baseUrl: string): CdsCard[] {
  const groups = new Map<RequestGroupAction, { choice: boolean; leaves: Leaf[] }>();
  for (const leaf of proposals) {
    const choice = selectionGroupOf(leaf);
    const key = choice ?? leaf.ancestors[0] ?? leaf.action;
    const group = groups.get(key) ?? { choice: Boolean(choice), leaves: [] };
    group.leaves.push(leaf);
    groups.set(key, group);
  }
  const cards: CdsCard[] = [];
  for (const [groupAction, { choice, leaves }] of groups) {
    const first = leaves[0] as Leaf;
    const window = leaves.length === 1 ? periodLabel((first.resource as { occurrencePeriod?: { start?: string; end?: string } }).occurrencePeriod) : undefined;
    const title = groupAction.title ?? requestLabel(first.resource);
    let suggestions: CdsSuggestion[];
    if (choice) {
      // One suggestion per option of the choice group; an option may hold several requests.
      const byOption = new Map<RequestGroupAction, Leaf[]>();
      for (const leaf of leaves) {
        const depth = leaf.ancestors.indexOf(groupAction);
        const option = leaf.ancestors[depth + 1] ?? leaf.action;
        byOption.set(option, [...(byOption.get(option) ?? []), leaf]);
      }
      suggestions = [...byOption].map(([option, optionLeaves]) => {
        const s = suggestionOf(option.title ?? proposalLabel(optionLeaves[0] as Leaf), optionLeaves);
        if (option.precheckBehavior === 'yes') s.isRecommended = true;
        return s;
      });
    } else {
      suggestions = leaves.map((leaf) => ({ ...suggestionOf(proposalLabel(leaf), [leaf]), isRecommended: true }));
    }
    const preferred = leaves.find((l) => l.action.precheckBehavior === 'yes') ?? first;
    const choiceWindow = periodLabel((preferred.resource as { occurrencePeriod?: { start?: string; end?: string } }).occurrencePeriod);
    const summary = choice
      ? `${view.facts.title}: choose ${title}${choiceWindow ? `, ${choiceWindow}` : ''}`
      : `${view.facts.title}: ${title}${window ? `, ${window}` : ''}${leaves.length > 1 ? ` (${leaves.length} orders)` : ''}`;
    const card: CdsCard = {
      summary: truncateSummary(summary),
      detail: explainLeaves(view, leaves) + view.facts.footer,
      indicator: 'info',
      source: view.facts.source,
      suggestions,
      selectionBehavior: choice ? 'at-most-one' : 'any',
    };
    const links = linksFor(view.facts, [groupAction, ...leaves.map((l) => l.action)], baseUrl);
    if (links.length > 0) card.links = links;
    cards.push(card);
  }
  return cards;
}

/** patient-view: everything the protocol says about this patient now. */
export function patientViewCards(view: ResultView, baseUrl: string): CdsCard[] {
  const cards: CdsCard[] = [];
  const offered = new Set<Leaf>();
  for (const leaf of view.leaves.filter((l) => l.kind === 'contraindication')) {
    const alternatives = alternativesOf(view, leaf);
    alternatives.forEach((a) => offered.add(a));
    cards.push(contraindicationCard(view, leaf, baseUrl, 'warning', alternatives));
  }
  const tasks = view.leaves.filter((l) => l.kind === 'collect');
  if (tasks.length > 0) cards.push(missingDataCard(view, tasks, baseUrl, 'info'));
  const proposals = view.leaves.filter((l) => l.kind === 'proposal' && !offered.has(l));
  cards.push(...proposalCards(view, proposals, baseUrl));
  return cards;
}
