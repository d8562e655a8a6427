/**
 * The one parser of Simple FHIRPath (http://build.fhir.org/simplefhirpath.html), the path language
 * of `dynamicValue.path` in R4 PlanDefinition and ActivityDefinition: element names (plain or
 * `backticked`), `[n]` indexers, `ofType(Type)` and `extension('url')`, joined by dots.
 *
 * The engine writes values along these steps and the linter checks them against the R4 model
 * before a patient sees them; both read the path through this parser, so whatever lint accepts is
 * exactly what the engine can write (and the error text is the same in both places).
 */

export type SimplePathStep = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'ofType'; type: string } | { kind: 'extension'; url: string };

/** A path outside the Simple FHIRPath subset; the message quotes the path and says where it broke. */
export class SimplePathSyntaxError extends Error {}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const QUOTED_IDENTIFIER = /^`([^`]+)`/;
/** The argument of ofType(Type) or extension('url'): a quoted string or a (dotted) type name. */
const CALL_ARGUMENT = /^\(\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_.]*))?\s*\)/;
const INDEXER = /^\[(\d+)\]/;

/** Splits a Simple FHIRPath into steps; anything outside the subset is a SimplePathSyntaxError. */
export function parseSimplePath(path: string): SimplePathStep[] {
  const steps: SimplePathStep[] = [];
  let rest = path;
  const fail = (why: string): never => {
    throw new SimplePathSyntaxError(`'${path}' is not a Simple FHIRPath path: ${why}`);
  };
  if (rest.length === 0) fail('it is empty');
  let expectName = true;
  while (rest.length > 0) {
    if (expectName) {
      const quoted = QUOTED_IDENTIFIER.exec(rest);
      const match = quoted ?? IDENTIFIER.exec(rest) ?? fail(`expected an element name at '${rest}'`);
      const name = quoted ? quoted[1]! : match[0];
      rest = rest.slice(match[0].length);
      if (rest.startsWith('(')) {
        if (name !== 'ofType' && name !== 'extension' && name !== 'resolve') {
          fail(`the function ${name}() is not allowed (only ofType(Type) and extension('url'))`);
        }
        const call = CALL_ARGUMENT.exec(rest) ?? fail(`cannot read the arguments of ${name}()`);
        rest = rest.slice(call[0].length);
        // extension('url') may open the path: it reads as the element `extension` filtered by url.
        if (steps.length === 0 && name !== 'extension') fail(`it must start with an element name, not the function ${name}()`);
        const url = call[1] ?? call[2];
        if (name === 'ofType' && call[3]) steps.push({ kind: 'ofType', type: call[3] });
        else if (name === 'extension' && url) steps.push({ kind: 'extension', url });
        else if (name === 'resolve') fail('resolve() navigates to another resource and cannot be the target of a value');
        else fail(`the function ${name}() is not allowed (only ofType(Type) and extension('url'))`);
      } else {
        steps.push({ kind: 'name', name });
      }
      expectName = false;
      continue;
    }
    const index = INDEXER.exec(rest);
    if (index) {
      steps.push({ kind: 'index', index: Number(index[1]) });
      rest = rest.slice(index[0].length);
      continue;
    }
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      expectName = true;
      continue;
    }
    fail(`unexpected '${rest}' (operators, spaces and other functions are not allowed)`);
  }
  if (expectName) fail('it ends with a dot');
  return steps;
}
