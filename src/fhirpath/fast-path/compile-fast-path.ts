/**
 * The FHIRPath fast path: an expression whose every node is in the supported subset is compiled,
 * once, into nested JS closures. fhirpath.js interprets its syntax tree on every evaluation (a
 * dispatch by node type, a context clone and a parameter wrapper per function call, an invocation
 * table lookup by name); here all of that is decided at compile time.
 *
 * fhirpath.js stays the reference, and the fast path is built so that it cannot become a second
 * semantics:
 * - navigation, variables and results go through fhirpath.js's own ResourceNode and
 *   makeChildResNodes (choice types, `_element` data, the R4 model's types), and every function
 *   and operator calls the library's own implementation with the argument conventions of its
 *   invocation table (Expr parameters as lambdas, singleton conversion, empty propagation);
 * - what the subset leaves out is refused at compile (the reason is kept for lint), and anything
 *   unusual at evaluation time - an error of any kind, a focus that is not a resource, an
 *   undefined variable - makes the caller evaluate with fhirpath.js instead, so errors and their
 *   messages are always fhirpath.js's.
 */
import fhirpath from 'fhirpath/src/fhirpath.js';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import {
  aggregate,
  collections,
  combining,
  equality,
  existence,
  filtering,
  logic,
  math,
  misc,
  singleton,
  strings,
  types,
  util,
  type Collection,
  type FhirPathContext,
  type LibraryFunction,
  type PathInfo,
  type ResourceNodeShape,
} from './fhirpath-internals.ts';

/** A compiled node: its result for an input collection, in one evaluation's frame. */
type Step = (input: Collection, frame: Frame) => Collection;

interface Frame {
  ctx: FhirPathContext;
  /** `$this`: the item an Expr parameter is evaluated for, else the evaluation's root. */
  self: Collection;
}

/** How a library function takes a parameter (fhirpath.js's invocation table notation). */
type ParamKind = 'Expr' | 'Any' | 'AnyAtRoot' | 'TypeSpecifier' | 'Integer' | 'String' | 'Boolean' | ['Boolean'];

interface LibraryEntry {
  fn: LibraryFunction;
  /** Parameter kinds by number of parameters; absent = takes none. */
  arity?: Record<number, ParamKind[]>;
  nullable?: boolean;
}

function entry(fn: LibraryFunction | undefined, arity?: Record<number, ParamKind[]>, nullable?: boolean): LibraryEntry {
  if (!fn) throw new Error('fhirpath.js no longer provides a function the fast path was built on');
  const e: LibraryEntry = { fn };
  if (arity) e.arity = arity;
  if (nullable) e.nullable = true;
  return e;
}

/** The supported functions: each is fhirpath.js's implementation with its invocation-table entry. */
const FUNCTIONS: Record<string, LibraryEntry> = {
  empty: entry(existence['emptyFn']),
  not: entry(existence['notFn']),
  exists: entry(existence['existsMacro'], { 0: [], 1: ['Expr'] }),
  all: entry(existence['allMacro'], { 1: ['Expr'] }),
  count: entry(aggregate['countFn']),
  where: entry(filtering['whereMacro'], { 1: ['Expr'] }),
  select: entry(filtering['selectMacro'], { 1: ['Expr'] }),
  first: entry(filtering['firstFn']),
  last: entry(filtering['lastFn']),
  ofType: entry(filtering['ofTypeFn'], { 1: ['TypeSpecifier'] }),
  min: entry(aggregate['minFn']),
  max: entry(aggregate['maxFn']),
  iif: entry(misc['iifMacro'], { 2: ['Expr', 'Expr'], 3: ['Expr', 'Expr', 'Expr'] }),
  // eslint-disable-next-line @typescript-eslint/unbound-method -- misc is fhirpath.js's function table; its toString entry is the FHIRPath function, called with the context as this
  toString: entry(misc['toString']),
  toDate: entry(misc['toDate']),
  toDateTime: entry(misc['toDateTime']),
  substring: entry(strings['substring'], { 1: ['Integer'], 2: ['Integer', 'Integer'] }),
  startsWith: entry(strings['startsWith'], { 1: ['String'] }),
};

/** The supported operators, by the parser's operator text. */
const OPERATORS: Record<string, LibraryEntry> = {
  '|': entry(combining['union'], { 2: ['Any', 'Any'] }),
  '=': entry(equality['equal'], { 2: ['Any', 'Any'] }, true),
  '!=': entry(equality['unequal'], { 2: ['Any', 'Any'] }, true),
  '<': entry(equality['lt'], { 2: ['Any', 'Any'] }, true),
  '>': entry(equality['gt'], { 2: ['Any', 'Any'] }, true),
  '<=': entry(equality['lte'], { 2: ['Any', 'Any'] }, true),
  '>=': entry(equality['gte'], { 2: ['Any', 'Any'] }, true),
  in: entry(collections['in'], { 2: ['Any', 'Any'] }),
  contains: entry(collections['contains'], { 2: ['Any', 'Any'] }),
  '+': entry(math['plus'], { 2: ['Any', 'Any'] }, true),
  '-': entry(math['minus'], { 2: ['Any', 'Any'] }, true),
  or: entry(logic['orOp'], { 2: [['Boolean'], ['Boolean']] }),
  and: entry(logic['andOp'], { 2: [['Boolean'], ['Boolean']] }),
  xor: entry(logic['xorOp'], { 2: [['Boolean'], ['Boolean']] }),
  implies: entry(logic['impliesOp'], { 2: [['Boolean'], ['Boolean']] }),
};

/** The clock functions the project replaces (see fhirpath-engine.ts): they read the injected %now / %today. */
const CLOCK_FUNCTIONS: Record<string, string | undefined> = { today: 'today', now: 'now' };

const OPERATOR_NODES = new Set([
  'EqualityExpression',
  'InequalityExpression',
  'AdditiveExpression',
  'MembershipExpression',
  'AndExpression',
  'OrExpression',
  'XorExpression',
  'ImpliesExpression',
  'UnionExpression',
]);

/** Variables fhirpath.js defines itself; an expression naming one (not given by the caller) runs on fhirpath.js. */
const LIBRARY_VARIABLES = new Set(['ucum', 'context', 'factory', 'terminologies', 'fhirServerUrl']);

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
  atRoot?: number;
  value?: unknown;
  unit?: string;
}

/** Why an expression is not compiled (the node or function outside the subset). */
export class Unsupported extends Error {}

function children(node: AstNode): AstNode[] {
  return node.children ?? [];
}

function child(node: AstNode, i = 0): AstNode {
  const c = node.children?.[i];
  if (!c) throw new Unsupported(`${node.type} without its operand`);
  return c;
}

const IDENTIFIER = /^[a-z][A-Za-z0-9_]*$/;
const PLAIN_STRING = /^'([^'\\]*)'$/;

function compileNode(node: AstNode): Step {
  switch (node.type) {
    case 'EntireExpression':
    case 'TermExpression':
    case 'InvocationTerm':
    case 'ParenthesizedTerm':
      if (children(node).length !== 1) throw new Unsupported(`${node.type} with ${children(node).length} children`);
      return compileNode(child(node));
    case 'InvocationExpression': {
      const steps = children(node).map(compileNode);
      return (input, frame) => {
        let result = input;
        for (const step of steps) result = step(result, frame);
        return result;
      };
    }
    case 'LiteralTerm':
      return compileLiteral(child(node));
    case 'ExternalConstantTerm':
      return compileVariable(node);
    case 'ThisInvocation':
      return (_input, frame) => frame.self;
    case 'MemberInvocation':
      return compileMember(node);
    case 'FunctionInvocation':
      return compileFunction(child(node));
    default:
      if (OPERATOR_NODES.has(node.type)) return compileOperator(node);
      throw new Unsupported(`${node.type} (${node.text ?? ''}) is not in the fast path's subset`);
  }
}

function compileLiteral(node: AstNode): Step {
  switch (node.type) {
    case 'NullLiteral':
      return () => [];
    case 'BooleanLiteral': {
      const value = node.text === 'true';
      return () => [value];
    }
    case 'StringLiteral': {
      const plain = PLAIN_STRING.exec(node.text ?? '');
      if (!plain) throw new Unsupported(`string literal with escapes: ${node.text ?? ''}`);
      const value = plain[1];
      return () => [value];
    }
    case 'NumberLiteral': {
      const text = node.text ?? '';
      if (!/^\d+$/.test(text)) throw new Unsupported(`number literal ${text} (only integers)`);
      return (_input, frame) => [frame.ctx.getDecimal(text)];
    }
    case 'QuantityLiteral': {
      const { value, unit } = node;
      if (typeof value !== 'string' && typeof value !== 'number') throw new Unsupported(`quantity literal ${node.text ?? ''}`);
      return (_input, frame) => [new types.FP_Quantity(frame.ctx, frame.ctx.getDecimal(value), unit)];
    }
    default:
      throw new Unsupported(`${node.type} literal (${node.text ?? ''})`);
  }
}

function identifierOf(node: AstNode): string {
  const text = node.text ?? '';
  if (!IDENTIFIER.test(text)) throw new Unsupported(`name '${text}' (type names, delimited names and $-names stay on fhirpath.js)`);
  return text;
}

/** Makes the ResourceNode fhirpath.js makes for a variable's item (ExternalConstantTerm). */
function variableItem(ctx: FhirPathContext, item: unknown): unknown {
  const info = (item as { __path__?: PathInfo } | null | undefined)?.__path__;
  if (info) return types.ResourceNode.makeResNode(info.ctx, item, info.parentResNode, info.path, null, info.fhirNodeDataType);
  if ((item as { resourceType?: unknown } | null | undefined)?.resourceType) return types.ResourceNode.makeResNode(ctx, item, null, null, null, null);
  return item;
}

function compileVariable(node: AstNode): Step {
  const name = identifierOf(child(child(node)));
  if (LIBRARY_VARIABLES.has(name)) throw new Unsupported(`%${name} is defined by fhirpath.js`);
  // fhirpath.js wraps a variable's items once per evaluation (processedVars); so does this step, for
  // the evaluation whose context it saw last (evaluations are synchronous and each has its own).
  let seen: FhirPathContext | undefined;
  let wrapped: Collection = [];
  return (_input, frame) => {
    const { ctx } = frame;
    if (ctx === seen) return wrapped;
    const raw = ctx.vars[name];
    if (raw === undefined && !(name in ctx.vars)) throw HAND_BACK;
    const value = Array.isArray(raw) ? raw.map((item) => variableItem(ctx, item)) : variableItem(ctx, raw);
    wrapped = value === undefined || value === null ? [] : Array.isArray(value) ? (value as Collection) : [value];
    seen = ctx;
    return wrapped;
  };
}

function compileMember(node: AstNode): Step {
  const key = identifierOf(child(node));
  return (input, frame) => {
    const result: unknown[] = [];
    for (const item of input) {
      const info = (item as { __path__?: PathInfo } | null | undefined)?.__path__;
      const res = types.ResourceNode.makeResNode(frame.ctx, item, null, info?.path, null, info?.fhirNodeDataType);
      // fhirpath.js returns a resource itself for its own type name; a lower-case name never is one,
      // but malformed data may say anything.
      if ((res.data as { resourceType?: unknown } | null | undefined)?.resourceType === key) {
        result.push(res);
        continue;
      }
      for (const c of util.makeChildResNodes(frame.ctx, res, key, r4Model)) result.push(c);
    }
    return result;
  };
}

function compileParams(kinds: ParamKind[], nodes: AstNode[]): ((input: Collection, frame: Frame) => unknown)[] {
  return nodes.map((node, i) => {
    const kind = kinds[i];
    if (kind === 'TypeSpecifier') {
      const name = node.text ?? '';
      if (!/^[A-Za-z]+$/.test(name)) throw new Unsupported(`type specifier ${name}`);
      const typeInfo = new types.TypeInfo({ name });
      if (!typeInfo.isValid(r4Model)) throw new Unsupported(`"${name}" is not a type of the R4 model`);
      return () => typeInfo;
    }
    const step = compileNode(node);
    if (kind === 'Expr') {
      return (_input, frame) => (data: unknown) => {
        const self = util.arraify(data);
        return step(self, { ctx: frame.ctx, self });
      };
    }
    if (kind === 'Any' || kind === 'AnyAtRoot') return (_input, frame) => step(frame.self, frame);
    if (Array.isArray(kind)) {
      const [type] = kind;
      return (_input, frame) => {
        const result = step(frame.self, frame);
        return result.length === 0 ? [] : singleton(result, type);
      };
    }
    if (kind === 'Integer' || kind === 'String' || kind === 'Boolean') return (_input, frame) => singleton(step(frame.self, frame), kind);
    throw new Unsupported(`parameter kind ${String(kind)}`);
  });
}

function isNullable(x: unknown): boolean {
  return x === null || x === undefined || util.isEmpty(x);
}

function compileFunction(functn: AstNode): Step {
  const name = identifierOf(child(functn));
  const paramNodes = functn.children?.[1]?.children ?? [];
  const clock = Object.hasOwn(CLOCK_FUNCTIONS, name) ? CLOCK_FUNCTIONS[name] : undefined;
  if (clock) {
    if (paramNodes.length) throw new Unsupported(`${name}() takes no parameters`);
    return (_input, frame) => {
      const value = frame.ctx.vars[clock];
      if (value === undefined) throw HAND_BACK;
      return [value];
    };
  }
  const library = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (!library) throw new Unsupported(`function ${name}() is not in the fast path's subset`);
  const { fn, arity } = library;
  if (!arity) {
    if (paramNodes.length) throw new Unsupported(`${name}() takes no parameters`);
    return (input, frame) => util.resolveAndArraify(fn.call(frame.ctx, input));
  }
  const kinds = arity[paramNodes.length];
  if (!kinds) throw new Unsupported(`${name}() with ${paramNodes.length} parameters`);
  const params = compileParams(kinds, paramNodes);
  return (input, frame) => {
    const args: unknown[] = [input];
    for (const param of params) args.push(param(input, frame));
    if (library.nullable && args.slice(1).some(isNullable)) return [];
    return util.resolveAndArraify(fn.apply(frame.ctx, args));
  };
}

function compileOperator(node: AstNode): Step {
  const op = node.text ?? '';
  const library = Object.hasOwn(OPERATORS, op) ? OPERATORS[op] : undefined;
  const kinds = library?.arity?.[2];
  if (!library || !kinds) throw new Unsupported(`operator ${op} is not in the fast path's subset`);
  const params = compileParams(kinds, [child(node, 0), child(node, 1)]);
  const [left, right] = params;
  if (!left || !right || children(node).length !== 2) throw new Unsupported(`operator ${op} without two operands`);
  const { fn, nullable } = library;
  return (input, frame) => {
    const a = left(input, frame);
    const b = right(input, frame);
    if (nullable && (isNullable(a) || isNullable(b))) return [];
    return util.arraify(fn.call(frame.ctx, a, b));
  };
}

/** What an evaluation returns when fhirpath.js must decide (an unusual input, or an error). */
const BAIL = Symbol('evaluate with fhirpath.js');

/** Thrown inside an evaluation to stop it and return BAIL (one instance: no stack is captured per use). */
class HandBack extends Error {}
const HAND_BACK = new HandBack('evaluate with fhirpath.js');

function newContext(dataRoot: Collection, vars: Record<string, unknown>): FhirPathContext {
  return {
    vars,
    instanceSelectorTypeByData: null,
    model: r4Model,
    dataRoot,
    processedVars: {},
    getDecimal: types.FP_Decimal_Native.getDecimal,
  };
}

/** fhirpath.js's prepareEvalResult with resolveInternalTypes on (the project's setting). */
function prepareResult(result: Collection): unknown[] {
  const out: unknown[] = [];
  for (const item of result) {
    let value: unknown = item;
    let info: PathInfo | undefined;
    if (item instanceof types.ResourceNode) {
      info = { ctx: item.ctx, path: item.path, fhirNodeDataType: item.fhirNodeDataType, parentResNode: item.parentResNode, propName: item.propName, index: item.index };
      value = item.data;
    }
    if (value instanceof types.FP_Type) value = value.toJSON();
    else if (typeof value === 'bigint') value = value.toString();
    if (value === null || value === undefined) continue;
    if (info?.path && typeof value === 'object' && !(value as { __path__?: unknown }).__path__) {
      Object.defineProperty(value, '__path__', { value: info });
    }
    out.push(value);
  }
  return out;
}

/** The value of an expression that is one Boolean, plain string or integer literal. */
function constantOf(ast: AstNode): string | number | boolean | undefined {
  let node = ast;
  while (node.children?.length === 1 && ['EntireExpression', 'TermExpression', 'LiteralTerm'].includes(node.type)) node = node.children[0] as AstNode;
  const text = node.text ?? '';
  if (node.type === 'BooleanLiteral') return text === 'true';
  if (node.type === 'StringLiteral') return PLAIN_STRING.exec(text)?.[1];
  if (node.type === 'NumberLiteral' && /^\d{1,9}$/.test(text)) return Number(text);
  return undefined;
}

/** A resource as the engine passes its focus: an object whose resourceType is a type name. */
function isResource(value: unknown): value is { resourceType: string; __path__?: PathInfo } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const type = (value as { resourceType?: unknown }).resourceType;
  return typeof type === 'string' && /^[A-Z]/.test(type);
}

/** fhirpath.js's root for a focus (applyParsedPath without a base path). */
function rootOf(ctx: FhirPathContext, focus: { __path__?: PathInfo }): ResourceNodeShape {
  const info = focus.__path__;
  return info
    ? types.ResourceNode.makeResNode(info.ctx, focus, info.parentResNode, info.path, null, info.fhirNodeDataType, info.propName, info.index)
    : types.ResourceNode.makeResNode(ctx, focus, null, null, null, null);
}

export type FastEvaluator = (focus: unknown, vars: Record<string, unknown>) => unknown[] | typeof BAIL;

export { BAIL };

/**
 * Compiles `expression` for the fast path, or throws Unsupported with the reason. The evaluator
 * returns BAIL where fhirpath.js must decide (see the file comment); it never throws.
 */
export function compileFastPath(expression: string): FastEvaluator {
  let ast: AstNode;
  try {
    ast = fhirpath.parse(expression) as AstNode;
  } catch {
    throw new Unsupported('does not parse');
  }
  const root = compileNode(ast);
  const constant = constantOf(ast);
  // A bare literal (`true`, `'http://loinc.org'`) reads neither focus nor variables: its value, as
  // fhirpath.js gives it, without an evaluation.
  if (constant !== undefined) return () => [constant];
  return (focus, vars) => {
    // A focus that is not a resource could match a member name as its type (fhirpath.js's
    // root-level type check), which the compiled member step does not do.
    if (focus !== undefined && focus !== null && !isResource(focus)) return BAIL;
    try {
      const ctx = newContext([], vars);
      const dataRoot: Collection = focus === undefined || focus === null ? [] : [rootOf(ctx, focus)];
      ctx.dataRoot = dataRoot;
      ctx.processedVars = { ucum: 'http://unitsofmeasure.org', context: dataRoot };
      const result = root(dataRoot, { ctx, self: dataRoot });
      if ((result as unknown) instanceof Promise) return BAIL;
      return prepareResult(result);
    } catch {
      return BAIL;
    }
  };
}
