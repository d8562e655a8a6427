/**
 * An OperationDefinition for every operation this server answers, served at
 * `/fhir/OperationDefinition/<id>` and named by the CapabilityStatement. Each is this server's
 * own (its url is under the server's base) and says in `base` which standard definition it
 * implements: R4 PlanDefinition-apply / ActivityDefinition-apply / PlanDefinition-data-requirements
 * and the CRMI package operation. Parameters list what the server reads, with the extensions
 * (`now`, `mode`, `trace`, CPG `data` / `dataEndpoint`) it adds.
 */
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';

type Param = [name: string, use: 'in' | 'out', min: number, max: string, type: string | undefined, documentation: string];

function parameter([name, use, min, max, type, documentation]: Param): OperationDefinitionParameter {
  const p: OperationDefinitionParameter = { name, use, min, max, documentation };
  if (type) p.type = type;
  return p;
}

interface Spec {
  id: string;
  code: string;
  resource: 'PlanDefinition' | 'ActivityDefinition';
  base: string;
  title: string;
  affectsState: boolean;
  /** GET is allowed (only primitive in-parameters are read from the query). */
  idempotent: boolean;
  parameters: Param[];
}

const APPLY_COMMON: Param[] = [
  ['subject', 'in', 1, '1', 'string', "The subject, as 'Patient/<id>'; found in 'data' or read from 'dataEndpoint'."],
  ['encounter', 'in', 0, '1', 'string', 'Encounter reference (in data).'],
  ['practitioner', 'in', 0, '1', 'string', 'Practitioner reference (in data).'],
  ['organization', 'in', 0, '1', 'string', 'Organization reference (in data).'],
  ['userType', 'in', 0, '1', 'CodeableConcept', 'Exposed to expressions as %userType.'],
  ['userLanguage', 'in', 0, '1', 'CodeableConcept', 'Exposed as %userLanguage.'],
  ['userTaskContext', 'in', 0, '1', 'CodeableConcept', 'Exposed as %userTaskContext.'],
  ['setting', 'in', 0, '1', 'CodeableConcept', 'Exposed as %setting.'],
  ['settingContext', 'in', 0, '1', 'CodeableConcept', 'Exposed as %settingContext.'],
  ['data', 'in', 0, '1', 'Bundle', "CPG: the subject's record (only the subject's Patient compartment is read)."],
  ['dataEndpoint', 'in', 0, '1', 'Endpoint', "CPG: a FHIR server to read the record from (must be on this server's allow-list)."],
  ['parameters', 'in', 0, '1', 'Parameters', 'Values exposed to expressions as %<name>.'],
  ['now', 'in', 0, '1', 'dateTime', 'Extension: the clinical now (with offset); the server clock when absent.'],
  ['mode', 'in', 0, '1', 'code', "Extension: 'r4' (CarePlan, default) or 'cpg' (Bundle, RequestGroup first)."],
  ['url', 'in', 0, '1', 'uri', 'Type level: the canonical url of the definition.'],
  ['version', 'in', 0, '1', 'string', 'Type level: its version.'],
];

const SPECS: Spec[] = [
  {
    id: 'PlanDefinition-apply',
    code: 'apply',
    resource: 'PlanDefinition',
    base: 'http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply',
    title: 'Apply a PlanDefinition to a subject',
    affectsState: false,
    idempotent: true,
    parameters: [
      ['planDefinition', 'in', 0, '1', 'PlanDefinition', 'Type level: the plan inline (size and time budgets apply) or its canonical.'],
      ...APPLY_COMMON,
      [
        'trace',
        'in',
        0,
        '1',
        'boolean',
        'Extension: true puts on the RequestGroup one apply-trace extension (http://infertility-protocols.org/fhir/StructureDefinition/apply-trace) per action: why it is in or out, its conditions and their results, the inputs read, the missing data and the collect Task. Default false (output unchanged).',
      ],
      ['return', 'out', 1, '1', undefined, "A CarePlan (mode 'r4') or a Bundle (mode 'cpg')."],
    ],
  },
  {
    id: 'ActivityDefinition-apply',
    code: 'apply',
    resource: 'ActivityDefinition',
    base: 'http://hl7.org/fhir/OperationDefinition/ActivityDefinition-apply',
    title: 'Apply an ActivityDefinition to a subject',
    affectsState: false,
    idempotent: true,
    parameters: [
      ['activityDefinition', 'in', 0, '1', 'ActivityDefinition', 'Type level: the definition inline (size and time budgets apply) or its canonical.'],
      ...APPLY_COMMON,
      ['return', 'out', 1, '1', 'Resource', 'The request resource built from the definition.'],
    ],
  },
  {
    id: 'PlanDefinition-data-requirements',
    code: 'data-requirements',
    resource: 'PlanDefinition',
    base: 'http://hl7.org/fhir/OperationDefinition/PlanDefinition-data-requirements',
    title: 'The data a PlanDefinition reads',
    affectsState: false,
    idempotent: true,
    parameters: [
      ['url', 'in', 0, '1', 'uri', 'Type level: the canonical url of the plan.'],
      ['version', 'in', 0, '1', 'string', 'Type level: its version.'],
      ['return', 'out', 1, '1', 'Library', 'A module-definition Library: dataRequirement, and relatedArtifact depends-on.'],
    ],
  },
  {
    id: 'PlanDefinition-package',
    code: 'package',
    resource: 'PlanDefinition',
    base: 'http://hl7.org/fhir/uv/crmi/OperationDefinition/crmi-package',
    title: 'A PlanDefinition and everything it depends on',
    affectsState: false,
    idempotent: true,
    parameters: [
      ['url', 'in', 0, '1', 'uri', 'Type level: the canonical url of the plan.'],
      ['version', 'in', 0, '1', 'string', 'Type level: its version.'],
      ['return', 'out', 1, '1', 'Bundle', 'A collection Bundle: the plan first, then its dependencies.'],
    ],
  },
];

export function operationDefinitions(fhirBase: string, version: string, date: string): OperationDefinition[] {
  return SPECS.map((spec) => ({
    resourceType: 'OperationDefinition',
    id: spec.id,
    url: `${fhirBase}/OperationDefinition/${spec.id}`,
    version,
    name: spec.id.replace(/-/g, '_'),
    title: spec.title,
    status: 'active',
    kind: 'operation',
    date,
    affectsState: spec.affectsState,
    code: spec.code,
    base: spec.base,
    resource: [spec.resource],
    system: false,
    type: true,
    instance: true,
    parameter: spec.parameters.map(parameter),
    ...(spec.idempotent ? { comment: 'GET is accepted with the primitive in-parameters in the query string.' } : {}),
  }));
}
