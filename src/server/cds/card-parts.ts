/**
 * Pieces shared by every card: source, links, override reasons, the "why" markdown taken from the
 * trace, and suggestion actions carrying the proposed resources.
 */
import type { Reference, RelatedArtifact, RequestGroupAction, Resource } from '@medplum/fhirtypes';
import { readCitation } from '../../diagram/citation.ts';
import type { ActionTrace } from '../../engine/types.ts';
import type { CdsAction, CdsCoding, CdsLink, CdsSuggestion } from './card-types.ts';
import type { ProtocolFacts } from './protocol-facts.ts';
import { bulletList, conceptLabel, escapeMarkdown, evidenceLabel, periodLabel, requestLabel } from './render.ts';
import type { Leaf, ResultView } from './result-view.ts';

export const OVERRIDE_REASON_SYSTEM = 'http://infertility-protocols.org/fhir/CodeSystem/cds-override-reason';

/** Offered when a clinician dismisses a warning or critical card (CDS Hooks requires a display). */
export const OVERRIDE_REASONS: CdsCoding[] = [
  { system: OVERRIDE_REASON_SYSTEM, code: 'benefit-outweighs-risk', display: 'Benefit outweighs the risk for this patient' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'record-incorrect', display: 'The record is incomplete or incorrect' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'already-addressed', display: 'Already addressed' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'patient-declined', display: 'Patient declined the recommendation' },
];

// The card text that is the same for every call of a protocol is derived once (protocol-facts.ts).
export { canonicalOf, footer, planTitle, sourceOf, TOPIC_SYSTEM } from './protocol-facts.ts';

export function linksFor(facts: ProtocolFacts, actions: RequestGroupAction[], baseUrl: string): CdsLink[] {
  const links: CdsLink[] = [];
  const seen = new Set<string>();
  const add = (label: string, url: string) => {
    if (seen.has(url) || !/^https?:\/\//.test(url)) return;
    seen.add(url);
    links.push({ label, url, type: 'absolute' });
  };
  const artifacts: RelatedArtifact[] = actions.flatMap((a) => a.documentation ?? []);
  for (const doc of artifacts) {
    const url = doc.url ?? doc.document?.url;
    if (url) add(doc.display ?? doc.label ?? doc.citation ?? 'Reference', url);
  }
  if (facts.plan.id) add(`Protocol definition: ${facts.title}`, `${baseUrl}/fhir/PlanDefinition/${encodeURIComponent(facts.plan.id)}`);
  return links;
}

function resultText(result: unknown[] | undefined): string {
  if (result === undefined) return 'error';
  if (result.length === 0) return 'empty';
  const text = JSON.stringify(result.length === 1 ? result[0] : result);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const isTrue = (result: unknown[] | undefined): boolean => result?.length === 1 && result[0] === true;

/**
 * Whether the action's reason sentence already names this condition by its expression: a
 * condition without a description that decided the action (true when it applies; not true when
 * it does not). One with a description is named by it, so its expression is still worth a line.
 */
function quotedByReason(trace: ActionTrace, c: ActionTrace['conditions'][number]): boolean {
  if (c.error !== undefined || c.description !== undefined) return false;
  if (trace.applicability === 'applicable') return isTrue(c.result);
  return (trace.applicability === 'not-applicable' || trace.applicability === 'error') && !isTrue(c.result);
}

/** The trace of one action as markdown lines: reason, conditions with results, data read. */
export function traceLines(trace: ActionTrace | undefined): string[] {
  if (!trace) return [];
  const lines = [escapeMarkdown(trace.reason)];
  for (const c of trace.conditions) {
    if (quotedByReason(trace, c)) continue;
    lines.push(`condition \`${c.expression.replace(/`/g, "'")}\` gave ${escapeMarkdown(resultText(c.result))}${c.error ? ` (${escapeMarkdown(c.error)})` : ''}`);
  }
  if (trace.inputs.length > 0) lines.push(`data read: ${trace.inputs.map((i) => `${escapeMarkdown(i.id)} (${i.count})`).join(', ')}`);
  return lines;
}

/** Lines of a trace worth showing: an unconditional action's "no conditions" says nothing. */
function meaningfulTrace(trace: ActionTrace | undefined): string[] {
  if (!trace || (trace.conditions.length === 0 && trace.missing.length === 0)) return [];
  return traceLines(trace);
}

/**
 * Why the card exists: first the enclosing groups whose conditions let these requests through
 * (once, outermost first), then per request the action, what is proposed, its own conditions and
 * the source sentences it encodes.
 */
export function explainLeaves(view: ResultView, leaves: Leaf[]): string {
  const gates: string[] = [];
  const seen = new Set<RequestGroupAction>();
  for (const leaf of leaves) {
    for (const ancestor of leaf.ancestors) {
      if (seen.has(ancestor)) continue;
      seen.add(ancestor);
      const lines = meaningfulTrace(view.traceOf(ancestor));
      if (lines.length > 0) gates.push(`**${escapeMarkdown(ancestor.title ?? ancestor.id ?? 'group')}**: ${lines.join('; ')}`);
    }
  }
  const blocks = leaves.map((leaf) => {
    const window = periodLabel((leaf.resource as { occurrencePeriod?: { start?: string; end?: string } }).occurrencePeriod);
    const title = leaf.action.title ?? requestLabel(leaf.resource);
    const head = `**${escapeMarkdown(title)}**: ${escapeMarkdown(requestLabel(leaf.resource))}${window ? `, ${window}` : ''}`;
    // A rule citation reads as rule, quote and source (its markdown is for a page, not a bullet).
    const citations = (leaf.action.documentation ?? [])
      .map((d) => {
        const cited = readCitation(d);
        return cited?.source ? `${cited.rule}: "${cited.quote}" (${cited.source})` : (d.citation ?? d.display ?? d.label);
      })
      .filter((t): t is string => Boolean(t))
      .map((t) => `source: ${escapeMarkdown(t)}`);
    const lines = [...meaningfulTrace(view.traceOf(leaf.action)), ...citations];
    return lines.length > 0 ? `${head}\n${bulletList(lines)}` : head;
  });
  const why = gates.length > 0 ? [`**Why:**\n${bulletList(gates)}`] : [];
  return [...why, ...blocks].join('\n\n');
}

/** What a request cites as evidence: reasonReference, then what R4 only allows in supportingInfo (an allergy, a procedure). */
function evidenceOf(r: { reasonReference?: Reference[]; supportingInfo?: Reference[] }): Reference[] {
  return [...(r.reasonReference ?? []), ...(r.supportingInfo ?? [])];
}

/** The record entries a contraindication cites (reasonReference, supportingInfo), rendered one per line. */
export function reasonLines(view: ResultView, resource: Resource): string[] {
  const r = resource as { reasonCode?: { text?: string; coding?: { display?: string; code?: string }[] }[]; reasonReference?: Reference[]; supportingInfo?: Reference[] };
  const lines: string[] = [];
  for (const concept of r.reasonCode ?? []) {
    const label = conceptLabel(concept);
    if (label) lines.push(`reason: ${escapeMarkdown(label)}`);
  }
  for (const ref of evidenceOf(r)) {
    const entry = ref.reference ? view.recordEntry(ref.reference) : undefined;
    lines.push(`evidence: ${escapeMarkdown(entry ? evidenceLabel(entry) : (ref.display ?? ref.reference ?? 'record entry'))}`);
  }
  return lines;
}

export function reasonSummary(view: ResultView, resource: Resource): string | undefined {
  const r = resource as { reasonCode?: unknown[]; reasonReference?: Reference[]; supportingInfo?: Reference[] };
  const code = conceptLabel(r.reasonCode?.[0] ?? undefined);
  if (code) return code;
  const ref = evidenceOf(r)[0];
  const entry = ref?.reference ? view.recordEntry(ref.reference) : undefined;
  return entry ? evidenceLabel(entry) : ref?.display;
}

/**
 * The resource as the client should create it: a proposal (RequestGroup options are `option`), no
 * local id, and no references into the transient CarePlan (`#...`), which the client cannot resolve.
 */
export function toSuggestedResource(resource: Resource): Resource {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      const items = value.map(strip).filter((v) => v !== undefined);
      return items.length > 0 ? items : undefined;
    }
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if (typeof obj['reference'] === 'string' && obj['reference'].startsWith('#')) return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        const s = strip(v);
        if (s !== undefined) out[k] = s;
      }
      // An extension whose only value was such a reference (resource-pertainsToGoal) would be
      // left with a url and no value, which ext-1 forbids: it goes too.
      const emptiedExtension = typeof out['url'] === 'string' && Object.keys(out).length === 1 && Object.keys(obj).length > 1;
      return Object.keys(out).length > 0 && !emptiedExtension ? out : undefined;
    }
    return value;
  };
  const { id: _id, meta: _meta, ...rest } = resource as Resource & { intent?: string };
  const copy = strip(rest) as Resource & { intent?: string; basedOn?: unknown };
  if (copy.intent === 'option') copy.intent = 'proposal';
  return copy;
}

export function createAction(leaf: Leaf): CdsAction {
  const window = periodLabel((leaf.resource as { occurrencePeriod?: { start?: string; end?: string } }).occurrencePeriod);
  return {
    type: 'create',
    description: `Create ${leaf.resource.resourceType} for ${requestLabel(leaf.resource)}${window ? `, ${window}` : ''}`,
    resource: toSuggestedResource(leaf.resource),
  };
}

export function suggestionOf(label: string, leaves: Leaf[], extra: CdsAction[] = []): CdsSuggestion {
  return { label, actions: [...extra, ...leaves.map(createAction)] };
}
