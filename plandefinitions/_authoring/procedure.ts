/**
 * `defineProcedure({...})`: one procedure protocol as artifacts - its PlanDefinition, the
 * ActivityDefinitions only it uses, and what the CDS Hooks service needs to know about it, so that
 * a new procedure is one authoring module (plus its test cases) and nothing in `src/`.
 *
 * What the service reads from these artifacts (docs/cds-hooks.md, "What the service reads from the
 * artifacts"):
 * - which hooks the protocol is served on: the R4 `action.trigger` of the plan's first action, one
 *   `named-event` per hook (`patient-view`, `order-select`, `order-sign`), as the CPG IG and the
 *   clinical-reasoning CDS Hooks service read them;
 * - which draft orders the order hooks check: the `data` of those order triggers, a
 *   ServiceRequest DataRequirement whose `codeFilter` lists the procedure's codes (the codes a
 *   draft for this procedure carries, e.g. another coding of the same procedure the EHR may use);
 * - the rest from the plan itself: the requests its actions order (definitionCanonical), choice
 *   groups (selectionBehavior), reasons (reasonCode written by dynamicValue, condition
 *   descriptions with rule ids, documentation), titles and the data requirements.
 *
 * `defineSimpleProcedure` builds the usual shape on top: an indication, one do-not-perform request
 * per contraindication, and the order in a window when none holds.
 */
import type { ActivityDefinition, Coding, DataRequirement, Extension, PlanDefinition, RelatedArtifact, TriggerDefinition } from '@medplum/fhirtypes';
import { activityDefinition, adCanonical, applicability, contraindication, fhirpath, type Action, type AdSpec, type ContraindicationSpec } from './common.ts';
import { planDefinition, type PlanSpec } from './plan.ts';

export type CdsHook = 'patient-view' | 'order-select' | 'order-sign';

/** Every hook the service offers for a procedure. */
export const CDS_HOOKS: readonly CdsHook[] = ['patient-view', 'order-select', 'order-sign'];

/** An ActivityDefinition of one procedure: written to `plandefinitions/<procedure id>/` unless a folder is given. */
export type ProcedureActivity = Omit<AdSpec, 'folder'> & { folder?: string };

export interface ProcedureSpec extends Omit<PlanSpec, 'type'> {
  /**
   * The codes of a draft order for this procedure: order-select / order-sign check a draft
   * ServiceRequest carrying one of them (binding: terminology.md section C).
   */
  orderCodes: Coding[];
  /** The hooks it is served on (default: all three). */
  hooks?: readonly CdsHook[];
  /** ActivityDefinitions only this procedure uses (shared ones stay in activities.ts). */
  activities?: ProcedureActivity[];
}

export interface Procedure {
  plan: PlanDefinition;
  activities: { folder: string; resource: ActivityDefinition }[];
}

/**
 * The triggers that make a plan a CDS service: a `named-event` per hook; an order hook's trigger
 * carries the draft orders it checks as a ServiceRequest DataRequirement coded with the procedure.
 */
export function cdsTriggers(orderCodes: Coding[], hooks: readonly CdsHook[] = CDS_HOOKS): TriggerDefinition[] {
  return hooks.map((name) =>
    name === 'patient-view'
      ? { type: 'named-event', name }
      : { type: 'named-event', name, data: [{ type: 'ServiceRequest', codeFilter: [{ path: 'code', code: orderCodes }] } satisfies DataRequirement] },
  );
}

/** Elements of an action that R4 orders after `trigger`: the trigger is written before the first of them. */
const AFTER_TRIGGER = new Set(['condition', 'input', 'output', 'relatedAction', 'timing', 'participant', 'type', 'action', 'extension']);

function withTriggers(action: Action, triggers: TriggerDefinition[]): Action {
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [key, value] of Object.entries(action)) {
    if (!placed && AFTER_TRIGGER.has(key)) {
      out['trigger'] = [...(action.trigger ?? []), ...triggers];
      placed = true;
    }
    if (key !== 'trigger') out[key] = value;
  }
  if (!placed) out['trigger'] = [...(action.trigger ?? []), ...triggers];
  return out;
}

export function defineProcedure(spec: ProcedureSpec): Procedure {
  const { orderCodes, hooks, activities = [], action, ...planSpec } = spec;
  const [first, ...rest] = action;
  if (!first) throw new Error(`${spec.id}: a procedure needs at least one action`);
  if (orderCodes.length === 0 && (hooks ?? CDS_HOOKS).some((h) => h !== 'patient-view')) throw new Error(`${spec.id}: order hooks need the procedure's orderCodes`);
  const plan = planDefinition({ ...planSpec, type: 'clinical-protocol', action: [withTriggers(first, cdsTriggers(orderCodes, hooks)), ...rest] });
  return {
    plan,
    activities: activities.map((a) => {
      const folder = a.folder ?? spec.id;
      return { folder, resource: activityDefinition({ ...a, folder }) };
    }),
  };
}

// ---- the usual shape ----------------------------------------------------------------------------

export interface SimpleProcedureSpec extends Omit<ProcedureSpec, 'action' | 'orderCodes'> {
  /** The procedure's ActivityDefinition (kind ServiceRequest unless given): what the protocol orders. */
  procedure: Omit<ProcedureActivity, 'kind'> & { kind?: AdSpec['kind'] };
  /** Default: the procedure's codes. */
  orderCodes?: Coding[];
  /** The patient data the rules read (each bound as %<id>). */
  inputs: DataRequirement[];
  /** Named expressions (the `variable` extension) shared by the rules. */
  variables?: Extension[];
  indication: {
    ruleId: string;
    /** Boolean FHIRPath: the procedure is indicated. */
    expression: string;
    /** What the rule means, for people (traces and cards quote it after the rule id). */
    description: string;
    /** The patient resources that indicate it (the order's reasonReference). */
    evidence?: string;
    documentation?: RelatedArtifact[];
  };
  contraindications: Omit<ContraindicationSpec, 'procedure'>[];
  /** When to perform it: FHIRPath dates of the order's occurrencePeriod, the rule it encodes and its source. */
  window: { ruleId: string; start: string; end: string; description: string; documentation: RelatedArtifact[] };
  /** Further actions beside the order when no contraindication holds (work-up, instructions). */
  alongside?: Action[];
}

export function defineSimpleProcedure(spec: SimpleProcedureSpec): Procedure {
  const { procedure, indication, contraindications, window, inputs, variables, alongside = [], orderCodes, activities = [], ...rest } = spec;
  const codes = orderCodes ?? procedure.code ?? [];
  const ruleIds = contraindications.map((c) => c.ruleId).join(', ');
  const none = contraindications.length > 0 ? `(${contraindications.map((c) => `(${c.present})`).join(' or ')}).not()` : 'true';
  const order: Action = {
    id: `${spec.id}-order`,
    title: procedure.title,
    documentation: window.documentation,
    definitionCanonical: adCanonical(procedure.id),
    dynamicValue: [
      { path: 'occurrencePeriod.start', expression: fhirpath(window.start, `${window.ruleId}: ${window.description}`) },
      { path: 'occurrencePeriod.end', expression: fhirpath(window.end, `${window.ruleId}: ${window.description}`) },
      ...(indication.evidence ? [{ path: 'reasonReference', expression: fhirpath(indication.evidence) }] : []),
    ],
  };
  const top: Action = {
    id: spec.id,
    title: procedure.title,
    ...(indication.documentation ? { documentation: indication.documentation } : {}),
    input: inputs,
    ...(variables?.length ? { extension: variables } : {}),
    condition: [applicability(indication.expression, `${indication.ruleId}: ${indication.description}`)],
    action: [
      ...contraindications.map((c) => contraindication({ ...c, procedure: procedure.id })),
      {
        id: `${spec.id}-plan`,
        title: `No contraindication: plan the ${procedure.title}`,
        documentation: contraindications.flatMap((c) => c.documentation),
        condition: [applicability(none, contraindications.length > 0 ? `${ruleIds}: no contraindication is recorded` : 'no contraindication is defined')],
        action: [order, ...alongside],
      },
    ],
  };
  return defineProcedure({ ...rest, orderCodes: codes, activities: [{ ...procedure, kind: procedure.kind ?? 'ServiceRequest' }, ...activities], action: [top] });
}
