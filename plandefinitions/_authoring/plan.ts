/** The PlanDefinition shell shared by the protocols. */
import type { PlanDefinition, RelatedArtifact } from '@medplum/fhirtypes';
import { computableName, DATE, pdUrl, PUBLISHER, VERSION, type Action } from './common.ts';

export interface PlanSpec {
  id: string;
  title: string;
  description: string;
  purpose: string;
  usage: string;
  type?: 'clinical-protocol' | 'order-set' | 'eca-rule' | 'workflow-definition';
  relatedArtifact: RelatedArtifact[];
  goal?: PlanDefinition['goal'];
  action: Action[];
}

export function planDefinition(spec: PlanSpec): PlanDefinition {
  const plan: PlanDefinition = {
    resourceType: 'PlanDefinition',
    id: spec.id,
    url: pdUrl(spec.id),
    version: VERSION,
    name: computableName(spec.id),
    title: spec.title,
    type: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/plan-definition-type', code: spec.type ?? 'clinical-protocol' }],
    },
    status: 'draft',
    experimental: true,
    date: DATE,
    publisher: PUBLISHER,
    description: spec.description,
    purpose: spec.purpose,
    usage: spec.usage,
    jurisdiction: [{ coding: [{ system: 'urn:iso:std:iso:3166', code: 'CN', display: 'China' }] }],
    relatedArtifact: spec.relatedArtifact,
  };
  if (spec.goal) plan.goal = spec.goal;
  plan.action = spec.action;
  return plan;
}
