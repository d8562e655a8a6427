/**
 * Static checks of one FHIRPath expression: it parses (with the engine's own compiler), every
 * function exists, every %variable is bound, and wherever the type of the focus is known (a
 * resource type name, a %variable bound to a typed DataRequirement, %patient...) every element
 * name exists in the R4 model. Where the type is not known the checker says nothing rather
 * than guess.
 */
import fhirpath from 'fhirpath';
import { FhirPathSyntaxError } from '../fhirpath/fhirpath-engine.ts';
import { isPrimitive, isResourceTypeName, memberType, narrowChoice, suggestMember, typeNamed, type ModelType } from './fhir-model.ts';

export interface ExpressionProblem {
  severity: 'error' | 'warning';
  code: 'invalid' | 'not-found' | 'not-supported' | 'value';
  message: string;
}

/** What a variable holds: a known model type, or `unknown` (bound but untyped). */
export type VariableType = ModelType | 'unknown';

export interface ExpressionScope {
  variables: ReadonlyMap<string, VariableType>;
  /** The type of the focus (%context), e.g. PlanDefinition. */
  focus: ModelType | undefined;
  /** An unbound %variable is an error (true) or only a warning (it may be an $apply parameter). */
  strictVariables: boolean;
}

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
}

/** fhirpath.js 4/5 functions (engine.invocationTable) plus the engine's clock overrides. */
const FUNCTIONS = new Set(
  (
    'resolve memberOf empty not exists all allTrue anyTrue allFalse anyFalse subsetOf supersetOf isDistinct distinct ' +
    'count where extension select coalesce sort aggregate sum min max avg weight ordinal single first last type ofType ' +
    'is as tail take skip combine union intersect exclude iif trace defineVariable toInteger toLong toDecimal toString ' +
    'toDate toDateTime toTime toBoolean toQuantity hasValue getValue htmlChecks htmlchecks convertsToBoolean ' +
    'convertsToInteger convertsToLong convertsToDecimal convertsToString convertsToDate convertsToDateTime convertsToTime ' +
    'convertsToQuantity indexOf lastIndexOf substring startsWith endsWith contains upper lower replace matches matchesFull ' +
    'replaceMatches length toChars join split trim encode decode escape unescape abs ceiling exp floor ln log power round ' +
    'sqrt truncate lowBoundary highBoundary precision now today timeOfDay yearOf monthOf dayOf hourOf minuteOf secondOf ' +
    'millisecondOf timezoneOffsetOf dateOf timeOf repeat children descendants'
  ).split(/\s+/),
);

/** Functions whose arguments are evaluated per item of the input ($this = the item). */
const ITEM_FUNCTIONS = new Set(['where', 'select', 'exists', 'all', 'repeat', 'sort', 'aggregate']);
/** Functions that return (a subset of) their input, so the type carries through. */
const SAME_TYPE_FUNCTIONS = new Set(['where', 'first', 'last', 'tail', 'skip', 'take', 'single', 'distinct', 'trace', 'intersect', 'exclude', 'sort', 'defineVariable']);

class Checker {
  readonly problems: ExpressionProblem[] = [];
  private readonly scope: ExpressionScope;

  constructor(scope: ExpressionScope) {
    this.scope = scope;
  }

  private problem(severity: ExpressionProblem['severity'], code: ExpressionProblem['code'], message: string): void {
    if (!this.problems.some((p) => p.message === message)) this.problems.push({ severity, code, message });
  }

  /** Returns the type of `node` evaluated on `focus`, or undefined when not statically known. */
  visit(node: AstNode, focus: ModelType | undefined, atRoot: boolean): ModelType | undefined {
    const children = node.children ?? [];
    switch (node.type) {
      case 'EntireExpression':
      case 'TermExpression':
      case 'ParenthesizedTerm':
        return children[0] ? this.visit(children[0], focus, atRoot) : undefined;
      case 'InvocationTerm':
        return children[0] ? this.invoke(children[0], focus, focus, atRoot) : undefined;
      case 'ExternalConstantTerm':
        return this.variable(node);
      case 'InvocationExpression': {
        const [left, invocation] = children;
        if (!left || !invocation) return undefined;
        const leftType = this.visit(left, focus, atRoot);
        return this.invoke(invocation, leftType, focus, false);
      }
      case 'IndexerExpression': {
        const [left, index] = children;
        const leftType = left ? this.visit(left, focus, atRoot) : undefined;
        if (index) this.visit(index, focus, atRoot);
        return leftType;
      }
      case 'TypeExpression': {
        const [left, specifier] = children;
        const leftType = left ? this.visit(left, focus, atRoot) : undefined;
        const typeName = specifier?.text ?? '';
        return node.text === 'as' ? this.narrow(leftType, typeName, 'as') : undefined;
      }
      case 'UnionExpression': {
        const types = children.map((c) => this.visit(c, focus, atRoot));
        const [a, b] = types;
        return a && b && a.path === b.path && !a.choices ? a : undefined;
      }
      default:
        for (const child of children) this.visit(child, focus, atRoot);
        return undefined;
    }
  }

  private variable(node: AstNode): ModelType | undefined {
    const raw = node.children?.[0]?.children?.[0]?.text ?? node.text ?? '';
    const name = raw.replace(/^[`'"]|[`'"]$/g, '');
    if (name.startsWith('vs-') || name.startsWith('ext-')) return undefined;
    const bound = this.scope.variables.get(name);
    if (bound === undefined) {
      this.problem(
        this.scope.strictVariables ? 'error' : 'warning',
        'not-found',
        `%${name} is not bound here (not an input of this action or its parents, nor an engine variable)${this.scope.strictVariables ? '' : '; it must be passed as an $apply parameter'}`,
      );
      return undefined;
    }
    return bound === 'unknown' ? undefined : bound;
  }

  private narrow(from: ModelType | undefined, typeName: string, fn: string): ModelType | undefined {
    const bare = typeName.replace(/^(FHIR|System)\./, '');
    if (from?.choices) {
      const narrowed = narrowChoice(from, bare);
      if (!narrowed) {
        this.problem('error', 'value', `${fn}(${bare}) can never match: ${from.path} is one of ${from.choices.join(', ')}`);
      }
      return narrowed;
    }
    const named = typeNamed(bare) ?? (bare === 'dateTime' || bare === 'date' ? typeNamed(bare) : undefined);
    if (!named && /^[A-Z]/.test(bare) && !typeName.startsWith('System.')) {
      this.problem('error', 'not-found', `${fn}(${bare}): ${bare} is not an R4 type`);
    }
    return named;
  }

  private invoke(node: AstNode, on: ModelType | undefined, outerFocus: ModelType | undefined, atRoot: boolean): ModelType | undefined {
    switch (node.type) {
      case 'MemberInvocation':
        return this.member(node.text ?? '', on, atRoot);
      case 'FunctionInvocation':
        return this.call(node.children?.[0], on, outerFocus);
      case 'ThisInvocation':
        return on;
      default:
        return undefined;
    }
  }

  private member(name: string, on: ModelType | undefined, atRoot: boolean): ModelType | undefined {
    // A leading type name filters the focus by type (`Observation.value` on a PlanDefinition is empty).
    if (atRoot && /^[A-Z]/.test(name) && isResourceTypeName(name)) {
      if (on && on.type !== name) {
        this.problem(
          'error',
          'value',
          `'${name}' at the start of the expression filters the focus (${on.type}) by type, so it is always empty; patient data is reached through %variables (e.g. an action input)`,
        );
      }
      return typeNamed(name);
    }
    if (!on) return undefined;
    if (isPrimitive(on) && !on.choices) {
      if (on.type.startsWith('System.') || (name !== 'extension' && name !== 'id' && name !== 'value')) {
        this.problem('error', 'not-found', `'${name}' does not exist on ${on.type} (a primitive value)`);
      }
      return undefined;
    }
    const found = memberType(on, name);
    if (!found) {
      const hint = on.choices ? undefined : suggestMember(on, name);
      const owner = on.choices ? `${on.path} (${on.choices.join('|')})` : on.path;
      this.problem('error', 'not-found', `${owner} has no element '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    return found;
  }

  private call(functn: AstNode | undefined, on: ModelType | undefined, outerFocus: ModelType | undefined): ModelType | undefined {
    const name = functn?.children?.[0]?.text ?? '';
    const params = functn?.children?.[1]?.children ?? [];
    if (!FUNCTIONS.has(name)) {
      this.problem('error', 'not-supported', `${name}() is not a FHIRPath function the engine knows`);
      for (const p of params) this.visit(p, undefined, false);
      return undefined;
    }
    if (name === 'ofType' || name === 'as') {
      const typeName = params[0]?.text ?? textOf(params[0]);
      return this.narrow(on, typeName, name);
    }
    if (name === 'is') return undefined;
    const itemFocus = ITEM_FUNCTIONS.has(name) ? (on?.choices ? undefined : on) : outerFocus;
    const paramTypes = params.map((p) => this.visit(p, ITEM_FUNCTIONS.has(name) ? itemFocus : outerFocus, false));
    if (name === 'extension') return typeNamed('Extension');
    if (name === 'select') return paramTypes[0];
    if (SAME_TYPE_FUNCTIONS.has(name)) return on;
    return undefined;
  }
}

function textOf(node: AstNode | undefined): string {
  if (!node) return '';
  if (node.text) return node.text;
  return (node.children ?? []).map(textOf).join('.');
}

/**
 * Takes the expression as the knowledge compiled it (`compiled` throws its syntax error), then
 * type-checks it; returns the problems found.
 */
export function checkFhirPath(expression: string, scope: ExpressionScope, compiled: (text: string) => unknown): ExpressionProblem[] {
  try {
    compiled(expression);
  } catch (err) {
    const message = err instanceof FhirPathSyntaxError ? err.message : String(err);
    return [{ severity: 'error', code: 'invalid', message: `FHIRPath does not parse: ${message.split('\n')[0]}` }];
  }
  const ast = fhirpath.parse(expression) as AstNode;
  const checker = new Checker(scope);
  checker.visit(ast, scope.focus, true);
  return checker.problems;
}
