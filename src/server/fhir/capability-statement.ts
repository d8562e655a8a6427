/**
 * The CapabilityStatement at /fhir/metadata: exactly the interactions this server answers - read
 * and search (url, version, _id, name, status) on each artifact type it holds, the operations
 * (each named by the OperationDefinition the server serves: $apply on PlanDefinition and
 * ActivityDefinition, $data-requirements and $package on PlanDefinition), and read of those
 * OperationDefinitions.
 */
import type { CapabilityStatement, CapabilityStatementRestResource, OperationDefinition } from '@medplum/fhirtypes';
import { SEARCH_PARAMS } from './artifact-search.ts';

const PARAM_TYPES: Record<(typeof SEARCH_PARAMS)[number], 'uri' | 'token' | 'string'> = {
  url: 'uri',
  version: 'token',
  _id: 'token',
  name: 'string',
  status: 'token',
};

export const APPLY_OPERATIONS: Record<string, { name: string; definition: string }> = {
  PlanDefinition: { name: 'apply', definition: 'http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply' },
  ActivityDefinition: { name: 'apply', definition: 'http://hl7.org/fhir/OperationDefinition/ActivityDefinition-apply' },
};

export function capabilityStatement(
  types: string[],
  fhirBase: string,
  software: { name: string; version: string },
  date: string,
  operations: OperationDefinition[] = [],
): CapabilityStatement {
  const resource: CapabilityStatementRestResource[] = [...types].sort().map((type) => {
    const entry: CapabilityStatementRestResource = {
      type: type as CapabilityStatementRestResource['type'],
      interaction: [{ code: 'read' }, { code: 'search-type' }],
      searchParam: SEARCH_PARAMS.map((name) => ({ name, type: PARAM_TYPES[name] })),
    };
    const ops = operations.filter((o) => o.resource?.includes(type as never)).map((o) => ({ name: o.code, definition: o.url ?? '' }));
    if (ops.length > 0) entry.operation = ops;
    else if (APPLY_OPERATIONS[type]) entry.operation = [APPLY_OPERATIONS[type]];
    return entry;
  });
  if (operations.length > 0 && !types.includes('OperationDefinition')) resource.push({ type: 'OperationDefinition', interaction: [{ code: 'read' }] });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    kind: 'instance',
    software,
    implementation: { description: 'Infertility work-up protocols: knowledge artifacts and $apply', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [{ mode: 'server', resource }],
  };
}
