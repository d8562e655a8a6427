/**
 * A profile parsed once for repeated validation.
 *
 * `validateResource(r, { profile })` in @medplum/core re-parses the StructureDefinition on every
 * call (~1.2 ms for an Observation profile, 30x the validation itself). Medplum validates a value
 * against the schema registered under the value's type name, so we parse each profile once and
 * register the schema under a private type key that cannot clash with a FHIR type name, then
 * validate `{ type: key, value: resource }`. Property lookups then follow the profile's element
 * types, which makes Medplum report a value of a type the profile removed ("Invalid additional
 * property valueString") - stricter than the per-call path, never laxer (tests/validation compare
 * both paths on every fixture).
 */
import type { FhirPathAtom, InternalTypeSchema, TypedValue } from '@medplum/core';
import {
  OperationOutcomeError as MedplumOutcomeError,
  evalFhirPathTyped,
  getAllDataTypes,
  parseFhirPath,
  parseStructureDefinition,
  toTypedValue,
  validateTypedValue,
} from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { issue, toOperationOutcome } from '../errors/operation-outcome.ts';
import { ensureR4BaseLoaded } from './r4-definitions.ts';

interface WarningInvariant {
  key: string;
  human: string;
  atom: FhirPathAtom;
}

export interface CompiledProfile {
  readonly url: string;
  readonly type: string;
  readonly definition: StructureDefinition;
  /** Validates against the snapshot; errors and warnings as issues, never throws. */
  validate(resource: Resource): OperationOutcomeIssue[];
}

let keyCounter = 0;

/** Medplum skips warning invariants; ours carry advice worth reporting, so evaluate them here. */
function warningInvariants(sd: StructureDefinition): WarningInvariant[] {
  const root = sd.snapshot?.element[0];
  return (root?.constraint ?? [])
    .filter((c) => c.severity === 'warning' && c.source === sd.url && c.expression && c.key)
    .map((c) => ({ key: c.key, human: (c as { human?: string }).human ?? c.key, atom: parseFhirPath(c.expression as string) }));
}

function medplumIssues(run: () => OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  try {
    return run();
  } catch (err) {
    if (err instanceof MedplumOutcomeError) return err.outcome.issue;
    return toOperationOutcome(err).issue;
  }
}

export function compileProfile(sd: StructureDefinition): CompiledProfile {
  ensureR4BaseLoaded();
  const schema: InternalTypeSchema = parseStructureDefinition(sd);
  // A caller's StructureDefinition is not schema-checked: its url or type may be missing whatever the types say.
  const declared: { url?: string; type?: string } = sd;
  const key = `urn:infertility-protocols:profile:${++keyCounter}:${declared.url ?? sd.name}`;
  getAllDataTypes()[key] = schema;
  const type = declared.type ?? schema.type;
  const warnings = warningInvariants(sd);
  const path = schema.path;

  return {
    url: declared.url ?? key,
    type,
    definition: sd,
    validate(resource: Resource): OperationOutcomeIssue[] {
      if (resource.resourceType !== type) {
        return [issue('error', 'invalid', `Resource type ${resource.resourceType} does not match the profile type ${type}`, [resource.resourceType])];
      }
      const issues = medplumIssues(() => validateTypedValue({ type: key, value: resource }));
      const typed: TypedValue = toTypedValue(resource);
      for (const w of warnings) {
        let holds: boolean;
        try {
          const result = evalFhirPathTyped(w.atom, [typed], { '%resource': typed, '%rootResource': typed });
          holds = result.length === 1 && result[0]?.value === true;
        } catch {
          holds = false;
        }
        if (!holds) {
          issues.push({ severity: 'warning', code: 'invariant', details: { text: `Constraint ${w.key} not met: ${w.human}` }, expression: [path] });
        }
      }
      return issues;
    },
  };
}
