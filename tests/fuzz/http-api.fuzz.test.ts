/**
 * A bounded fuzz of the HTTP API inside `npm test` (issue #13): for every operation of the OpenAPI
 * document the server serves - generated from the routes' zod schemas - fast-check builds
 * requests from the JSON Schemas of its path, query and body (valid shapes, and shapes broken by
 * dropping, retyping or nesting values), sends them through the real server (inject(), auth off
 * so the bodies are read, no FHIR server reachable), and checks that none is answered 5xx and that
 * every refusal is an OperationOutcome. Fixed seed: the same requests on every run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type CdsServer } from '../../src/server/app.ts';
import { NOW, fixtureKnowledge } from '../server/fixtures/hsg-fixture.ts';

type Schema = Record<string, unknown>;
interface Operation {
  method: 'GET' | 'POST';
  path: string;
  params: { name: string; in: string; required?: boolean; schema: Schema }[];
  body?: Schema;
}

let server: CdsServer;
let operations: Operation[] = [];
let components: Record<string, Schema> = {};

beforeAll(async () => {
  server = buildServer({
    baseUrl: 'https://cds.fuzz.example',
    auth: { required: false },
    // Not open to all: a fuzzed fhirServer / dataEndpoint is refused, never called.
    allowedFhirServers: ['http://127.0.0.1:9/fhir'],
    knowledge: fixtureKnowledge(),
    clock: () => new Date(NOW),
    logLevel: 'silent',
    inlineTimeBudgetMs: 2000,
  });
  await server.app.ready();
  const doc = JSON.parse((await server.app.inject({ method: 'GET', url: '/openapi.json' })).body) as {
    paths: Record<string, Record<string, { parameters?: Operation['params']; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
    components: { schemas: Record<string, Schema> };
  };
  components = doc.components.schemas;
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const operation: Operation = { method: method.toUpperCase() as Operation['method'], path, params: op.parameters ?? [] };
      const body = op.requestBody?.content['application/json']?.schema;
      if (body) operation.body = body;
      return operation;
    }),
  );
});
afterAll(async () => {
  await server.app.close();
});

/** Identifiers the server knows, so some requests reach the handlers past "not found". */
const knownIds = fc.constantFrom('hysterosalpingography', 'hysterosalpingography-patient-view', 'hsg', 'PlanDefinition', 'ActivityDefinition', 'PlanDefinition-apply', 'pat-1');
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** An arbitrary for a JSON Schema (the subset the zod schemas produce), `depth` bounding recursion. */
function arbitraryOf(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== 'object') return anyJson;
  if (typeof schema['$ref'] === 'string') {
    const target = components[schema['$ref'].replace('#/components/schemas/', '')];
    return depth > 3 || !target ? fc.constant(undefined) : arbitraryOf(target, depth + 1);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) return fc.oneof(...(options as Schema[]).map((s) => arbitraryOf(s, depth + 1)));
  }
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  if ('const' in schema) return fc.constant(schema['const']);
  switch (schema['type']) {
    case 'string':
      return schema['format'] === 'uri'
        ? fc.oneof(fc.webUrl(), fc.string())
        : fc.oneof(fc.string(), knownIds, fc.constantFrom('Patient/pat-1', '2026-11-23T09:00:00Z', 'cpg', 'r4'));
    case 'integer':
      return fc.integer();
    case 'number':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryOf((schema['items'] as Schema | undefined) ?? {}, depth + 1), { maxLength: depth > 2 ? 1 : 3 });
    case 'object': {
      const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
      const required = new Set((schema['required'] as string[] | undefined) ?? []);
      const entries = Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, arbitraryOf(s, depth + 1)]));
      return fc.record(entries, { requiredKeys: [...required].filter((k) => k in properties) as never[] }).chain((value) =>
        // Now and then extra members (additionalProperties); optional ones are present or not.
        fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 2 }).map((extra) => ({ ...extra, ...value })),
      );
    }
    default:
      return anyJson;
  }
}

/** The valid shape, or the shape broken: a member retyped, the whole body replaced, deep nesting. */
function bodyOf(schema: Schema): fc.Arbitrary<unknown> {
  const valid = arbitraryOf(schema);
  const retyped = valid.chain((v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
      ? fc.tuple(fc.constantFrom(...Object.keys(v)), anyJson).map(([k, j]) => ({ ...(v as object), [k]: j }))
      : fc.constant(v),
  );
  const nested = fc.integer({ min: 1, max: 300 }).map((n) => {
    let deep: unknown = { resourceType: 'Parameters' };
    for (let i = 0; i < n; i++) deep = { part: [deep], name: 'x' };
    return { resourceType: 'Parameters', parameter: [deep] };
  });
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 3, arbitrary: retyped }, { weight: 2, arbitrary: anyJson }, { weight: 1, arbitrary: nested });
}

function requestOf(op: Operation): fc.Arbitrary<{ url: string; payload?: string; headers: Record<string, string> }> {
  const path = op.params.filter((p) => p.in === 'path');
  const query = op.params.filter((p) => p.in === 'query');
  const pathValues = fc.tuple(...path.map(() => fc.oneof(knownIds, fc.string({ minLength: 1, maxLength: 12 }))));
  const queryValues = fc.tuple(
    ...query.map((p) =>
      p.required
        ? arbitraryOf(p.schema).map((v) => String(v))
        : fc.option(
            arbitraryOf(p.schema).map((v) => String(v)),
            { nil: undefined },
          ),
    ),
  );
  const accept = fc.constantFrom('application/json', 'application/fhir+json', '*/*', 'application/xml', 'text/html', '');
  const body = op.body ? bodyOf(op.body).map((b) => JSON.stringify(b)) : fc.constant(undefined);
  return fc.tuple(pathValues, queryValues, accept, body).map(([pv, qv, acceptHeader, payload]) => {
    let url = op.path;
    path.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodeURIComponent(String(pv[i])))));
    const search = new URLSearchParams();
    query.forEach((p, i) => {
      const v = qv[i];
      if (v !== undefined) search.set(p.name, v);
    });
    const qs = search.toString();
    const headers: Record<string, string> = { accept: acceptHeader };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return { url: qs ? `${url}?${qs}` : url, ...(payload === undefined ? {} : { payload }), headers };
  });
}

describe('fuzz of the HTTP API over its route schemas', () => {
  it('has operations to fuzz (the OpenAPI document lists the routes)', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
  });

  it('no request is answered 5xx, and every refusal is an OperationOutcome', async () => {
    let sent = 0;
    for (const [index, op] of operations.entries()) {
      await fc.assert(
        fc.asyncProperty(requestOf(op), async (request) => {
          sent++;
          const res = await server.app.inject({
            method: op.method,
            url: request.url,
            headers: request.headers,
            ...(request.payload === undefined ? {} : { payload: request.payload }),
          });
          expect(res.statusCode, `${op.method} ${request.url}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
          if (res.statusCode >= 400) expect((JSON.parse(res.body) as { resourceType: string }).resourceType).toBe('OperationOutcome');
        }),
        { seed: 1300 + index, numRuns: 60 },
      );
    }
    expect(sent).toBeGreaterThanOrEqual(operations.length * 60);
  }, 60_000);
});
