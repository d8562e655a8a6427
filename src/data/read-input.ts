/**
 * Patient data as it arrives at the CLI: a Bundle (any type), a JSON array of resources, NDJSON
 * (one resource per line, as FHIR Bulk Data exports it) or a single resource. Parsed and checked
 * at this trust boundary; every problem names the source and the line or entry it is on.
 */
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { R4_MODEL } from '../fhirpath/fhirpath-engine.ts';
import type { EntryInfo } from './patient-compartment.ts';
import { recordShapeProblems } from './resource-shape.ts';

const type2Parent = (R4_MODEL as unknown as { type2Parent: Record<string, string> }).type2Parent;

/** R4 resource types: the model's types whose ancestry reaches Resource. */
const RESOURCE_TYPES: ReadonlySet<string> = new Set(
  Object.keys(type2Parent).filter((type) => {
    for (let t: string | undefined = type; t; t = type2Parent[t]) if (t === 'Resource') return true;
    return false;
  }),
);

export function isR4ResourceType(type: string): boolean {
  return RESOURCE_TYPES.has(type) && type !== 'DomainResource';
}

const ResourceSchema = z.looseObject({
  resourceType: z.string().refine(isR4ResourceType, { error: (iss) => `'${String(iss.input)}' is not an R4 resource type` }),
  id: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'id must be 1-64 of A-Z a-z 0-9 - .')
    .optional(),
});

export interface InputProblem {
  /** Where, e.g. `Observation.ndjson:17` or `bundle.json entry[3]`. */
  location: string;
  message: string;
}

function problemError(source: string, problems: InputProblem[]): OperationOutcomeError {
  return new OperationOutcomeError(outcome(...problems.map((p) => issue('error', 'structure', `${p.location}: ${p.message}`, [p.location]))));
}

function checkResource(value: unknown, location: string, problems: InputProblem[]): Resource | undefined {
  const parsed = ResourceSchema.safeParse(value);
  if (parsed.success) return parsed.data as unknown as Resource;
  const first = parsed.error.issues[0];
  const where = first?.path.length ? ` (${first.path.join('.')})` : '';
  const message =
    typeof value !== 'object' || value === null || Array.isArray(value)
      ? 'not a FHIR resource (expected a JSON object with resourceType)'
      : `${first?.message ?? 'invalid resource'}${where}`;
  problems.push({ location, message });
  return undefined;
}

/** Parses one NDJSON line; undefined for blank lines. Shared with the batch reader. */
export function parseNdjsonLine(line: string, location: string, problems: InputProblem[]): Resource | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    problems.push({ location, message: `malformed JSON (${(err as Error).message})` });
    return undefined;
  }
  return checkResource(value, location, problems);
}

function fromDocument(value: unknown, source: string, problems: InputProblem[], entries: Map<Resource, EntryInfo>): Resource[] {
  const out: Resource[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const location = `${source} [${i}]`;
      const r = checkResource(item, location, problems);
      if (!r) return;
      out.push(r);
      entries.set(r, { location });
    });
    return out;
  }
  const r = checkResource(value, source, problems);
  if (!r) return out;
  if (r.resourceType !== 'Bundle') return [r];
  if (r.entry !== undefined && !Array.isArray(r.entry)) {
    problems.push({ location: source, message: 'Bundle.entry: expected a list of entries' });
    return out;
  }
  // Untrusted in shape: a null entry is skipped, not dereferenced.
  (r.entry ?? ([] as (BundleEntry | null | undefined)[])).forEach((entry: BundleEntry | null | undefined, i) => {
    if (entry?.resource === undefined) return;
    const location = `${source} entry[${i}]`;
    const inner = checkResource(entry.resource, location, problems);
    if (!inner) return;
    out.push(inner);
    // The fullUrl is kept: references to the Patient by `urn:uuid:` resolve through it (SAFE-1).
    const info: EntryInfo = { location, expression: `Bundle.entry[${i}].resource` };
    if (typeof entry.fullUrl === 'string') info.fullUrl = entry.fullUrl;
    entries.set(inner, info);
  });
  return out;
}

export interface ParsedInput {
  resources: Resource[];
  /** Where each resource is in the input, and its Bundle entry's fullUrl. */
  entries: Map<Resource, EntryInfo>;
}

/**
 * Every resource in `text` as JSON resources, without the shape check of `parseInput`: for
 * `validate`, whose job is to report what is wrong with them as findings.
 */
export function parseResources(text: string, source: string): Resource[] {
  return parseInput(text, source, { checkShapes: false }).resources;
}

/**
 * Every resource in `text`, with where it is. A document that is not valid JSON as a whole but has
 * several lines is read as NDJSON. Throws one OperationOutcomeError listing every problem, so a
 * file is either accepted whole or rejected whole.
 */
export function parseInput(text: string, source: string, options: { checkShapes?: boolean } = {}): ParsedInput {
  const problems: InputProblem[] = [];
  const entries = new Map<Resource, EntryInfo>();
  const trimmed = text.trim();
  if (trimmed === '') throw problemError(source, [{ location: source, message: 'no data (empty input)' }]);
  let resources: Resource[];
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(trimmed);
  } catch (err) {
    wholeError = err as Error;
  }
  if (!wholeError) {
    resources = fromDocument(whole, source, problems, entries);
  } else if (trimmed.startsWith('{') && trimmed.includes('\n')) {
    resources = [];
    trimmed.split('\n').forEach((line, i) => {
      const location = `${source}:${i + 1}`;
      const r = parseNdjsonLine(line, location, problems);
      if (!r) return;
      resources.push(r);
      entries.set(r, { location });
    });
  } else {
    throw problemError(source, [{ location: source, message: `malformed JSON (${wholeError.message})` }]);
  }
  // The shape of every resource, before SAFE-1 or the engine reads a reference or a code in it.
  if (!problems.length && options.checkShapes !== false) {
    for (const p of recordShapeProblems(resources)) {
      problems.push({ location: entries.get(resources[p.index]!)?.location ?? source, message: `${p.expression}: ${p.message}` });
    }
  }
  if (problems.length) throw problemError(source, problems);
  return { resources, entries };
}
