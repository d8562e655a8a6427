/**
 * Writes a converted FHIRPath result at a resolved path inside a resource or RequestGroup action:
 * creates intermediate objects, fills lists in index order, and keeps one typed variant of a
 * choice element (setting `occurrencePeriod` removes `occurrenceDateTime`).
 */
import { pickChoiceType } from './choice-type.ts';
import { coerceValue } from './coerce-value.ts';
import { choiceTypesOf, lookupElement, typedChoice, type ElementInfo } from './element-model.ts';
import { DynamicValuePathError } from './path-error.ts';
import { resolvePath, type Segment } from './resolve-path.ts';
import { isPlainObject } from './value-shapes.ts';

type Node = Record<string, unknown>;

/** Removes the other typed variants of a choice element (`occurrenceDateTime` when setting `occurrencePeriod`). */
function clearChoiceSiblings(node: Node, info: ElementInfo): void {
  if (!info.choiceBase) return;
  for (const t of choiceTypesOf(info.owner, info.choiceBase)) {
    const name = `${info.choiceBase}${t}`;
    // A resource is a JSON object keyed by element names, not a Map: the variant's key goes.
    if (name !== info.jsonName) {
      Reflect.deleteProperty(node, name);
      Reflect.deleteProperty(node, `_${name}`);
    }
  }
}

function childObject(node: Node, segment: Segment, path: string): Node {
  const { info } = segment;
  clearChoiceSiblings(node, info);
  if (segment.extensionUrl !== undefined) {
    const list = (node['extension'] ??= []) as Node[];
    const matching = list.filter((e) => isPlainObject(e) && e['url'] === segment.extensionUrl);
    const wanted = segment.index ?? 0;
    if (wanted < matching.length) return matching[wanted]!;
    if (wanted > matching.length) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath}[${wanted}] does not exist and indexes must be filled in order`);
    }
    const created: Node = { url: segment.extensionUrl };
    list.push(created);
    return created;
  }
  if (info.repeating) {
    const existing = node[info.jsonName];
    if (existing !== undefined && !Array.isArray(existing)) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath} holds a non-list value where FHIR expects a list`);
    }
    const list = (existing ?? (node[info.jsonName] = [])) as unknown[];
    const wanted = segment.index ?? 0;
    if (wanted < list.length) {
      const item = list[wanted];
      if (!isPlainObject(item)) throw new DynamicValuePathError(`'${path}': ${segment.modelPath}[${wanted}] is not an object`);
      return item;
    }
    if (wanted > list.length) {
      throw new DynamicValuePathError(`'${path}': ${segment.modelPath}[${wanted}] does not exist (the list has ${list.length}) and indexes must be filled in order`);
    }
    const created: Node = {};
    list.push(created);
    return created;
  }
  const existing = node[info.jsonName];
  if (existing === undefined) {
    const created: Node = {};
    node[info.jsonName] = created;
    return created;
  }
  if (!isPlainObject(existing)) throw new DynamicValuePathError(`'${path}': ${segment.modelPath} already holds a non-object value`);
  return existing;
}

/**
 * Sets `values` (a FHIRPath result collection) at `path` inside `target`, whose FHIR type is
 * `baseType` (a resource type like 'ServiceRequest', or a backbone path like 'RequestGroup.action').
 * An empty collection leaves the target untouched. Values are converted and checked before the
 * target is touched, so a rejected value never leaves half-built intermediate objects behind.
 */
export function setValueAtPath(target: Record<string, unknown>, baseType: string, path: string, values: unknown[]): void {
  const segments = resolvePath(baseType, path);
  if (values.length === 0) return;
  const last = segments[segments.length - 1]!;

  // An `extension('url')` at the end means its value[x].
  let finalInfo = last.info;
  let finalPath = last.modelPath;
  const extensionValue = last.extensionUrl !== undefined;
  if (extensionValue && !(values.length === 1 && isPlainObject(values[0]) && values[0]['url'] === last.extensionUrl)) {
    finalInfo = lookupElement('Extension', 'value')!;
    finalPath = `${last.modelPath}.value`;
  }
  if (finalInfo.choiceTypes) {
    const types = finalInfo.choiceTypes;
    const suffixes = new Set(values.map((v) => pickChoiceType(v, types, finalPath)));
    if (suffixes.size > 1) throw new DynamicValuePathError(`'${path}': the values have different types (${[...suffixes].join(', ')}) for one choice element ${finalPath}[x]`);
    finalInfo = typedChoice(finalInfo, [...suffixes][0]!);
    finalPath = finalPath.replace(/[^.]+$/, finalInfo.jsonName);
  }
  const repeating = finalInfo.repeating && !(extensionValue && finalInfo !== last.info);
  const atIndex = finalInfo === last.info ? last.index : undefined;
  if ((!repeating || atIndex !== undefined) && values.length > 1) {
    throw new DynamicValuePathError(`'${path}': ${finalPath}${atIndex !== undefined ? `[${atIndex}]` : ''} holds one value but the expression returned ${values.length}`);
  }
  const converted = values.map((v) => coerceValue(v, finalInfo.type, finalPath));

  let node: Node = target;
  const walk = extensionValue && finalInfo !== last.info ? segments : segments.slice(0, -1);
  for (const segment of walk) node = childObject(node, segment, path);
  if (walk.length === segments.length) {
    // Writing the value[x] of an extension reached above.
    for (const key of Object.keys(node)) if (key.startsWith('value')) Reflect.deleteProperty(node, key);
    node[finalInfo.jsonName] = converted[0];
    return;
  }
  clearChoiceSiblings(node, finalInfo);
  if (last.extensionUrl !== undefined) {
    // A whole Extension object replaces (or adds) the one with that url.
    const list = (node['extension'] ??= []) as Node[];
    const at = list.findIndex((e) => isPlainObject(e) && e['url'] === last.extensionUrl);
    if (at >= 0) list[at] = converted[0] as Node;
    else list.push(converted[0] as Node);
    return;
  }
  if (!repeating) {
    node[finalInfo.jsonName] = converted[0];
    return;
  }
  const existing = node[finalInfo.jsonName];
  if (existing !== undefined && !Array.isArray(existing)) {
    throw new DynamicValuePathError(`'${path}': ${finalPath} holds a non-list value where FHIR expects a list`);
  }
  const list = (existing ?? (node[finalInfo.jsonName] = [])) as unknown[];
  if (atIndex === undefined) {
    list.push(...converted);
  } else if (atIndex <= list.length) {
    list[atIndex] = converted[0];
  } else {
    throw new DynamicValuePathError(`'${path}': ${finalPath}[${atIndex}] does not exist (the list has ${list.length}) and indexes must be filled in order`);
  }
}
