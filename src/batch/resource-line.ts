/**
 * Phase 2's reading of one input line: the line's resource, or the problem the single-resource
 * reader (parseNdjsonLine) reports for it - word for word, because a line the partition routed by
 * its byte scan was never checked there, and its failure must read exactly as if it had been.
 * Good lines cost one JSON.parse and a few property checks; only bad ones go through the reader.
 */
import type { Resource } from '@medplum/fhirtypes';
import { isR4ResourceType, parseNdjsonLine, type InputProblem } from '../data/read-input.ts';

/** The reader's id rule (src/data/read-input.ts). */
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * True only for values the reader's schema accepts: an object with an R4 resourceType and, if any,
 * a well-formed id. It may be stricter than the schema, never looser (a test holds it to that);
 * when it says no, the reader itself decides.
 */
function plainlyValid(value: unknown): value is Resource {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { resourceType, id } = value as { resourceType?: unknown; id?: unknown };
  return typeof resourceType === 'string' && isR4ResourceType(resourceType) && (id === undefined || (typeof id === 'string' && ID.test(id)));
}

/** The reader's problem with `text`, or undefined if it accepts it. */
function readerProblem(text: string): string | undefined {
  const problems: InputProblem[] = [];
  if (parseNdjsonLine(text, '', problems)) return undefined;
  return problems[0]?.message ?? 'unreadable line';
}

/**
 * The resource on a (non-blank) line as JSON.parse gives it, or a string: the reader's problem with
 * the line (e.g. `malformed JSON (...)`, `'X' is not an R4 resource type (resourceType)`).
 */
export function parseResourceLine(text: string): Resource | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return readerProblem(text) ?? 'unreadable line';
  }
  if (plainlyValid(value)) return value;
  // The reader may accept what the quick check does not; its verdict is the one that counts. The
  // resource is JSON.parse's object either way, not the schema's copy (key order is kept).
  return readerProblem(text) ?? (value as Resource);
}
