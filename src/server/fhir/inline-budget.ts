/**
 * The size budget of a definition posted inline to $apply, checked before anything of it is
 * compiled or evaluated: how many actions (nested ones counted), how deep they nest, how much
 * FHIRPath text and how many FHIRPath syntax-tree nodes it carries. A definition over any of them
 * is refused (too-costly) naming the limit. The time budget is the other half (inline-runner.ts):
 * the size check bounds what the parser and the compiler are asked to do on the request's thread,
 * the time budget bounds the evaluation, which no size measure can (a small expression over a
 * large record can still take long).
 */
import fhirpath from 'fhirpath';
import { outcomeError } from '../../errors/operation-outcome.ts';

export interface InlineLimits {
  /** Most FHIRPath syntax-tree nodes, summed over every expression. */
  maxExpressionNodes: number;
  /** Most actions, nested ones counted. */
  maxActions: number;
}

/** Longest FHIRPath text parsed at all: a syntax tree has at least one node per few characters. */
const CHARS_PER_NODE = 8;
/** Deepest action nesting (the knowledge walks actions recursively). */
const MAX_ACTION_DEPTH = 32;

interface Found {
  expressions: string[];
  actions: number;
  depth: number;
}

/** Collects the FHIRPath texts (any `{language: text/fhirpath, expression}`) and the actions. */
function walk(value: unknown, found: Found, actionDepth: number): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, found, actionDepth);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (record['language'] === 'text/fhirpath' && typeof record['expression'] === 'string') found.expressions.push(record['expression']);
  for (const [key, child] of Object.entries(record)) {
    if (!child || typeof child !== 'object') continue;
    if (key === 'action' && Array.isArray(child)) {
      found.actions += child.length;
      found.depth = Math.max(found.depth, actionDepth + 1);
      walk(child, found, actionDepth + 1);
    } else {
      walk(child, found, actionDepth);
    }
  }
}

/** Syntax-tree nodes of one expression (fhirpath.js's parse tree: `{type, children}`). */
function countNodes(tree: unknown): number {
  let count = 0;
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    count++;
    const children = (node as { children?: unknown }).children;
    if (Array.isArray(children)) stack.push(...(children as unknown[]));
  }
  return count;
}

const tooCostly = (why: string) => outcomeError('too-costly', `the inline definition is over this server's budget: ${why}`);

/** Refuses (too-costly, 422) an inline definition over the size budget; returns the node count. */
export function checkInlineBudget(definition: unknown, limits: InlineLimits): number {
  const found: Found = { expressions: [], actions: 0, depth: 0 };
  walk(definition, found, 0);
  if (found.actions > limits.maxActions) throw tooCostly(`${found.actions} actions (at most ${limits.maxActions})`);
  if (found.depth > MAX_ACTION_DEPTH) throw tooCostly(`actions nested ${found.depth} deep (at most ${MAX_ACTION_DEPTH})`);
  const chars = found.expressions.reduce((n, e) => n + e.length, 0);
  if (chars > limits.maxExpressionNodes * CHARS_PER_NODE) {
    throw tooCostly(`${chars} characters of FHIRPath (at most ${limits.maxExpressionNodes * CHARS_PER_NODE})`);
  }
  let nodes = 0;
  for (const text of found.expressions) {
    let tree: unknown;
    try {
      tree = fhirpath.parse(text);
    } catch {
      // A syntax error is reported by the compiler where the expression is used; it costs nothing to run.
      continue;
    }
    nodes += countNodes(tree);
    if (nodes > limits.maxExpressionNodes) throw tooCostly(`more than ${limits.maxExpressionNodes} FHIRPath expression nodes`);
  }
  return nodes;
}
