/**
 * A dynamicValue path resolved against the R4 model, before anything is written: each segment
 * names the element it reaches, its index and (for `extension('url')`) the extension url. Paths
 * that name no element, index a non-repeating element or stop inside a choice without a type are
 * rejected here, so a bad path never leaves half-built objects in a request.
 */
import { parseSimplePath, SimplePathSyntaxError, type SimplePathStep } from '../../fhirpath/simple-path.ts';
import { BoundedCache } from '../../util/bounded-cache.ts';
import { choiceSuffix, isPrimitiveType, lookupElement, typedChoice, type ElementInfo } from './element-model.ts';
import { DynamicValuePathError } from './path-error.ts';

export interface Segment {
  info: ElementInfo;
  index?: number;
  /** Set for `extension('url')` segments. */
  extensionUrl?: string;
  /** Printable model path up to and including this segment. */
  modelPath: string;
}

const resolvedPaths = new BoundedCache<string, readonly Segment[] | DynamicValuePathError>(20_000);

/**
 * The segments of `path` below `baseType`, or the DynamicValuePathError it raises; memoised because
 * each dynamicValue of each apply resolves its path (twice: check, then write). Segments are never
 * mutated after resolution.
 */
export function resolvePath(baseType: string, path: string): readonly Segment[] {
  const key = `${baseType} ${path}`;
  let resolved = resolvedPaths.get(key);
  if (resolved === undefined) {
    try {
      resolved = resolvePathInModel(baseType, path);
    } catch (err) {
      if (!(err instanceof DynamicValuePathError)) throw err;
      resolved = err;
    }
    resolvedPaths.set(key, resolved);
  }
  if (resolved instanceof DynamicValuePathError) throw resolved;
  return resolved;
}

/** The parser's syntax error is a path error like any other: reported as `invalid`, memoised. */
function parseSteps(path: string): SimplePathStep[] {
  try {
    return parseSimplePath(path);
  } catch (err) {
    if (err instanceof SimplePathSyntaxError) throw new DynamicValuePathError(err.message);
    throw err;
  }
}

function resolvePathInModel(baseType: string, path: string): Segment[] {
  const steps = parseSteps(path);
  const segments: Segment[] = [];
  let owner = baseType;
  let printable = baseType;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    let segment: Segment;
    if (step.kind === 'name') {
      const info = lookupElement(owner, step.name);
      if (!info) throw new DynamicValuePathError(`'${path}': ${owner} has no element '${step.name}' in FHIR R4`);
      segment = { info, modelPath: `${printable}.${step.name}` };
    } else if (step.kind === 'extension') {
      if (isPrimitiveType(owner)) {
        throw new DynamicValuePathError(`'${path}': extensions on primitive values (${printable}) are not supported`);
      }
      const info: ElementInfo = { jsonName: 'extension', type: 'Extension', repeating: true, owner };
      segment = { info, extensionUrl: step.url, modelPath: `${printable}.extension('${step.url}')` };
    } else {
      throw new DynamicValuePathError(`'${path}': ${step.kind === 'index' ? 'an indexer' : 'ofType()'} must follow an element name`);
    }
    // Modifiers that follow the element: ofType() and at most one indexer, in either order.
    while (i + 1 < steps.length && steps[i + 1]!.kind !== 'name' && steps[i + 1]!.kind !== 'extension') {
      const modifier = steps[++i]!;
      if (modifier.kind === 'index') {
        if (segment.index !== undefined) throw new DynamicValuePathError(`'${path}': two indexers in a row`);
        if (!segment.info.repeating && modifier.index !== 0) {
          throw new DynamicValuePathError(`'${path}': ${segment.modelPath} does not repeat, so [${modifier.index}] can never exist`);
        }
        segment.index = modifier.index;
      } else if (modifier.kind === 'ofType') {
        const { info } = segment;
        if (info.choiceTypes) {
          const suffix = choiceSuffix(modifier.type, info.choiceTypes);
          if (!suffix) {
            throw new DynamicValuePathError(`'${path}': ${segment.modelPath} cannot be of type ${modifier.type} (allowed: ${info.choiceTypes.join(', ')})`);
          }
          segment.info = typedChoice(info, suffix);
          segment.modelPath = segment.modelPath.replace(/[^.]+$/, segment.info.jsonName);
        } else if (info.type.replace(/^System\./, '').toLowerCase() !== modifier.type.replace(/^(FHIR|System)\./, '').toLowerCase()) {
          throw new DynamicValuePathError(`'${path}': ${segment.modelPath} is of type ${info.type}, not ${modifier.type}`);
        }
      }
    }
    const last = i === steps.length - 1;
    if (!last && segment.info.choiceTypes) {
      throw new DynamicValuePathError(
        `'${path}': ${segment.modelPath} is a choice element; say which type with ofType() or the typed name (e.g. ${segment.info.jsonName}${segment.info.choiceTypes[0]})`,
      );
    }
    if (!last && isPrimitiveType(segment.info.type)) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath} is a primitive (${segment.info.type}) and has no child elements to set`);
    }
    segments.push(segment);
    owner = segment.info.type;
    printable = segment.modelPath;
  }
  return segments;
}
