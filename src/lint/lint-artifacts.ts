/**
 * Static checks of knowledge artifacts before they reach a server or a patient. Pure: artifacts and
 * knowledge in, one OperationOutcome out; each issue's `expression` is `<file>#<path in the
 * resource>` (e.g. `plandefinitions/hsg/plan.json#PlanDefinition.action[2].condition[0].expression`).
 *
 * What is checked:
 * - every Expression: the language is one the engine runs (text/fhirpath); FHIRPath parses; every
 *   function exists; every %variable is bound (action inputs of the action and its parents, the
 *   engine's variables); element names exist in the R4 model wherever the type is known;
 * - dynamicValue paths are Simple FHIRPath and exist on the target type (the ActivityDefinition's
 *   kind, or RequestGroup.action for `action.` paths);
 * - every canonical resolves (url or url|version) against the knowledge, incl. codeFilter ValueSets,
 *   which must also be expandable offline; coded codeFilters use codes of our terminology;
 * - resource ids and canonical url|version are unique; action ids are unique within a plan;
 *   relatedAction targets exist and form no cycle; goalIds name goals of the plan; no plan includes
 *   itself, directly or through nested plans, and no Library depends on itself through
 *   relatedArtifact depends-on or a plan's `library` (definition-cycles.ts);
 * - every PlanDefinition action carries documentation (the source it comes from).
 */
import type { ActivityDefinition, Extension, Expression, OperationOutcome, PlanDefinition, PlanDefinitionAction, Resource } from '@medplum/fhirtypes';
import { VARIABLE_EXTENSION } from '../engine/types.ts';
import { issue } from '../errors/operation-outcome.ts';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { parseCanonical } from '../knowledge/compiled-knowledge.ts';
import { checkDataRequirement } from './data-requirement.ts';
import { checkDefinitionCycles } from './definition-cycles.ts';
import { engineVariables } from './engine-variables.ts';
import { checkFhirPath, type VariableType } from './fhirpath-check.ts';
import { isResourceTypeName, memberType, typeNamed, type ModelType } from './fhir-model.ts';
import { sortFindings, toIssue, type Code, type Finding, type FindingSink, type Severity } from './findings.ts';
import { checkContentRules } from './content-rules.ts';
import { checkReferenceTargets } from './reference-targets.ts';
import { checkDuplicateElementIds } from './duplicate-element-ids.ts';
import { checkRelatedActionCycles } from './related-action-cycles.ts';
import { checkSimplePath } from './simple-path.ts';

export interface LintArtifact {
  file: string;
  resource: Resource;
}

const FHIRPATH = 'text/fhirpath';
/** Canonicals of the FHIR spec and HL7 terminology: known without being in our knowledge. */
const EXTERNAL_CANONICAL_PREFIXES = ['http://hl7.org/fhir/', 'http://terminology.hl7.org/'];

type Canonical = Resource & { url?: string; version?: string };

class Linter implements FindingSink {
  readonly findings: Finding[] = [];
  private readonly knowledge: CompiledKnowledge;
  private readonly allValueSetKeys: Set<string>;
  /** Variable scopes of the plan actions that use each ActivityDefinition (by canonical url). */
  readonly activityScopes = new Map<string, Map<string, VariableType>[]>();
  private readonly handledExpressions = new Set<string>();

  constructor(knowledge: CompiledKnowledge) {
    this.knowledge = knowledge;
    this.allValueSetKeys = new Set();
    for (const r of knowledge.all()) {
      if (r.resourceType !== 'ValueSet' || !r.url) continue;
      for (const key of knowledge.valueSetKeys(r.version ? `${r.url}|${r.version}` : r.url) ?? []) this.allValueSetKeys.add(key);
    }
  }

  add(severity: Severity, code: Code, file: string, path: string, message: string): void {
    this.findings.push({ severity, code, file, path, message });
  }

  // ----- uniqueness -------------------------------------------------------------------------------

  uniqueness(artifacts: readonly LintArtifact[]): void {
    const ids = new Map<string, string>();
    const urls = new Map<string, string>();
    for (const { file, resource } of artifacts) {
      const r = resource as Canonical;
      if (r.id) {
        const key = `${r.resourceType}/${r.id}`;
        const previous = ids.get(key);
        if (previous) this.add('error', 'duplicate', file, `${r.resourceType}.id`, `${key} is also defined in ${previous}`);
        else ids.set(key, file);
      }
      if (r.url) {
        const key = `${r.url}|${r.version ?? ''}`;
        const previous = urls.get(key);
        if (previous) this.add('error', 'duplicate', file, `${r.resourceType}.url`, `canonical ${r.url}${r.version ? `|${r.version}` : ''} is also defined in ${previous}`);
        else urls.set(key, file);
      } else if (['PlanDefinition', 'ActivityDefinition', 'Library', 'ValueSet', 'CodeSystem', 'StructureDefinition'].includes(r.resourceType)) {
        this.add('error', 'required', file, `${r.resourceType}.url`, `${r.resourceType}/${r.id ?? '?'} has no canonical url, so nothing can reference or load it`);
      }
    }
  }

  // ----- canonicals and stray expressions, found by walking the resource with its model types ----

  walk(file: string, resource: Resource, scopeFor: (path: string) => Map<string, VariableType>): void {
    const root = typeNamed(resource.resourceType);
    if (!root) return;
    const contained = new Set(((resource as { contained?: Resource[] }).contained ?? []).map((c) => c.id));
    const visit = (value: unknown, type: ModelType, path: string): void => {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          visit(v, type, `${path}[${i}]`);
        });
        return;
      }
      if (type.type === 'canonical' && typeof value === 'string') {
        this.canonical(file, path, value, contained);
        return;
      }
      if (!value || typeof value !== 'object') return;
      if (type.type === 'Expression') {
        this.strayExpression(file, path, value as Expression, resource, scopeFor(path));
        return;
      }
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        if (key === 'resourceType' || key.startsWith('_')) continue;
        if (type.type === 'Resource' || key === 'contained') {
          // Contained resources are walked with their own type.
          const items = Array.isArray(child) ? child : [child];
          items.forEach((item, i) => {
            const t = typeNamed(resourceTypeOf(item));
            if (t) visit(item, t, `${path}.${key}[${i}]`);
          });
          continue;
        }
        const childType = memberType(type, key);
        if (childType && !childType.choices) visit(child, childType, `${path}.${key}`);
      }
    };
    visit(resource, root, resource.resourceType);
  }

  private canonical(file: string, path: string, canonical: string, contained: Set<string | undefined>): void {
    if (canonical.startsWith('#')) {
      if (!contained.has(canonical.slice(1))) this.add('error', 'not-found', file, path, `${canonical} names no contained resource`);
      return;
    }
    if (EXTERNAL_CANONICAL_PREFIXES.some((p) => canonical.startsWith(p))) return;
    if (this.knowledge.resolve(canonical)) return;
    const { url, version } = parseCanonical(canonical);
    const other = this.knowledge.resolve<Canonical>(url);
    this.add(
      'error',
      'not-found',
      file,
      path,
      other && version !== undefined
        ? `canonical ${canonical} does not resolve: version ${version} is not in the knowledge (found ${url}|${other.version ?? '(no version)'})`
        : `canonical ${canonical} does not resolve to any artifact`,
    );
  }

  private strayExpression(file: string, path: string, expression: Expression, resource: Resource, variables: Map<string, VariableType>): void {
    if (this.handledExpressions.has(`${file}#${path}`)) return;
    this.expression(file, path, expression, resource, variables, false);
  }

  // ----- expressions ------------------------------------------------------------------------------

  expression(file: string, path: string, expression: Expression | undefined, definition: Resource, variables: Map<string, VariableType>, strictVariables: boolean): void {
    this.handledExpressions.add(`${file}#${path}`);
    if (!expression) {
      this.add('error', 'required', file, path, 'no expression');
      return;
    }
    // Read from a file: a missing language is reported, not assumed (the type says it is there).
    const language = (expression as { language?: string }).language ?? '';
    if (language !== FHIRPATH) {
      this.add('error', 'not-supported', file, `${path}.language`, `expression language '${language || '(none)'}' is not supported by the engine (only ${FHIRPATH})`);
      return;
    }
    if (!expression.expression) {
      this.add(
        'error',
        'not-supported',
        file,
        path,
        `text/fhirpath expression without expression text${expression.reference ? ` (reference ${expression.reference} is not supported)` : ''}`,
      );
      return;
    }
    const problems = checkFhirPath(expression.expression, { variables, focus: typeNamed(definition.resourceType), strictVariables }, (text) => this.knowledge.expression(text));
    for (const p of problems) this.add(p.severity, p.code, file, `${path}.expression`, `${p.message} in: ${expression.expression}`);
  }

  // ----- PlanDefinition ---------------------------------------------------------------------------

  planDefinition(file: string, plan: PlanDefinition): void {
    const goalIds = new Set((plan.goal ?? []).map((g) => g.id).filter(Boolean));
    const actions: { action: PlanDefinitionAction; path: string }[] = [];
    const collect = (list: PlanDefinitionAction[] | undefined, path: string) => {
      (list ?? []).forEach((action, i) => {
        const p = `${path}.action[${i}]`;
        actions.push({ action, path: p });
        collect(action.action, p);
      });
    };
    collect(plan.action, 'PlanDefinition');

    const byId = new Map<string, string>();
    for (const { action, path } of actions) {
      if (!action.id) continue;
      const previous = byId.get(action.id);
      if (previous) this.add('error', 'duplicate', file, `${path}.id`, `action id '${action.id}' is also used at ${previous}`);
      else byId.set(action.id, path);
    }
    for (const { action, path } of actions) {
      if (!action.documentation?.some((d) => d.citation || d.url || d.display || d.document || d.resource)) {
        this.add('error', 'required', file, `${path}.documentation`, `action '${action.id ?? action.title ?? path}' has no documentation: cite the source it comes from`);
      }
      (action.goalId ?? []).forEach((g, i) => {
        if (!goalIds.has(g)) this.add('error', 'not-found', file, `${path}.goalId[${i}]`, `goalId '${g}' names no goal of this plan`);
      });
      (action.relatedAction ?? []).forEach((rel, i) => {
        if (!byId.has(rel.actionId))
          this.add('error', 'not-found', file, `${path}.relatedAction[${i}].actionId`, `relatedAction target '${rel.actionId}' is not an action of this plan`);
        if (rel.actionId === action.id) this.add('error', 'invariant', file, `${path}.relatedAction[${i}].actionId`, `action '${action.id}' relates to itself`);
      });
      (action.condition ?? []).forEach((c, i) => {
        if (c.kind !== 'applicability') {
          this.add('warning', 'not-supported', file, `${path}.condition[${i}].kind`, `condition kind '${c.kind}' is not evaluated by the engine (only applicability)`);
        }
      });
    }
    checkRelatedActionCycles(this, file, actions);
    const planVariables = new Map(engineVariables(plan.resourceType));
    this.variableExtensions(file, plan, plan.extension, 'PlanDefinition', planVariables);
    this.actions(file, plan, plan.action, 'PlanDefinition', planVariables);
  }

  private actions(file: string, plan: PlanDefinition, list: PlanDefinitionAction[] | undefined, parentPath: string, parentVariables: Map<string, VariableType>): void {
    (list ?? []).forEach((action, i) => {
      const path = `${parentPath}.action[${i}]`;
      const variables = new Map(parentVariables);
      (action.input ?? []).forEach((input, j) => {
        const inputPath = `${path}.input[${j}]`;
        checkDataRequirement(this, this.knowledge, this.allValueSetKeys, file, inputPath, input);
        if (input.id) variables.set(input.id, typeNamed(input.type) ?? 'unknown');
      });
      this.variableExtensions(file, plan, action.extension, path, variables);
      this.scopes.set(`${file}#${path}`, variables);
      (action.condition ?? []).forEach((c, j) => {
        this.expression(file, `${path}.condition[${j}].expression`, c.expression, plan, variables, true);
      });
      const target = this.dynamicValueTarget(action);
      (action.dynamicValue ?? []).forEach((dv, j) => {
        const dvPath = `${path}.dynamicValue[${j}]`;
        this.dynamicValuePath(file, dvPath, dv.path, target);
        this.expression(file, `${dvPath}.expression`, dv.expression, plan, variables, true);
        checkReferenceTargets(this, file, dvPath, dv.path, dv.expression?.expression, /^%?action\./.test(dv.path ?? '') ? undefined : target, variables);
      });
      if (action.definitionCanonical) {
        const definition = this.knowledge.resolve<Canonical>(action.definitionCanonical);
        if (definition?.resourceType === 'ActivityDefinition' && definition.url) {
          const scopes = this.activityScopes.get(definition.url) ?? [];
          scopes.push(variables);
          this.activityScopes.set(definition.url, scopes);
        }
      }
      if (action.definitionUri) {
        this.add('warning', 'not-supported', file, `${path}.definitionUri`, 'definitionUri is not applied by the engine; use definitionCanonical');
      }
      this.actions(file, plan, action.action, path, variables);
    });
  }

  /** R4 `variable` extensions: each named Expression is checked, then bound (untyped) for what follows. */
  private variableExtensions(file: string, plan: PlanDefinition, extensions: Extension[] | undefined, path: string, variables: Map<string, VariableType>): void {
    (extensions ?? []).forEach((ext, i) => {
      if (ext.url !== VARIABLE_EXTENSION) return;
      const where = `${path}.extension[${i}].valueExpression`;
      const name = ext.valueExpression?.name;
      if (!name) {
        this.add('error', 'required', file, where, 'a variable extension needs valueExpression.name (the %name it binds)');
        return;
      }
      this.expression(file, where, ext.valueExpression, plan, variables, true);
      variables.set(name, 'unknown');
    });
  }

  /** Variable scope (by JSON path of an action) for expressions found by the generic walk. */
  readonly scopes = new Map<string, Map<string, VariableType>>();

  scopeAt(file: string, path: string, fallback: Map<string, VariableType>): Map<string, VariableType> {
    for (let p = path; p.includes('.'); p = p.slice(0, p.lastIndexOf('.'))) {
      const found = this.scopes.get(`${file}#${p}`);
      if (found) return found;
    }
    return fallback;
  }

  private dynamicValueTarget(action: PlanDefinitionAction): string | undefined {
    if (!action.definitionCanonical) return undefined;
    const definition = this.knowledge.resolve<Canonical & { kind?: string }>(action.definitionCanonical);
    if (definition?.resourceType === 'ActivityDefinition') return definition.kind;
    if (definition?.resourceType === 'PlanDefinition') return 'RequestGroup';
    return undefined;
  }

  private dynamicValuePath(file: string, path: string, dvPath: string | undefined, target: string | undefined): void {
    if (!dvPath) {
      this.add('error', 'required', file, `${path}.path`, 'dynamicValue has no path');
      return;
    }
    const onAction = /^%?action\./.test(dvPath);
    const targetType = onAction ? 'RequestGroup' : target;
    if (!targetType) return;
    const checkedPath = onAction ? dvPath.replace(/^%?action\./, 'action.') : dvPath;
    for (const problem of checkSimplePath(checkedPath, targetType)) this.add('error', 'invalid', file, `${path}.path`, problem);
  }

  // ----- ActivityDefinition -----------------------------------------------------------------------

  activityDefinition(file: string, ad: ActivityDefinition): void {
    const kind = ad.kind ?? '';
    if (!isResourceTypeName(kind)) this.add('error', 'value', file, 'ActivityDefinition.kind', `kind '${kind}' is not an R4 resource type`);
    const users = (ad.url && this.activityScopes.get(ad.url)) || [];
    (ad.dynamicValue ?? []).forEach((dv, j) => {
      const path = `ActivityDefinition.dynamicValue[${j}]`;
      // Read from a file: a missing path is reported, not assumed (the type says it is there).
      const dvPath = (dv as { path?: string }).path;
      if (!dvPath) this.add('error', 'required', file, `${path}.path`, 'dynamicValue has no path');
      else if (/^%?action\./.test(dvPath)) {
        for (const problem of checkSimplePath(dvPath.replace(/^%?action\./, 'action.'), 'RequestGroup')) this.add('error', 'invalid', file, `${path}.path`, problem);
      } else if (isResourceTypeName(kind)) {
        for (const problem of checkSimplePath(dvPath, kind)) this.add('error', 'invalid', file, `${path}.path`, problem);
      }
      // Evaluated with the variables of each plan action that uses this definition: a variable
      // must be bound in all of them. Unused definitions get the engine variables only.
      const scopes = users.length ? users : [new Map(engineVariables('ActivityDefinition'))];
      const before = this.findings.length;
      for (const variables of scopes) {
        const withContext = new Map(variables);
        for (const [k, v] of engineVariables('ActivityDefinition')) if (k === 'context' || k === 'resource' || k === 'rootResource') withContext.set(k, v);
        this.expression(file, `${path}.expression`, dv.expression, ad, withContext, users.length > 0);
        checkReferenceTargets(this, file, path, dvPath, (dv as { expression?: Expression }).expression?.expression, isResourceTypeName(kind) ? kind : undefined, withContext);
      }
      // The same message once, however many actions use the definition.
      const added = this.findings.splice(before);
      const seen = new Set<string>();
      for (const f of added) {
        const key = `${f.path}|${f.message}`;
        if (!seen.has(key)) {
          seen.add(key);
          this.findings.push(f);
        }
      }
    });
  }
}

export function lintArtifacts(artifacts: readonly LintArtifact[], knowledge: CompiledKnowledge): OperationOutcome {
  const linter = new Linter(knowledge);
  linter.uniqueness(artifacts);
  // Plans first: they record which action scopes each ActivityDefinition is evaluated in.
  const ordered = [...artifacts].sort((a, b) => rank(a.resource) - rank(b.resource));
  for (const { file, resource } of ordered) {
    if (resource.resourceType === 'PlanDefinition') linter.planDefinition(file, resource);
    if (resource.resourceType === 'ActivityDefinition') linter.activityDefinition(file, resource);
  }
  checkDefinitionCycles(linter, ordered, knowledge);
  for (const { file, resource } of ordered) {
    const fallback = new Map(engineVariables(resource.resourceType));
    linter.walk(file, resource, (path) => linter.scopeAt(file, path, fallback));
  }
  checkContentRules(linter, ordered);
  checkDuplicateElementIds(linter, ordered);
  const findings = sortFindings(linter.findings);
  if (findings.length === 0) {
    return {
      resourceType: 'OperationOutcome',
      issue: [issue('information', 'informational', `${artifacts.length} artifacts checked, no problems found`)],
    };
  }
  return { resourceType: 'OperationOutcome', issue: findings.map(toIssue) };
}

/** The resourceType of a contained item, '' when it is not a resource (a malformed file). */
function resourceTypeOf(item: unknown): string {
  const type = typeof item === 'object' && item !== null ? (item as { resourceType?: unknown }).resourceType : undefined;
  return typeof type === 'string' ? type : '';
}

function rank(r: Resource): number {
  return r.resourceType === 'PlanDefinition' ? 0 : r.resourceType === 'ActivityDefinition' ? 1 : 2;
}
