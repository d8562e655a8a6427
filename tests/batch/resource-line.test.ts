import { describe, expect, it } from 'vitest';
import { parseResourceLine } from '../../src/batch/resource-line.ts';
import { parseNdjsonLine, type InputProblem } from '../../src/data/read-input.ts';

/** Lines at the edges of what the single-resource reader accepts. */
const LINES = [
  '{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"}}',
  '{"resourceType":"Patient","id":"p1"}',
  '{"resourceType":"Patient"}',
  `{"resourceType":"Patient","id":"${'a'.repeat(64)}"}`,
  `{"resourceType":"Patient","id":"${'a'.repeat(65)}"}`,
  '{"resourceType":"Patient","id":""}',
  '{"resourceType":"Patient","id":"a b"}',
  '{"resourceType":"Patient","id":"ü"}',
  '{"resourceType":"Patient","id":7}',
  '{"resourceType":"Patient","id":null}',
  '{"resourceType":"Observaton","id":"x"}',
  '{"resourceType":"DomainResource","id":"x"}',
  '{"resourceType":"Resource","id":"x"}',
  '{"resourceType":"HumanName"}',
  '{"resourceType":7}',
  '{"resourceType":null}',
  '{"id":"x"}',
  '{}',
  '[]',
  '[{"resourceType":"Patient","id":"p"}]',
  '"Patient"',
  '42',
  'null',
  'true',
  '{"resourceType":"Patient","id":"p",}',
  '{"resourceType":"Patient","id":"p"}}',
  '{"resourceType":"Observation","subject":{"reference":"Patient/p"},"x":tru}',
  '{"resourceType":"Observation","subject":{"reference":"Patient/p"},"x":}\r',
  '{"resourceType":"Observation","text":"a\tb"}',
  '{"resourceType":"Observation"',
  '\ufeff{"resourceType":"Patient","id":"p"}',
];

describe('parseResourceLine', () => {
  it('accepts exactly the lines the single-resource reader accepts, and rejects the others with its message', () => {
    for (const line of LINES) {
      const problems: InputProblem[] = [];
      const expected = parseNdjsonLine(line, 'f.ndjson:1', problems);
      const actual = parseResourceLine(line);
      if (expected) {
        // The resource is JSON.parse's own object (key order as in the input), not a schema copy.
        expect(actual, line).toEqual(JSON.parse(line));
        expect(Object.keys(actual as object), line).toEqual(Object.keys(JSON.parse(line) as object));
      } else {
        expect(actual, line).toBe(problems[0]!.message);
      }
    }
  });
});
