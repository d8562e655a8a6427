/**
 * What the dynamicValue setter needs to know about an R4 element: its JSON name, its type, whether
 * it repeats and, for a choice element, which typed variants it has. Read from the R4 model that
 * fhirpath.js evaluates with, so the setter writes exactly the shapes the evaluator reads back.
 */
import { R4_MODEL } from '../../fhirpath/fhirpath-engine.ts';
import { BoundedCache } from '../../util/bounded-cache.ts';
import { DynamicValuePathError } from './path-error.ts';

export interface ElementInfo {
  /** JSON property name, e.g. `occurrencePeriod`. */
  jsonName: string;
  /** FHIR type name (`Period`, `dateTime`) or, for backbone elements, their path (`Timing.repeat`). */
  type: string;
  repeating: boolean;
  /** For a choice element named without its type: the allowed type suffixes (`DateTime`, `Period`). */
  choiceTypes?: string[];
  /** For a choice element (typed or not): its base name, e.g. `occurrence`. */
  choiceBase?: string;
  /** The owner type path the element was found on (for finding sibling choice variants). */
  owner: string;
}

const model = R4_MODEL;

function parentOf(type: string): string | undefined {
  if (type.includes('.')) return 'BackboneElement';
  return model.type2Parent[type];
}

/** typed choice name path (e.g. `ServiceRequest.occurrencePeriod`) -> its base and types. */
const TYPED_CHOICES = new Map<string, { base: string; types: string[] }>();
for (const [path, types] of Object.entries(model.choiceTypePaths)) {
  const base = path.slice(path.lastIndexOf('.') + 1);
  for (const t of types) TYPED_CHOICES.set(`${path}${t}`, { base, types });
}

const elementInfos = new BoundedCache<string, ElementInfo | null>(20_000);

/** The model's element `owner.name` (searching the owner's ancestors); memoised, the model never changes. */
export function lookupElement(owner: string, name: string): ElementInfo | undefined {
  const key = `${owner} ${name}`;
  let info = elementInfos.get(key);
  if (info === undefined) elementInfos.set(key, (info = lookupElementInModel(owner, name) ?? null));
  return info ?? undefined;
}

function lookupElementInModel(owner: string, name: string): ElementInfo | undefined {
  for (let t: string | undefined = owner; t; t = parentOf(t)) {
    const key = `${t}.${name}`;
    const elsewhere = model.pathsDefinedElsewhere[key];
    if (elsewhere) {
      return { jsonName: name, type: elsewhere, repeating: Boolean(model.path2Repeating[key] ?? model.path2Repeating[elsewhere]), owner: t };
    }
    const choiceTypes = model.choiceTypePaths[key];
    if (choiceTypes) {
      return { jsonName: name, type: '', repeating: Boolean(model.path2Repeating[key]), choiceTypes, choiceBase: name, owner: t };
    }
    const type = model.path2Type[key];
    if (type) {
      const typed = TYPED_CHOICES.get(key);
      const info: ElementInfo = {
        jsonName: name,
        type: type === 'BackboneElement' || type === 'Element' ? key : type,
        repeating: Boolean(model.path2Repeating[key]),
        owner: t,
      };
      if (typed) info.choiceBase = typed.base;
      return info;
    }
  }
  return undefined;
}

/** `ofType(FHIR.Period)` / `ofType(dateTime)` -> the matching suffix in `types` (`Period`, `DateTime`). */
export function choiceSuffix(typeName: string, types: readonly string[]): string | undefined {
  const bare = typeName.replace(/^(FHIR|System)\./, '').toLowerCase();
  return types.find((t) => t.toLowerCase() === bare);
}

export function typedChoice(info: ElementInfo, suffix: string): ElementInfo {
  const typedName = `${info.choiceBase}${suffix}`;
  const resolved = lookupElement(info.owner, typedName);
  if (!resolved) throw new DynamicValuePathError(`the R4 model has no element ${info.owner}.${typedName}`);
  return resolved;
}

export function isPrimitiveType(type: string): boolean {
  return type.startsWith('System.') || /^[a-z]/.test(type);
}

/** The typed variants of the choice element `base` on `owner` (`DateTime`, `Period` for ServiceRequest.occurrence). */
export function choiceTypesOf(owner: string, base: string): readonly string[] {
  return model.choiceTypePaths[`${owner}.${base}`] ?? [];
}
