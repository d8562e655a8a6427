/**
 * The operations and endpoints of issue #13 item 6 through the real server (inject(), real JWTs):
 * $data-requirements and $package (instance and type level, GET and POST), GET $apply, the
 * OperationDefinitions, 406 for XML, /healthz, /readyz, /metrics, the OpenAPI document, and every
 * config field from the environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Library, PlanDefinition } from '@medplum/fhirtypes';
import { serverConfigSchema } from '../../src/server/config.ts';
import { ENVIRONMENT_FIELDS, configFromEnvironment, environmentName } from '../../src/server/config-env.ts';
import { parseServerConfig } from '../../src/server/app.ts';
import { serveConfigFrom } from '../../src/cli/commands/serve.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { BASE_URL, startHarness, type Harness } from './support/harness.ts';
import { PATIENT_ID, PLAN_URL, fixtureKnowledge, mensesEnd, negativeTest, prefetchFor } from './fixtures/hsg-fixture.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const PLAN = '/fhir/PlanDefinition/hysterosalpingography';
const parameters = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });

describe('PlanDefinition/$data-requirements', () => {
  it('instance level: a module-definition Library with the plan data requirements and what it depends on', async () => {
    const res = await h.get(`${PLAN}/$data-requirements`, { token: null });
    expect(res.status, res.text).toBe(200);
    const library = res.body as Library;
    expect(library.resourceType).toBe('Library');
    expect(library.type.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'module-definition' });
    const plan = fixtureKnowledge().byId<PlanDefinition>('PlanDefinition', 'hysterosalpingography');
    expect(library.dataRequirement).toEqual(fixtureKnowledge().dataRequirements(plan as PlanDefinition));
    expect(library.dataRequirement?.map((d) => d.type)).toContain('Observation');
    const dependsOn = library.relatedArtifact?.map((a) => a.resource);
    expect(dependsOn).toContain(`${PLAN_URL}|0.0.1-test`);
    expect(dependsOn).toContain('http://infertility-protocols.org/fhir/ActivityDefinition/hsg|0.0.1');
    expect(library.relatedArtifact?.every((a) => a.type === 'depends-on')).toBe(true);
  });

  it('type level, by GET url and by POST Parameters: the same Library', async () => {
    const instance = await h.get(`${PLAN}/$data-requirements`, { token: null });
    const byGet = await h.get(`/fhir/PlanDefinition/$data-requirements?url=${encodeURIComponent(PLAN_URL)}`, { token: null });
    const byPost = await h.post('/fhir/PlanDefinition/$data-requirements', parameters({ name: 'url', valueUri: PLAN_URL }, { name: 'version', valueString: '0.0.1-test' }), {
      token: null,
    });
    expect(byGet.status).toBe(200);
    expect(byPost.status).toBe(200);
    expect(byGet.body.dataRequirement).toEqual(instance.body.dataRequirement);
    expect(byPost.body.relatedArtifact).toEqual(instance.body.relatedArtifact);
  });

  it('refuses an unknown plan (404), a missing url (400) and an unknown parameter (400)', async () => {
    expect((await h.get('/fhir/PlanDefinition/nope/$data-requirements', { token: null })).status).toBe(404);
    expect((await h.get('/fhir/PlanDefinition/$data-requirements', { token: null })).status).toBe(400);
    expect((await h.get('/fhir/PlanDefinition/$data-requirements?url=http://x/none', { token: null })).status).toBe(404);
    const bad = await h.post('/fhir/PlanDefinition/$data-requirements', parameters({ name: 'subject', valueString: 'Patient/1' }), { token: null });
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
  });
});

describe('PlanDefinition/$package', () => {
  it('instance and type level: a collection Bundle, the plan first, then its ActivityDefinitions', async () => {
    const res = await h.get(`${PLAN}/$package`, { token: null });
    expect(res.status, res.text).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('collection');
    expect(bundle.entry?.[0]?.resource).toMatchObject({ resourceType: 'PlanDefinition', id: 'hysterosalpingography' });
    expect(bundle.entry?.[0]?.fullUrl).toBe(`${BASE_URL}${PLAN}`);
    const ids = bundle.entry?.slice(1).map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`);
    expect(ids).toEqual(expect.arrayContaining(['ActivityDefinition/hsg', 'ActivityDefinition/hycosy']));
    const typeLevel = await h.post('/fhir/PlanDefinition/$package', parameters({ name: 'url', valueCanonical: PLAN_URL }), { token: null });
    expect(typeLevel.body.entry).toEqual(bundle.entry);
  });

  it('on the real pathway: nested plans, ActivityDefinitions, ValueSets and CodeSystems, each once, all resolvable', async () => {
    const real = await startHarness({ knowledge: loadKnowledge() });
    try {
      const res = await real.get('/fhir/PlanDefinition/infertility-work-up-pathway/$package', { token: null });
      expect(res.status).toBe(200);
      const types = new Set((res.body as Bundle).entry?.map((e) => e.resource?.resourceType));
      for (const t of ['PlanDefinition', 'ActivityDefinition', 'ValueSet', 'CodeSystem']) expect(types.has(t as never), t).toBe(true);
      const plans = (res.body as Bundle).entry?.filter((e) => e.resource?.resourceType === 'PlanDefinition').map((e) => e.resource?.id);
      expect(plans).toEqual(expect.arrayContaining(['infertility-work-up-pathway', 'hysterosalpingography', 'infertility-hysteroscopy', 'tubal-reanastomosis']));
      const keys = (res.body as Bundle).entry?.map((e) => e.fullUrl);
      expect(new Set(keys).size).toBe(keys?.length);
    } finally {
      await real.close();
    }
  });
});

describe('GET $apply', () => {
  const token = () => h.client.sign(`${BASE_URL}/fhir`);

  it('is authenticated like POST, and reads the same parameters from the query', async () => {
    expect((await h.get(`${PLAN}/$apply?subject=Patient/${PATIENT_ID}`, { token: null })).status).toBe(401);
    const get = await h.get(`${PLAN}/$apply?subject=Patient/${PATIENT_ID}&now=2026-11-23T09:00:00Z`, { token: await token() });
    const post = await h.post(`${PLAN}/$apply`, parameters({ name: 'subject', valueString: `Patient/${PATIENT_ID}` }, { name: 'now', valueDateTime: '2026-11-23T09:00:00Z' }), {
      token: await token(),
    });
    // Neither carries data: the same refusal, naming the subject.
    expect(get.status).toBe(400);
    expect(get.body).toEqual(post.body);
    expect(get.body.issue[0].diagnostics).toMatch(/subject Patient\/pat-1/);
  });

  it('refuses a bad mode or now, and a parameter $apply does not have', async () => {
    const bad = async (query: string) => (await h.get(`${PLAN}/$apply?subject=Patient/${PATIENT_ID}&${query}`, { token: await token() })).status;
    expect(await bad('mode=xml')).toBe(400);
    expect(await bad('now=2026-02-30T09:00:00Z')).toBe(400);
    expect(await bad('data=x')).toBe(400);
  });
});

describe('content negotiation: JSON only', () => {
  it('406 with a JSON OperationOutcome for XML by _format or Accept, on FHIR and CDS endpoints', async () => {
    for (const [path, headers] of [
      ['/fhir/metadata?_format=xml', {}],
      ['/fhir/metadata?_format=application/fhir%2Bxml', {}],
      ['/fhir/metadata', { accept: 'application/fhir+xml' }],
      [`${PLAN}`, { accept: 'application/xml, text/html' }],
      ['/cds-services', { accept: 'application/xml' }],
      ['/fhir/metadata', { accept: 'application/json;q=0, application/xml' }],
    ] as const) {
      const res = await h.get(path, { token: null, headers });
      expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(406);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      expect(res.body.issue[0]).toMatchObject({ code: 'not-supported', location: ['http.Accept'] });
    }
  });

  it('JSON in any of its names and wildcards: 200', async () => {
    const accepted: Record<string, string>[] = [
      { accept: 'application/fhir+json' },
      { accept: 'application/json' },
      { accept: '*/*' },
      { accept: 'application/*;q=0.5' },
      { accept: '' },
    ];
    for (const headers of accepted) {
      expect((await h.get('/fhir/metadata', { token: null, headers })).status).toBe(200);
    }
    expect((await h.get('/fhir/metadata?_format=json', { token: null })).status).toBe(200);
    expect((await h.get('/fhir/metadata?_format=application/fhir%2Bjson', { token: null })).status).toBe(200);
  });
});

describe('probes, metrics and the OpenAPI document', () => {
  it('/healthz and /readyz', async () => {
    expect((await h.get('/healthz', { token: null })).body).toMatchObject({ status: 'ok' });
    const ready = await h.get('/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', services: 3 });
    expect(ready.body.artifacts).toBeGreaterThan(0);
  });

  it('/metrics: requests and latency per route pattern, apply latency, cards issued; no patient id', async () => {
    const hook = {
      hook: 'patient-view',
      hookInstance: 'b0b0b0b0-0000-4000-8000-000000000001',
      context: { userId: 'Practitioner/doc-1', patientId: PATIENT_ID },
      prefetch: prefetchFor([mensesEnd, negativeTest]),
    };
    const called = await h.post('/cds-services/hysterosalpingography-patient-view', hook);
    expect(called.status).toBe(200);
    const res = await h.get('/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_requests_total\{method="POST",route="\/cds-services\/:id",status="200"\} \d+/);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{le="[\d.]+",method="POST",route="\/cds-services\/:id"\}/);
    expect(res.text).toMatch(/apply_duration_seconds_count\{operation="cds-hook"\} [1-9]/);
    expect(res.text).toMatch(/cds_cards_issued_total\{service="hysterosalpingography-patient-view",indicator="(info|warning|critical)"\} [1-9]/);
    expect(res.text).not.toContain(PATIENT_ID);
  });

  it('/openapi.json: an OpenAPI 3 document with every operation, its parameters and body schemas from the zod route schemas', async () => {
    const res = await h.get('/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/cds-services',
      '/cds-services/{id}',
      '/cds-services/{id}/feedback',
      '/fhir/metadata',
      '/fhir/PlanDefinition/{id}/$apply',
      '/fhir/PlanDefinition/$apply',
      '/fhir/ActivityDefinition/$apply',
      '/fhir/PlanDefinition/{id}/$data-requirements',
      '/fhir/PlanDefinition/$package',
      '/fhir/OperationDefinition/{id}',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const applyBody = doc.paths['/fhir/PlanDefinition/$apply'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(applyBody)).toContain('Parameters');
    const getApply = doc.paths['/fhir/PlanDefinition/$apply'].get.parameters.map((p: { name: string }) => p.name);
    expect(getApply).toEqual(expect.arrayContaining(['subject', 'now', 'mode', 'url']));
    expect(JSON.stringify(doc.paths['/cds-services/{id}'].post.requestBody)).toContain('hookInstance');
  });
});

describe('every config field from the environment', () => {
  const CODE_ONLY = new Set(['clock', 'knowledge', 'engine', 'logStream']);
  const innerShape = (field: unknown): Record<string, unknown> | undefined => {
    let t = field as { def?: { innerType?: unknown; type?: string }; shape?: Record<string, unknown>; unwrap?: () => unknown };
    for (let i = 0; i < 4 && !t.shape; i++) t = (t.def?.innerType ?? t.unwrap?.()) as typeof t;
    return t.shape;
  };

  it('has a variable for every field of the schema (nested ones included), except what only code can give', () => {
    const paths: string[] = [];
    for (const [key, field] of Object.entries(serverConfigSchema.shape)) {
      if (CODE_ONLY.has(key)) continue;
      const nested = key === 'auth' || key === 'redis' ? innerShape(field) : undefined;
      if (nested) paths.push(...Object.keys(nested).map((k) => `${key}.${k}`));
      else paths.push(key);
    }
    expect(Object.keys(ENVIRONMENT_FIELDS).sort()).toEqual(paths.sort());
    expect(environmentName('auth.trustedIssuers')).toBe('INFERTILITY_AUTH_TRUSTED_ISSUERS');
    expect(environmentName('fhirMaxResponseBytes')).toBe('INFERTILITY_FHIR_MAX_RESPONSE_BYTES');
  });

  it('reads integers, booleans, lists and JSON; the schema accepts the result', () => {
    const env = {
      INFERTILITY_PORT: '9091',
      INFERTILITY_BASE_URL: 'https://cds.example.org',
      INFERTILITY_AUTH_REQUIRED: 'true',
      INFERTILITY_AUTH_TRUSTED_ISSUERS: JSON.stringify([{ iss: 'https://ehr.example/', jwksUrl: 'https://ehr.example/jwks', fhirServers: ['https://ehr.example/fhir'] }]),
      INFERTILITY_CORS_ORIGINS: 'https://a.example, https://b.example',
      INFERTILITY_ALLOWED_FHIR_SERVERS: '["https://shared.example/fhir"]',
      INFERTILITY_HEADERS_TIMEOUT_MS: '2000',
      INFERTILITY_LOG_LEVEL: 'warn',
      INFERTILITY_REDIS_URL: 'redis://127.0.0.1:6379',
      UNRELATED: 'x',
    };
    const config = parseServerConfig(configFromEnvironment(env) as Parameters<typeof parseServerConfig>[0]);
    expect(config).toMatchObject({
      port: 9091,
      baseUrl: 'https://cds.example.org',
      corsOrigins: ['https://a.example', 'https://b.example'],
      allowedFhirServers: ['https://shared.example/fhir'],
      headersTimeoutMs: 2000,
      logLevel: 'warn',
      redis: { url: 'redis://127.0.0.1:6379' },
    });
    expect(config.auth.trustedIssuers[0]?.fhirServers).toEqual(['https://ehr.example/fhir']);
  });

  it('serve: config file < environment < flags; a bad value names its variable', () => {
    const config = serveConfigFrom({ auth: false, port: '7000' }, { INFERTILITY_PORT: '9000', INFERTILITY_HOST: '0.0.0.0', INFERTILITY_INLINE_TIME_BUDGET_MS: '500' });
    expect(config).toMatchObject({ port: 7000, host: '0.0.0.0', inlineTimeBudgetMs: 500, baseUrl: 'http://0.0.0.0:7000' });
    expect(() => configFromEnvironment({ INFERTILITY_PORT: 'eighty' })).toThrow(/INFERTILITY_PORT/);
    expect(() => configFromEnvironment({ INFERTILITY_AUTH_REQUIRED: 'maybe' })).toThrow(/INFERTILITY_AUTH_REQUIRED/);
  });
});
