/**
 * The knowledge, compiled once: `compileKnowledge(artifacts)` indexes the artifacts (PlanDefinition,
 * ActivityDefinition, Library, ValueSet, CodeSystem, StructureDefinition...) by canonical url and
 * version, and computes up front everything an apply would otherwise work out on first use:
 *
 * - every FHIRPath expression in every artifact, compiled with the R4 model (a syntax error is a
 *   compile finding, which lint reports, and an evaluation error where the expression is used);
 * - every ValueSet's expansion (enumerated compose, nested value sets, whole code systems);
 * - the coding keys of every DataRequirement codeFilter;
 * - which named expressions each action's applicability needs (the rest wait until it applies);
 * - the data requirements of every PlanDefinition (CDS prefetch and server queries).
 *
 * The result is immutable. A reload compiles new knowledge; an inline definition posted to
 * `$apply` is compiled into a derived knowledge with `with([...])`, which shares what is already
 * compiled. No module-level cache remains in the engine: what the engine reuses between applies
 * lives here, so two knowledges never see each other's artifacts. Canonicals are resolved by
 * lookup, never by parsing the URL for a resource type.
 */
import { createHash } from 'node:crypto';
import type { DataRequirement, PlanDefinition, PlanDefinitionAction, Resource, ValueSet } from '@medplum/fhirtypes';
import { stringify as canonicalJson } from 'safe-stable-stringify';
import { codingKey } from '../data/patient-data.ts';
import { dataRequirementsOf } from '../engine/data-requirements.ts';
import { computeVariableSchedule, type VariableSchedule } from '../engine/plan/variable-schedule.ts';
import { withFastPath, type EvaluationRoute } from '../fhirpath/fast-path/index.ts';
import { compileFhirPath, errorText, FhirPathSyntaxError, type CompiledExpression } from '../fhirpath/fhirpath-engine.ts';

export interface KnowledgeOptions {
  /**
   * Evaluate the FHIRPath subset the fast path supports with compiled closures (default true);
   * false is the safety switch: fhirpath.js everywhere (edges read FHIRPATH_FAST_PATH=0).
   */
  fastPath?: boolean;
}

type CanonicalResource = Resource & { url?: string; version?: string; id?: string };

export interface CanonicalParts {
  url: string;
  version?: string;
  fragment?: string;
}

export function parseCanonical(canonical: string): CanonicalParts {
  const hash = canonical.indexOf('#');
  const fragment = hash >= 0 ? canonical.slice(hash + 1) : undefined;
  const base = hash >= 0 ? canonical.slice(0, hash) : canonical;
  const bar = base.indexOf('|');
  const parts: CanonicalParts = { url: bar >= 0 ? base.slice(0, bar) : base };
  if (bar >= 0) parts.version = base.slice(bar + 1);
  if (fragment !== undefined) parts.fragment = fragment;
  return parts;
}

/** Orders versions numerically where they look like dotted numbers, else lexically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff = Number.isInteger(nx) && Number.isInteger(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

type CodeFilter = NonNullable<DataRequirement['codeFilter']>[number];

/** What compiling found wrong in an artifact (lint reports these; the engine reports them where used). */
export interface CompileFinding {
  /** The artifact itself. */
  artifact: Resource;
  /** `Type/id` (or the canonical url when there is no id). */
  resource: string;
  /** FHIRPath-like location of the element inside the resource, e.g. `action[0].condition[1].expression`. */
  path: string;
  message: string;
}

/** The FHIRPath Expressions in a resource: every object with `language: text/fhirpath` and an expression text. */
function* fhirPathExpressions(value: unknown, path: string): Generator<{ path: string; text: string }> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* fhirPathExpressions(item, `${path}[${i}]`);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (record['language'] === 'text/fhirpath' && typeof record['expression'] === 'string') yield { path, text: record['expression'] };
  for (const [key, child] of Object.entries(record)) {
    if (child && typeof child === 'object') yield* fhirPathExpressions(child, path ? `${path}.${key}` : key);
  }
}

/**
 * sha256 (hex) of the artifacts in a canonical order (resourceType, url, version, id, then text),
 * each as JSON with its keys sorted, a StructureDefinition without its snapshot (generated from the
 * differential at load when a profile ships without one): so the same artifacts give the same
 * digest whatever their files' formatting, and one changed code anywhere gives another.
 */
function knowledgeDigest(artifacts: readonly CanonicalResource[]): string {
  const entries = artifacts.map((r) => ({
    key: [r.resourceType, r.url ?? '', r.version ?? '', r.id ?? ''],
    // An object always serialises (the undefined only of a bare undefined/function/symbol).
    text: canonicalJson(r.resourceType === 'StructureDefinition' ? { ...r, snapshot: undefined } : r) ?? '',
  }));
  const order = (a: (typeof entries)[number], b: (typeof entries)[number]): number => {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i]! < b.key[i]! ? -1 : 1;
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  };
  const hash = createHash('sha256');
  // One artifact per line: JSON text holds no raw newline, so the boundaries are unambiguous.
  for (const { text } of entries.sort(order)) hash.update(`${text}\n`);
  return hash.digest('hex');
}

function* actionsOf(actions: PlanDefinitionAction[] | undefined): Generator<PlanDefinitionAction> {
  for (const action of actions ?? []) {
    yield action;
    yield* actionsOf(action.action);
  }
}

function* codeFiltersOf(plan: PlanDefinition): Generator<CodeFilter> {
  for (const action of actionsOf(plan.action)) {
    for (const requirement of [...(action.input ?? []), ...(action.output ?? [])]) yield* requirement.codeFilter ?? [];
  }
}

export class CompiledKnowledge {
  private readonly byUrl = new Map<string, CanonicalResource[]>();
  private readonly byTypeId = new Map<string, CanonicalResource>();
  private readonly valueSets = new Map<string, ReadonlySet<string> | undefined>();
  private readonly filterKeys = new Map<CodeFilter, ReadonlySet<string> | undefined>();
  private readonly requirements = new Map<PlanDefinition, DataRequirement[]>();
  private readonly expressions = new Map<string, CompiledExpression | FhirPathSyntaxError>();
  private readonly routes = new Map<string, EvaluationRoute>();
  private readonly options: Required<KnowledgeOptions>;
  private readonly schedules = new Map<PlanDefinitionAction, VariableSchedule>();
  private readonly compileFindings: CompileFinding[] = [];
  /** True once the constructor is done: from then on nothing is added to the tables. */
  private sealed = false;
  /** See `digest`: worked out on first read, so `with()` (per inline $apply) does not pay ~10 ms for it. */
  private digestText: string | undefined;

  /**
   * Use `compileKnowledge` or `with`: the constructor is the compile step, so every instance is
   * complete. With a `base`, what it compiled is copied rather than redone, and only `added` is
   * analysed (its value sets and code filters again when terminology changes).
   */
  private constructor(added: Iterable<Resource>, options: Required<KnowledgeOptions>, base?: CompiledKnowledge) {
    this.options = options;
    const fresh = [...added];
    if (base) for (const r of base.all()) this.index(r);
    for (const r of fresh) this.index(r);
    const all = this.all();
    const present = new Set<Resource>(all);
    const terminologyChanged = !base || fresh.some((r) => r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem');
    if (base) {
      for (const [text, compiled] of base.expressions) this.expressions.set(text, compiled);
      for (const [text, route] of base.routes) this.routes.set(text, route);
      for (const [action, schedule] of base.schedules) this.schedules.set(action, schedule);
      this.compileFindings.push(...base.compileFindings.filter((f) => present.has(f.artifact)));
      if (!terminologyChanged) {
        for (const [canonical, keys] of base.valueSets) this.valueSets.set(canonical, keys);
        for (const [filter, keys] of base.filterKeys) this.filterKeys.set(filter, keys);
      }
    }
    if (terminologyChanged) {
      for (const r of all) {
        if (r.resourceType !== 'ValueSet' || !r.url) continue;
        for (const canonical of r.version ? [r.url, `${r.url}|${r.version}`] : [r.url]) {
          if (!this.valueSets.has(canonical)) this.valueSets.set(canonical, this.expand(canonical, new Set()));
        }
      }
    }
    for (const r of base ? fresh : all) {
      const name = r.id ? `${r.resourceType}/${r.id}` : ((r as CanonicalResource).url ?? r.resourceType);
      for (const { path, text } of fhirPathExpressions(r, '')) {
        const compiled = this.compileExpression(text);
        if (compiled instanceof FhirPathSyntaxError) this.compileFindings.push({ artifact: r, resource: name, path, message: compiled.message });
      }
      if (r.resourceType === 'PlanDefinition') for (const action of actionsOf(r.action)) this.variableSchedule(action);
    }
    for (const r of terminologyChanged ? all : fresh) {
      if (r.resourceType === 'PlanDefinition') for (const filter of codeFiltersOf(r)) this.codeFilterKeys(filter);
    }
    // Data requirements follow nested plans by canonical, so every plan must be indexed first.
    for (const r of all) if (r.resourceType === 'PlanDefinition') this.requirements.set(r, dataRequirementsOf(r, this));
    Object.freeze(this.compileFindings);
    this.sealed = true;
  }

  /** @internal the one way to build a first instance (see `compileKnowledge`). */
  static compile(resources: Iterable<Resource>, options: KnowledgeOptions = {}): CompiledKnowledge {
    return new CompiledKnowledge(resources, { fastPath: options.fastPath ?? true });
  }

  /**
   * A new knowledge with these artifacts added (a same type + url|version or Type/id replaces),
   * sharing what this one compiled; this one is unchanged. Used for an inline definition posted to
   * $apply, so its expressions are compiled once for the request, like the loaded ones.
   */
  with(resources: Iterable<Resource>): CompiledKnowledge {
    return new CompiledKnowledge(resources, this.options, this);
  }

  private index(resource: Resource): void {
    const r = resource as CanonicalResource;
    if (r.id) this.byTypeId.set(`${r.resourceType}/${r.id}`, r);
    if (!r.url) return;
    const list = this.byUrl.get(r.url) ?? [];
    const same = list.findIndex((x) => x.resourceType === r.resourceType && x.version === r.version);
    if (same >= 0) list[same] = r;
    else list.push(r);
    list.sort((a, b) => compareVersions(b.version ?? '', a.version ?? ''));
    this.byUrl.set(r.url, list);
  }

  private compileExpression(text: string): CompiledExpression | FhirPathSyntaxError {
    let compiled = this.expressions.get(text);
    if (!compiled) {
      try {
        compiled = compileFhirPath(text);
        if (this.options.fastPath) {
          const routed = withFastPath(text, compiled);
          compiled = routed.evaluate;
          this.routes.set(text, routed.route);
        } else this.routes.set(text, { fastPath: false, reason: 'fast path switched off' });
      } catch (err) {
        compiled = err instanceof FhirPathSyntaxError ? err : new FhirPathSyntaxError(errorText(err));
      }
      this.expressions.set(text, compiled);
    }
    return compiled;
  }

  /**
   * Identifies exactly these artifacts (see knowledgeDigest): the distributed batch's workers apply
   * a run only with the knowledge its coordinator had (src/queue).
   */
  get digest(): string {
    this.digestText ??= knowledgeDigest(this.all());
    return this.digestText;
  }

  /** What compiling the artifacts found wrong (FHIRPath syntax errors, with where they are). */
  get findings(): readonly CompileFinding[] {
    return this.compileFindings;
  }

  /** How each compiled FHIRPath text is evaluated: the fast path, or fhirpath.js and why (for lint). */
  get expressionRoutes(): ReadonlyMap<string, EvaluationRoute> {
    return this.routes;
  }

  /** Whether this knowledge evaluates with the fast path (false when switched off). */
  get fastPath(): boolean {
    return this.options.fastPath;
  }

  /** How many distinct FHIRPath texts were compiled (for tests and benchmarks). */
  get compiledExpressionCount(): number {
    return this.expressions.size;
  }

  /**
   * The evaluator of a FHIRPath text; throws FhirPathSyntaxError when it does not compile. A text
   * from the artifacts was compiled with them; any other (an expression evaluated outside the
   * knowledge, e.g. by a caller's code) is compiled for this call only and not kept, so the
   * knowledge never grows after compile.
   */
  expression(text: string): CompiledExpression {
    const compiled = this.expressions.get(text) ?? compileFhirPath(text);
    if (compiled instanceof FhirPathSyntaxError) throw compiled;
    return compiled;
  }

  /** Which named expressions of an action its applicability conditions read (see variable-schedule.ts). */
  variableSchedule(action: PlanDefinitionAction): VariableSchedule {
    let schedule = this.schedules.get(action);
    if (!schedule) {
      schedule = computeVariableSchedule(action);
      // Only while compiling: afterwards an unknown action (not from these artifacts) is computed, not kept.
      if (!this.sealed) this.schedules.set(action, schedule);
    }
    return schedule;
  }

  /** The coding keys a codeFilter matches (its codes plus its ValueSet's expansion); undefined when the ValueSet cannot be expanded. */
  codeFilterKeys(filter: CodeFilter): ReadonlySet<string> | undefined {
    if (this.filterKeys.has(filter)) return this.filterKeys.get(filter);
    let keys: Set<string> | undefined = new Set<string>((filter.code ?? []).map((c) => codingKey(c.system, c.code)));
    if (filter.valueSet) {
      const expanded = this.valueSetKeys(filter.valueSet);
      if (expanded) for (const k of expanded) keys.add(k);
      else keys = undefined;
    }
    if (!this.sealed) this.filterKeys.set(filter, keys);
    return keys;
  }

  /** The data a PlanDefinition reads (its inputs and outputs, nested plans included), deduplicated. */
  dataRequirements(plan: PlanDefinition): DataRequirement[] {
    return this.requirements.get(plan) ?? dataRequirementsOf(plan, this);
  }

  /** All artifacts, in insertion order of their url groups. */
  all(): CanonicalResource[] {
    const seen = new Set<CanonicalResource>();
    for (const list of this.byUrl.values()) for (const r of list) seen.add(r);
    for (const r of this.byTypeId.values()) seen.add(r);
    return [...seen];
  }

  /** Resolves `url` or `url|version` (the newest version when none is given), optionally of one type. */
  resolve<T extends Resource = Resource>(canonical: string, type?: T['resourceType']): T | undefined {
    const { url, version } = parseCanonical(canonical);
    const candidates = (this.byUrl.get(url) ?? []).filter((r) => !type || r.resourceType === type);
    const found = version === undefined ? candidates[0] : candidates.find((r) => r.version === version);
    return found as T | undefined;
  }

  /** Finds by `Type/id` or by plain id within a type. */
  byId<T extends Resource = Resource>(type: T['resourceType'], id: string): T | undefined {
    return this.byTypeId.get(`${type}/${id}`) as T | undefined;
  }

  /**
   * The system|code keys of a ValueSet, from its expansion or its enumerated compose (include
   * concepts and included value sets; exclusions removed), expanded at compile. Filters need a
   * terminology server and are reported as unsupported by returning undefined.
   */
  valueSetKeys(canonical: string): ReadonlySet<string> | undefined {
    if (this.valueSets.has(canonical)) return this.valueSets.get(canonical);
    // A canonical no ValueSet here answers (e.g. a fragment): expanded for this call only.
    return this.expand(canonical, new Set());
  }

  private expand(canonical: string, visiting: Set<string>): Set<string> | undefined {
    if (visiting.has(canonical)) return new Set();
    visiting.add(canonical);
    const vs = this.resolve<ValueSet>(canonical, 'ValueSet');
    if (!vs) return undefined;
    const keys = new Set<string>();
    if (vs.expansion?.contains) {
      const walk = (items: NonNullable<ValueSet['expansion']>['contains']) => {
        for (const c of items ?? []) {
          if (c.code) keys.add(codingKey(c.system, c.code));
          walk(c.contains);
        }
      };
      walk(vs.expansion.contains);
      return keys;
    }
    for (const include of vs.compose?.include ?? []) {
      if (include.filter?.length) return undefined;
      if (include.concept) for (const c of include.concept) keys.add(codingKey(include.system, c.code));
      else if (include.system && !include.valueSet) {
        const cs = this.resolve(include.system, 'CodeSystem') as { concept?: { code: string; concept?: unknown[] }[] } | undefined;
        if (!cs) return undefined;
        const walk = (concepts: { code: string; concept?: unknown[] }[] | undefined) => {
          for (const c of concepts ?? []) {
            keys.add(codingKey(include.system, c.code));
            walk(c.concept as { code: string; concept?: unknown[] }[] | undefined);
          }
        };
        walk(cs.concept);
      }
      for (const nested of include.valueSet ?? []) {
        const inner = this.expand(nested, visiting);
        if (!inner) return undefined;
        for (const k of inner) keys.add(k);
      }
    }
    for (const exclude of vs.compose?.exclude ?? []) {
      for (const c of exclude.concept ?? []) keys.delete(codingKey(exclude.system, c.code));
    }
    return keys;
  }
}

/** Compiles the knowledge: see the file comment. */
export function compileKnowledge(resources: Iterable<Resource>, options: KnowledgeOptions = {}): CompiledKnowledge {
  return CompiledKnowledge.compile(resources, options);
}
