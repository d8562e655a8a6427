/**
 * A Reference-valued dynamicValue whose expression can yield a resource of a type its R4 element
 * does not allow (an AllergyIntolerance in ServiceRequest.reasonReference, which R4 restricts to
 * Condition | Observation | DiagnosticReport | DocumentReference): the engine would leave that
 * reference out with an error (engine/plan/reference-conformance.ts), so lint says so first.
 *
 * Decided statically where the expression says which resource types it can return: a union of
 * terms, each a %variable bound to a typed DataRequirement, narrowed by ofType(), filtered by
 * where()/first()/..., or an iif() of such terms. Any other term (a path into a resource, an
 * untyped variable, resolve()) cannot be typed without running it, so the rule says nothing
 * rather than guess; the engine's check stands behind it.
 */
import fhirpath from 'fhirpath';
import { REFERENCE_TARGETS } from '../engine/plan/reference-targets.ts';
import type { VariableType } from './fhirpath-check.ts';
import { isResourceTypeName } from './fhir-model.ts';
import type { FindingSink } from './findings.ts';

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
}

/** Functions that return a subset of their input: the types carry through. */
const SUBSET_FUNCTIONS = new Set(['where', 'first', 'last', 'tail', 'skip', 'take', 'single', 'distinct', 'exclude', 'intersect', 'trace']);

/**
 * The resource types the result can hold, each with the term it comes from (`%allergy`). A term
 * whose types cannot be known is left out of `types` and clears `complete`: what is known is still
 * reported (a disallowed type found is found), nothing is assumed about the rest.
 */
interface Yield {
  types: Map<string, string>;
  complete: boolean;
}

const ABSTRACT_TYPES = new Set(['Resource', 'DomainResource']);
const UNKNOWN: Yield = { types: new Map(), complete: false };
const known = (type: string, from: string): Yield => ({ types: new Map([[type, from]]), complete: true });

function merge(parts: Yield[]): Yield {
  const all: Yield = { types: new Map(), complete: true };
  for (const part of parts) {
    all.complete &&= part.complete;
    for (const [type, from] of part.types) if (!all.types.has(type)) all.types.set(type, from);
  }
  return all;
}

function functionParts(node: AstNode): { name: string; params: AstNode[] } {
  const functn = node.children?.[0];
  return { name: functn?.children?.[0]?.text ?? '', params: functn?.children?.[1]?.children ?? [] };
}

function typeName(node: AstNode | undefined): string {
  if (!node) return '';
  if (node.text && !node.children?.length) return node.text;
  return (node.children ?? []).map(typeName).join('.');
}

/** `ofType(A).exists() or ofType(B).exists()` (a where() keeping items of these types): the types. */
function typesKept(node: AstNode | undefined): string[] | undefined {
  if (!node) return undefined;
  if (node.type === 'OrExpression') {
    const parts = (node.children ?? []).map(typesKept);
    return parts.every((p) => p !== undefined) ? parts.flat() : undefined;
  }
  if (node.type === 'ParenthesizedTerm' || (node.type === 'TermExpression' && node.children?.[0]?.type === 'ParenthesizedTerm')) return typesKept(node.children?.[0]);
  const [left, invocation] = node.type === 'InvocationExpression' ? (node.children ?? []) : [];
  const ofType = left?.children?.[0]?.children?.[0];
  if (invocation?.type !== 'FunctionInvocation' || functionParts(invocation).name !== 'exists' || ofType?.type !== 'FunctionInvocation') return undefined;
  const { name, params } = functionParts(ofType);
  return name === 'ofType' && params.length === 1 ? [typeName(params[0]).replace(/^FHIR\./, '')] : undefined;
}

function yieldOf(node: AstNode, variables: ReadonlyMap<string, VariableType>): Yield {
  const children = node.children ?? [];
  switch (node.type) {
    case 'EntireExpression':
    case 'TermExpression':
    case 'ParenthesizedTerm':
    case 'InvocationTerm':
      return children[0] ? yieldOf(children[0], variables) : UNKNOWN;
    case 'LiteralTerm':
      return children[0]?.type === 'NullLiteral' ? { types: new Map(), complete: true } : UNKNOWN;
    case 'UnionExpression':
      return merge(children.map((c) => yieldOf(c, variables)));
    case 'ExternalConstantTerm': {
      const raw = children[0]?.children?.[0]?.text ?? node.text ?? '';
      const name = raw.replace(/^%/, '').replace(/^[`'"]|[`'"]$/g, '');
      const bound = variables.get(name);
      const type = bound && bound !== 'unknown' ? bound.type : undefined;
      // `Resource` / `DomainResource` say nothing about which type the data will be.
      return type && isResourceTypeName(type) && !ABSTRACT_TYPES.has(type) ? known(type, `%${name}`) : UNKNOWN;
    }
    case 'FunctionInvocation': {
      // At the root only iif() returns resources this rule can follow.
      const { name, params } = functionParts(node);
      return name === 'iif' && params[1] ? merge([yieldOf(params[1], variables), params[2] ? yieldOf(params[2], variables) : { types: new Map(), complete: true }]) : UNKNOWN;
    }
    case 'InvocationExpression': {
      const [left, invocation] = children;
      if (!left || invocation?.type !== 'FunctionInvocation') return UNKNOWN;
      const { name, params } = functionParts(invocation);
      const before = yieldOf(left, variables);
      const kept = name === 'ofType' ? [typeName(params[0]).replace(/^FHIR\./, '')] : name === 'where' ? typesKept(params[0]) : undefined;
      if (kept) {
        // A type filter: what it keeps is known even when what came before is not.
        const types = before.complete
          ? [...before.types].filter(([type]) => kept.includes(type))
          : kept.filter(isResourceTypeName).map((type) => [type, `${name}(${type})`] as const);
        return { types: new Map(types), complete: true };
      }
      return SUBSET_FUNCTIONS.has(name) ? before : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

/** The allowed target types of the element a dynamicValue path names on `targetType`, if restricted. */
function allowedTargets(targetType: string, path: string): readonly string[] | undefined {
  let owner: string | undefined = targetType;
  const names = path.replace(/\[\d+\]/g, '').split('.');
  for (let i = 0; i < names.length; i++) {
    const step: string | readonly string[] | undefined = owner ? REFERENCE_TARGETS[owner]?.[names[i] ?? ''] : undefined;
    if (step === undefined) return undefined;
    if (typeof step !== 'string') return i === names.length - 1 ? step : undefined;
    owner = step;
  }
  return undefined;
}

/**
 * Reports (error) a dynamicValue on `targetType` (the request kind) whose expression can yield a
 * resource type its element does not allow as a Reference target.
 */
export function checkReferenceTargets(
  sink: FindingSink,
  file: string,
  where: string,
  dvPath: string | undefined,
  expression: string | undefined,
  targetType: string | undefined,
  variables: ReadonlyMap<string, VariableType>,
): void {
  if (!dvPath || !expression || !targetType) return;
  const allowed = allowedTargets(targetType, dvPath);
  if (!allowed) return;
  let ast: AstNode;
  try {
    ast = fhirpath.parse(expression) as AstNode;
  } catch {
    return; // the expression check reports the syntax error
  }
  for (const [type, from] of yieldOf(ast, variables).types) {
    if (allowed.includes(type)) continue;
    sink.add(
      'error',
      'invalid',
      file,
      `${where}.expression`,
      `${targetType}.${dvPath} can be given ${type} (${from}), but R4 allows only ${allowed.join(' | ')} there; the engine would leave that reference out - put such evidence where R4 allows any resource (e.g. ServiceRequest.supportingInfo)`,
    );
  }
}
