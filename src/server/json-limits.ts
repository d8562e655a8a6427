/**
 * Request bodies are JSON; before one is parsed, its nesting depth is measured on the text. A
 * body nested deeper than the limit (a 20,000-deep Parameters, say) would otherwise reach the
 * recursive schemas and walkers behind the parser and exhaust the stack: it is refused as a
 * structure error (400) instead. The scan is one pass over the bytes, skipping strings.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { outcomeError } from '../errors/operation-outcome.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/** Whether the JSON text nests objects/arrays deeper than `max` (strings are skipped). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}

/** JSON and FHIR JSON bodies: the depth limit, then Fastify's own parser (prototype-poisoning safe). */
export function installJsonParsers(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  const parser = (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepthExceeds(text, maxDepth)) {
      done(outcomeError('structure', `the request body nests objects and arrays deeper than ${maxDepth} levels`));
      return;
    }
    void parse(request, text, done);
  };
  app.addContentTypeParser(['application/json', 'application/fhir+json'], { parseAs: 'string' }, parser);
}
