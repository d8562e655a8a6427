/**
 * The error answers the OpenAPI document declares, from one table: for each status, which
 * operations can really give it, decided from what the operation is (its path, method, request
 * body, parameters) - not written by hand per route. Every refusal is an OperationOutcome
 * (src/server/http-errors.ts), on the CDS Hooks endpoints too: CDS Hooks 2.0 defines no error body,
 * so there is no other error shape to declare. The success answers stay as the route schemas give
 * them.
 */
import type { OpenAPIV3 } from 'openapi-types';

/** What the table reads of an operation. */
export interface OperationFacts {
  method: string;
  /** The OpenAPI path (`/fhir/PlanDefinition/{id}/$apply`). */
  path: string;
  hasBody: boolean;
  hasPathParameters: boolean;
}

/** What the table reads of the server's configuration. */
export interface ServedConfig {
  authRequired: boolean;
  protectDiscovery: boolean;
}

const isJsonApi = (o: OperationFacts) => /^\/(fhir|cds-services)(\/|$)/.test(o.path);
const isApply = (o: OperationFacts) => o.path.endsWith('/$apply');
const isHookCall = (o: OperationFacts) => o.method === 'post' && /^\/cds-services\/\{id\}$/.test(o.path);
const isFeedback = (o: OperationFacts) => o.path === '/cds-services/{id}/feedback';
const isDiscovery = (o: OperationFacts) => o.path === '/cds-services';
/** Operations that read a caller-named FHIR server (`dataEndpoint`, `fhirServer`). */
const callsFhirServers = (o: OperationFacts) => isApply(o) || isHookCall(o);
/** Operations that look a definition up by a canonical or reference the request names. */
const looksUpDefinitions = (o: OperationFacts) => isApply(o) || /\/\$(data-requirements|package)$/.test(o.path);
const authenticated = (o: OperationFacts, c: ServedConfig) => c.authRequired && (isApply(o) || isHookCall(o) || isFeedback(o) || (isDiscovery(o) && c.protectDiscovery));
const always = () => true;

interface StatusRule {
  status: number;
  description: string;
  gives: (o: OperationFacts, c: ServedConfig) => boolean;
}

/** The one table: status, when an operation gives it, and why. */
export const ERROR_STATUS_TABLE: readonly StatusRule[] = [
  {
    status: 400,
    description: 'the request is malformed: a path, query or body member the schema refuses, JSON too deep or not JSON, a bad URL, or content the schema cannot express',
    gives: always,
  },
  { status: 401, description: 'no, or no valid, client JWT', gives: authenticated },
  {
    status: 403,
    description: 'the JWT is valid but the FHIR server named (fhirServer, dataEndpoint) is not allowed for its issuer',
    gives: (o, c) => callsFhirServers(o) || authenticated(o, c),
  },
  { status: 404, description: 'the resource, service or definition named is not known', gives: (o) => o.hasPathParameters || looksUpDefinitions(o) },
  { status: 406, description: 'the Accept header or _format admits no JSON (this server answers JSON only)', gives: isJsonApi },
  { status: 408, description: "the client did not send its headers or its whole request in time (answered by the connection's handler, then closed)", gives: always },
  { status: 412, description: 'CDS Hooks: the data the service needs cannot be obtained (prefetch missing and the FHIR server unusable)', gives: isHookCall },
  { status: 413, description: 'the request body is over the configured limit', gives: (o) => o.hasBody },
  { status: 415, description: 'the request body is not application/json or application/fhir+json', gives: (o) => o.hasBody },
  {
    status: 422,
    description: 'well-formed but not processable: an inline definition over the budget, a definition that cannot be applied, a feature this engine does not run',
    gives: (o) => isApply(o) || isHookCall(o),
  },
  { status: 500, description: 'an unexpected failure (a generic OperationOutcome, never a stack trace)', gives: always },
  { status: 502, description: 'the FHIR server called failed or refused', gives: callsFhirServers },
  { status: 503, description: 'the server is shutting down', gives: always },
  { status: 504, description: 'the FHIR server called did not answer in time', gives: callsFhirServers },
];

const OUTCOME_REF = { $ref: '#/components/schemas/OperationOutcome' };

/** The OperationOutcome as far as a client needs it to read a refusal. */
const OPERATION_OUTCOME_SCHEMA: OpenAPIV3.SchemaObject = {
  type: 'object',
  required: ['resourceType', 'issue'],
  properties: {
    resourceType: { type: 'string', enum: ['OperationOutcome'] },
    issue: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['severity', 'code'],
        properties: {
          severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
          code: { type: 'string' },
          diagnostics: { type: 'string' },
          location: { type: 'array', items: { type: 'string' } },
          expression: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

const outcomeResponse = (description: string): OpenAPIV3.ResponseObject => ({
  description,
  content: { 'application/fhir+json': { schema: OUTCOME_REF }, 'application/json': { schema: OUTCOME_REF } },
});

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Adds the error answers of the table to every operation of a generated OpenAPI 3 document. */
export function declareErrorResponses(document: OpenAPIV3.Document, config: ServedConfig): OpenAPIV3.Document {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item?.[method];
      if (!operation) continue;
      const parameters = (operation.parameters ?? []) as OpenAPIV3.ParameterObject[];
      const facts: OperationFacts = { method, path, hasBody: operation.requestBody !== undefined, hasPathParameters: parameters.some((p) => p.in === 'path') };
      for (const rule of ERROR_STATUS_TABLE) {
        if (rule.gives(facts, config)) operation.responses[String(rule.status)] = outcomeResponse(rule.description);
      }
    }
  }
  document.components = { ...document.components, schemas: { ...document.components?.schemas, OperationOutcome: OPERATION_OUTCOME_SCHEMA } };
  return document;
}
