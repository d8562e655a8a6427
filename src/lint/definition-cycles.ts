/**
 * Definitions that include or depend on themselves:
 * - a PlanDefinition whose action's definitionCanonical is its own plan, or a chain of nested plans
 *   that returns to one it started from (A -> B -> A). The engine stops such a recursion at apply
 *   time (a processing error for the patient); lint finds it before a patient does;
 * - a chain of Libraries whose `relatedArtifact` of type depends-on (or composed-of) returns to
 *   where it started, directly or through a PlanDefinition's `library` (plan -> Library -> ... ->
 *   plan): no order loads each artifact before what it depends on (CQL forbids circular includes,
 *   and a packager that loads dependencies first never finishes).
 * Each cycle is reported once, at the reference that closes it, found by a depth-first walk in
 * sorted canonical order so the report does not depend on file order.
 */
import type { Library, PlanDefinition, PlanDefinitionAction, RelatedArtifact, Resource } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import type { FindingSink } from './findings.ts';

type Definition = PlanDefinition | Library;

/** One reference from a definition to another: nesting (plan in plan) or a dependency. */
interface Reference {
  target: string;
  path: string;
  kind: 'nested-plan' | 'dependency';
}

interface DefinitionNode {
  file: string;
  references: Reference[];
}

/** relatedArtifact types that make the target part of what the artifact needs to be loaded. */
const DEPENDENCY_TYPES: ReadonlySet<RelatedArtifact['type']> = new Set(['depends-on', 'composed-of']);

function isDefinition(resource: Resource | undefined): resource is Definition {
  return resource?.resourceType === 'PlanDefinition' || resource?.resourceType === 'Library';
}

function keyOf(definition: Definition): string {
  return `${definition.url ?? `${definition.resourceType}/${definition.id ?? ''}`}${definition.version ? `|${definition.version}` : ''}`;
}

function references(definition: Definition, knowledge: CompiledKnowledge): Reference[] {
  const found: Reference[] = [];
  const add = (canonical: unknown, path: string, kind: Reference['kind']) => {
    if (typeof canonical !== 'string') return;
    const target = knowledge.resolve<Definition>(canonical);
    if (isDefinition(target)) found.push({ target: keyOf(target), path, kind });
  };
  const type = definition.resourceType;
  (definition.relatedArtifact ?? []).forEach((related, i) => {
    if (DEPENDENCY_TYPES.has(related.type)) add(related.resource, `${type}.relatedArtifact[${i}].resource`, 'dependency');
  });
  if (definition.resourceType === 'PlanDefinition') {
    (definition.library ?? []).forEach((library, i) => {
      add(library, `PlanDefinition.library[${i}]`, 'dependency');
    });
    const walk = (actions: PlanDefinitionAction[] | undefined, path: string) => {
      (actions ?? []).forEach((action, i) => {
        const at = `${path}.action[${i}]`;
        if (typeof action.definitionCanonical === 'string' && knowledge.resolve(action.definitionCanonical)?.resourceType === 'PlanDefinition') {
          add(action.definitionCanonical, `${at}.definitionCanonical`, 'nested-plan');
        }
        walk(action.action, at);
      });
    };
    walk(definition.action, 'PlanDefinition');
  }
  return found;
}

function cycleMessage(cycle: string[], kinds: ReadonlySet<Reference['kind']>): string {
  const target = cycle[0] ?? '';
  if (!kinds.has('dependency')) {
    return cycle.length === 2
      ? `the plan includes itself (${target}): applying it would never end`
      : `nested plans form a cycle: ${cycle.join(' -> ')}: applying them would never end`;
  }
  const consequence = 'no order loads each artifact before what it depends on';
  return cycle.length === 2 ? `the artifact depends on itself (${target}): ${consequence}` : `dependencies form a cycle: ${cycle.join(' -> ')}: ${consequence}`;
}

export function checkDefinitionCycles(sink: FindingSink, definitions: readonly { file: string; resource: Resource }[], knowledge: CompiledKnowledge): void {
  const nodes = new Map<string, DefinitionNode>();
  for (const { file, resource } of definitions) if (isDefinition(resource)) nodes.set(keyOf(resource), { file, references: references(resource, knowledge) });
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  /** `stack`: the definitions on the current path; `kinds[i]`: how stack[i] reaches stack[i + 1]. */
  const dfs = (key: string, stack: string[], kinds: Reference['kind'][]): void => {
    state.set(key, 'visiting');
    const node = nodes.get(key)!;
    for (const { target, path, kind } of node.references) {
      if (!nodes.has(target)) continue;
      if (state.get(target) === 'visiting') {
        const start = stack.indexOf(target);
        const cycle = [...stack.slice(start), target];
        const id = [...cycle.slice(0, -1)].sort().join(',');
        if (reported.has(id)) continue;
        reported.add(id);
        sink.add('error', 'invariant', node.file, path, cycleMessage(cycle, new Set([...kinds.slice(start), kind])));
      } else if (!state.has(target)) dfs(target, [...stack, target], [...kinds, kind]);
    }
    state.set(key, 'done');
  };
  for (const key of [...nodes.keys()].sort()) if (!state.has(key)) dfs(key, [key], []);
}
