/**
 * Issue #13: the served OpenAPI document declares the error answers each operation can give (from
 * the one table, src/server/documented-responses.ts), each an OperationOutcome in both JSON media
 * types; an operation declares no status it cannot give (401 only when auth is on...).
 */
import { describe, expect, it } from 'vitest';
import type { OpenAPIV3 } from 'openapi-types';
import { buildServer } from '../../src/server/app.ts';
import { fixtureKnowledge } from './fixtures/hsg-fixture.ts';

async function servedDocument(authRequired: boolean): Promise<OpenAPIV3.Document> {
  const auth = authRequired ? { required: true, trustedIssuers: [{ iss: 'https://ehr.example', jwksUrl: 'https://ehr.example/jwks', fhirServers: [] }] } : { required: false };
  const { app } = buildServer({ baseUrl: 'http://127.0.0.1', auth, now: '2026-03-01T09:00:00Z', logLevel: 'silent', knowledge: fixtureKnowledge() });
  try {
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    return res.json<OpenAPIV3.Document>();
  } finally {
    await app.close();
  }
}

const statusesOf = (document: OpenAPIV3.Document, path: string, method: 'get' | 'post') => Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort();

describe('the error answers in the OpenAPI document', () => {
  it('each operation declares exactly the statuses it can give', async () => {
    const document = await servedDocument(false);
    expect(statusesOf(document, '/fhir/metadata', 'get')).toEqual(['200', '400', '406', '408', '500', '503']);
    expect(statusesOf(document, '/fhir/{type}/{id}', 'get')).toEqual(['200', '400', '404', '406', '408', '500', '503']);
    expect(statusesOf(document, '/fhir/PlanDefinition/$apply', 'post')).toEqual(['200', '400', '403', '404', '406', '408', '413', '415', '422', '500', '502', '503', '504']);
    expect(statusesOf(document, '/cds-services/{id}', 'post')).toEqual(['200', '400', '403', '404', '406', '408', '412', '413', '415', '422', '500', '502', '503', '504']);
    expect(statusesOf(document, '/cds-services/{id}/feedback', 'post')).toEqual(['200', '400', '404', '406', '408', '413', '415', '500', '503']);
  });

  it('401 only when authentication is on, on the authenticated operations', async () => {
    const document = await servedDocument(true);
    expect(statusesOf(document, '/fhir/PlanDefinition/$apply', 'get')).toContain('401');
    expect(statusesOf(document, '/cds-services/{id}/feedback', 'post')).toContain('401');
    expect(statusesOf(document, '/fhir/metadata', 'get')).not.toContain('401');
    expect(statusesOf(document, '/cds-services', 'get')).not.toContain('401');
  });

  it('every error answer is an OperationOutcome, application/fhir+json and application/json', async () => {
    const document = await servedDocument(false);
    const outcome = document.components?.schemas?.['OperationOutcome'] as OpenAPIV3.SchemaObject;
    expect(outcome.required).toEqual(['resourceType', 'issue']);
    for (const item of Object.values(document.paths)) {
      for (const operation of [item?.get, item?.post]) {
        for (const [status, response] of Object.entries(operation?.responses ?? {})) {
          if (Number(status) < 400) continue;
          const content = (response as OpenAPIV3.ResponseObject).content ?? {};
          expect(Object.keys(content).sort()).toEqual(['application/fhir+json', 'application/json']);
          expect(content['application/fhir+json']?.schema).toEqual({ $ref: '#/components/schemas/OperationOutcome' });
        }
      }
    }
  });
});
