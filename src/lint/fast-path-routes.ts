/**
 * Which artifact expressions the FHIRPath fast path does not compile, and why (they run on
 * fhirpath.js, correct but slower): one summary line, then one line per such expression with where
 * it is. Lint prints these beside its findings; they are not findings (nothing is wrong).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';

function* expressionsIn(value: unknown, path: string): Generator<{ path: string; text: string }> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* expressionsIn(item, `${path}[${i}]`);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (record['language'] === 'text/fhirpath' && typeof record['expression'] === 'string') yield { path, text: record['expression'] };
  for (const [key, child] of Object.entries(record)) yield* expressionsIn(child, path ? `${path}.${key}` : key);
}

export function fastPathReport(knowledge: CompiledKnowledge, artifacts: readonly { resource: Resource }[]): string[] {
  if (!knowledge.fastPath) return ['fast path: switched off (FHIRPATH_FAST_PATH=0): every expression runs on fhirpath.js'];
  const lines: string[] = [];
  let total = 0;
  let onFastPath = 0;
  for (const { resource } of artifacts) {
    const name = `${resource.resourceType}/${resource.id ?? '?'}`;
    for (const { path, text } of expressionsIn(resource, '')) {
      const route = knowledge.expressionRoutes.get(text);
      if (!route) continue; // a syntax error: a lint finding already
      total++;
      if (route.fastPath) onFastPath++;
      else lines.push(`  fhirpath.js: ${name} ${path}: ${route.reason}`);
    }
  }
  return [`fast path: ${onFastPath} of ${total} artifact expressions compiled, ${total - onFastPath} on fhirpath.js`, ...lines];
}
