/**
 * The CapabilityStatement at /fhir/metadata: exactly the interactions this server answers - read
 * and search (url, version, _id, name, status) on each artifact type it holds, and the $apply
 * operations on PlanDefinition and ActivityDefinition.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
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

export function capabilityStatement(types: string[], fhirBase: string, software: { name: string; version: string }, date: string): CapabilityStatement {
  const resource: CapabilityStatementRestResource[] = [...types].sort().map((type) => {
    const entry: CapabilityStatementRestResource = {
      type: type as CapabilityStatementRestResource['type'],
      interaction: [{ code: 'read' }, { code: 'search-type' }],
      searchParam: SEARCH_PARAMS.map((name) => ({ name, type: PARAM_TYPES[name] })),
    };
    const op = APPLY_OPERATIONS[type];
    if (op) entry.operation = [op];
    return entry;
  });
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
