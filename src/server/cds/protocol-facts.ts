/**
 * What the CDS layer knows about one protocol, derived once from its artifacts when the service
 * catalog is built (never per request, and never from code in src/: no clinical code, plan id or
 * plan-specific branch lives here):
 * - the hooks it is served on: the `named-event` triggers of the plan's top-level actions
 *   (R4 `PlanDefinition.action.trigger`, as the CPG IG and clinical-reasoning read them); a
 *   protocol that declares none is served on patient-view only;
 * - for an order hook, the drafts it checks: the codes of its trigger's ServiceRequest
 *   DataRequirement (`codeFilter.code`, or `codeFilter.valueSet` expanded), and the plan actions
 *   that propose that procedure (their ActivityDefinition's code or the action's code);
 * - its choice groups (`selectionBehavior` exactly-one / at-most-one) with the codes each option
 *   orders, which tell a real alternative from a neighbour;
 * - the protocol's own names for what it orders (ActivityDefinition code text, display, title);
 * - the card text that is the same for every call: title, source, footer.
 */
import type { ActivityDefinition, CodeableConcept, Coding, PlanDefinition, PlanDefinitionAction, TriggerDefinition } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import type { CdsSource } from './card-types.ts';
import { SUPPORTED_HOOKS, type HookName } from './hook-request.ts';
import { codingKeys } from './render.ts';

export type OrderHook = Exclude<HookName, 'patient-view'>;

/** The drafts an order hook checks, and where the plan proposes that procedure. */
export interface OrderCheck {
  /** `system|code` of the codings a draft order for the procedure carries. */
  codes: ReadonlySet<string>;
  /** For each action that proposes the procedure (not a "do not perform" one): the action ids from the top. */
  actionPaths: readonly (readonly string[])[];
}

/** One set of `system|code` keys per option of a choice group: the codes the option orders. */
export type ChoiceGroupCodes = ReadonlySet<string>[];

/** What the protocol calls a request it orders (one per ActivityDefinition the plan uses, in plan order). */
interface RequestName {
  codes: ReadonlySet<string>;
  text: string | undefined;
  /** `system|code` and display of the codings that have one, in the definition's order. */
  displays: readonly (readonly [string, string])[];
  title: string | undefined;
}

export interface ProtocolFacts {
  plan: PlanDefinition;
  title: string;
  /** `url|version`: names the protocol in feedback records and card footers. */
  canonical: string;
  source: CdsSource;
  /** The markdown every card's detail ends with. */
  footer: string;
  hooks: readonly HookName[];
  orderChecks: Partial<Record<OrderHook, OrderCheck>>;
  choiceGroups: readonly ChoiceGroupCodes[];
  requestNames: readonly RequestName[];
}

export const TOPIC_SYSTEM = 'http://infertility-protocols.org/fhir/CodeSystem/cds-topic';

export function canonicalOf(plan: PlanDefinition): string {
  return plan.version ? `${plan.url ?? ''}|${plan.version}` : (plan.url ?? `PlanDefinition/${plan.id ?? ''}`);
}

export function planTitle(plan: PlanDefinition): string {
  return plan.title ?? plan.name ?? plan.id ?? 'protocol';
}

/**
 * `url` is the plan's canonical url; its version goes into the label because `url|version` is not
 * a URL a browser can GET (CDS Hooks: source.url is an absolute URL).
 */
export function sourceOf(plan: PlanDefinition): CdsSource {
  const source: CdsSource = { label: plan.version ? `${planTitle(plan)} (v${plan.version})` : planTitle(plan) };
  if (plan.url && /^https?:\/\//.test(plan.url)) source.url = plan.url;
  if (plan.id) source.topic = { system: TOPIC_SYSTEM, code: plan.id, display: planTitle(plan) };
  return source;
}

export function footer(plan: PlanDefinition): string {
  return `\n\n---\nProtocol \`${canonicalOf(plan)}\`.`;
}

/** True when the concept has one of the codings. */
export function hasCode(concept: { coding?: Coding[] } | undefined, codes: ReadonlySet<string>): boolean {
  return codingKeys(concept).some((k) => codes.has(k));
}

const isHook = (name: string | undefined): name is HookName => (SUPPORTED_HOOKS as readonly (string | undefined)[]).includes(name);

/** The named-event triggers of the plan's top-level actions: the hooks it asks to be served on. */
export function hookTriggers(plan: PlanDefinition): (TriggerDefinition & { name: HookName })[] {
  return (plan.action ?? []).flatMap((a) => a.trigger ?? []).filter((t): t is TriggerDefinition & { name: HookName } => t.type === 'named-event' && isHook(t.name));
}

function triggerCodes(triggers: TriggerDefinition[], knowledge: CompiledKnowledge): Set<string> {
  const codes = new Set<string>();
  for (const requirement of triggers.flatMap((t) => t.data ?? [])) {
    if (requirement.type !== 'ServiceRequest') continue;
    for (const filter of requirement.codeFilter ?? []) {
      for (const c of filter.code ?? []) codes.add(`${c.system ?? ''}|${c.code ?? ''}`);
      if (filter.valueSet) for (const k of knowledge.valueSetKeys(filter.valueSet) ?? []) codes.add(k);
    }
  }
  return codes;
}

function activityOf(action: PlanDefinitionAction, knowledge: CompiledKnowledge): ActivityDefinition | undefined {
  return action.definitionCanonical ? knowledge.resolve<ActivityDefinition>(action.definitionCanonical, 'ActivityDefinition') : undefined;
}

function setsDoNotPerform(action: PlanDefinitionAction, ad: ActivityDefinition | undefined): boolean {
  return ad?.doNotPerform === true || (action.dynamicValue ?? []).some((d) => d.path === 'doNotPerform');
}

/**
 * For each plan action that proposes the procedure (not its "do not perform" ones), the ids from
 * the top-level action down to it: the "why not" of an order check is the deepest of them the
 * apply evaluated.
 */
function procedureActionPaths(plan: PlanDefinition, knowledge: CompiledKnowledge, codes: ReadonlySet<string>): string[][] {
  const paths: string[][] = [];
  const walk = (actions: PlanDefinitionAction[] | undefined, above: string[]) => {
    for (const action of actions ?? []) {
      const path = action.id ? [...above, action.id] : above;
      const ad = activityOf(action, knowledge);
      if (action.id && (hasCode(ad?.code, codes) || hasCode(action.code?.[0], codes)) && !setsDoNotPerform(action, ad)) paths.push(path);
      walk(action.action, path);
    }
  };
  walk(plan.action, []);
  return paths;
}

const CHOICE = new Set(['exactly-one', 'at-most-one']);

function optionCodes(option: PlanDefinitionAction, knowledge: CompiledKnowledge): Set<string> {
  const keys = new Set<string>();
  const visit = (a: PlanDefinitionAction) => {
    for (const k of codingKeys(activityOf(a, knowledge)?.code)) keys.add(k);
    for (const child of a.action ?? []) visit(child);
  };
  visit(option);
  return keys;
}

/** Every choice group of the plan (nested ones included). */
function choiceGroupsOf(plan: PlanDefinition, knowledge: CompiledKnowledge): ChoiceGroupCodes[] {
  const groups: ChoiceGroupCodes[] = [];
  const walk = (actions: PlanDefinitionAction[] | undefined) => {
    for (const action of actions ?? []) {
      if (action.selectionBehavior && CHOICE.has(action.selectionBehavior) && action.action?.length) {
        groups.push(action.action.map((option) => optionCodes(option, knowledge)));
      }
      walk(action.action);
    }
  };
  walk(plan.action);
  return groups;
}

function requestNamesOf(plan: PlanDefinition, knowledge: CompiledKnowledge): RequestName[] {
  const names: RequestName[] = [];
  const seen = new Set<ActivityDefinition>();
  const walk = (actions: PlanDefinitionAction[] | undefined) => {
    for (const action of actions ?? []) {
      const ad = activityOf(action, knowledge);
      if (ad?.code && !seen.has(ad)) {
        seen.add(ad);
        const displays = (ad.code.coding ?? []).flatMap((c) => (c.display ? [[`${c.system ?? ''}|${c.code ?? ''}`, c.display] as const] : []));
        names.push({ codes: new Set(codingKeys(ad.code)), text: ad.code.text, displays, title: ad.title });
      }
      walk(action.action);
    }
  };
  walk(plan.action);
  return names;
}

/**
 * The protocol's own name for what a concept codes (its ActivityDefinition's code text, else the
 * display of a shared coding, else its title), so a card never names an order by a bare code when
 * the EHR sent no display.
 */
export function protocolNameFor(facts: ProtocolFacts, concept: CodeableConcept | undefined): string | undefined {
  const keys = codingKeys(concept);
  const name = facts.requestNames.find((n) => keys.some((k) => n.codes.has(k)));
  if (!name) return undefined;
  return name.text ?? name.displays.find(([k]) => keys.includes(k))?.[1] ?? name.title;
}

export function protocolFacts(plan: PlanDefinition, knowledge: CompiledKnowledge): ProtocolFacts {
  const triggers = hookTriggers(plan);
  const hooks: HookName[] = triggers.length > 0 ? SUPPORTED_HOOKS.filter((h) => triggers.some((t) => t.name === h)) : ['patient-view'];
  const orderChecks: Partial<Record<OrderHook, OrderCheck>> = {};
  for (const hook of hooks) {
    if (hook === 'patient-view') continue;
    const codes = triggerCodes(
      triggers.filter((t) => t.name === hook),
      knowledge,
    );
    // An order trigger that names no procedure code has nothing to recognise in a draft.
    if (codes.size > 0) orderChecks[hook] = { codes, actionPaths: procedureActionPaths(plan, knowledge, codes) };
  }
  return {
    plan,
    title: planTitle(plan),
    canonical: canonicalOf(plan),
    source: sourceOf(plan),
    footer: footer(plan),
    hooks: hooks.filter((h) => h === 'patient-view' || orderChecks[h]),
    orderChecks,
    choiceGroups: choiceGroupsOf(plan, knowledge),
    requestNames: requestNamesOf(plan, knowledge),
  };
}
