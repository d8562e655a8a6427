/**
 * Issues found at the data boundary (resources left out of the subject's record, SAFE-1) belong in
 * the result's OperationOutcome: a CarePlan computed without some of the input must say so where
 * its reader looks, not only in a log. The engine is pure and knows only the data it was given, so
 * the entry points add these issues to its result here, exactly where the engine puts its own:
 * first in `result.outcome`, which the CarePlan contains and references with cqf-messages (r4), or
 * which is a Bundle entry the RequestGroup references (cpg). Without issues nothing changes, so
 * outputs stay byte-identical when nothing was dropped.
 */
import type { Bundle, CarePlan, Extension, OperationOutcome, OperationOutcomeIssue, RequestGroup, Resource } from '@medplum/fhirtypes';
import { OUTCOME_ID } from '../engine/output.ts';
import { CQF_MESSAGES_EXTENSION, type ApplyResult } from '../engine/types.ts';
import { nameBasedUuid } from '../util/name-based-uuid.ts';

/** Adds `issues` in front of the engine's own (they happened first); returns the same result. */
export function withDataIssues(result: ApplyResult, issues: readonly OperationOutcomeIssue[]): ApplyResult {
  if (issues.length === 0) return result;
  // The engine's placeholder ("applied without issues") is only there when it had none.
  const engineHadIssues = result.carePlan
    ? (result.carePlan.contained ?? []).includes(result.outcome)
    : (result.bundle?.entry ?? []).some((e) => e.resource?.resourceType === 'OperationOutcome');
  result.outcome.issue = engineHadIssues ? [...issues, ...result.outcome.issue] : [...issues];
  if (result.carePlan) result.carePlan = withCarePlanOutcome(result.carePlan, result.outcome, engineHadIssues);
  if (result.bundle) result.bundle = withBundleOutcome(result.bundle, result.outcome, issues);
  return result;
}

function withCarePlanOutcome(carePlan: CarePlan, operationOutcome: OperationOutcome, contained: boolean): CarePlan {
  if (contained) return carePlan; // the same object: already updated
  // Same shape as the engine's: the outcome contained last, cqf-messages right after `contained`.
  const messages: Extension = { url: CQF_MESSAGES_EXTENSION, valueReference: { reference: `#${OUTCOME_ID}` } };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(carePlan)) {
    if (key === 'extension') continue;
    out[key] = key === 'contained' ? [...(value as unknown[]), operationOutcome] : value;
    if (key === 'contained') out['extension'] = [...(carePlan.extension ?? []), messages];
  }
  return out as unknown as CarePlan;
}

function withBundleOutcome(bundle: Bundle, operationOutcome: OperationOutcome, issues: readonly OperationOutcomeIssue[]): Bundle {
  const entries = bundle.entry ?? [];
  const existing = entries.find((e) => e.resource?.resourceType === 'OperationOutcome');
  if (existing) {
    // The bundle holds a rewritten copy of the engine's outcome.
    const copy = existing.resource as OperationOutcome;
    copy.issue = [...issues, ...copy.issue];
    return bundle;
  }
  const requestGroup = entries[0]?.resource as RequestGroup | undefined;
  const fullUrl = `urn:uuid:${nameBasedUuid(bundle.id ?? '', bundle.timestamp ?? '', `OperationOutcome/${OUTCOME_ID}`)}`;
  if (requestGroup) requestGroup.extension = [...(requestGroup.extension ?? []), { url: CQF_MESSAGES_EXTENSION, valueReference: { reference: fullUrl } }];
  bundle.entry = [...entries, { fullUrl, resource: operationOutcome }];
  return bundle;
}

/**
 * ActivityDefinition/$apply answers with the request resource alone: the issues go into it as a
 * contained OperationOutcome referenced by cqf-messages, as the CarePlan carries them.
 */
export function withDataIssuesOnResource<T extends Resource>(resource: T, issues: readonly OperationOutcomeIssue[]): T {
  if (issues.length === 0) return resource;
  const holder = resource as T & { contained?: Resource[]; extension?: Extension[] };
  const taken = new Set((holder.contained ?? []).map((r) => r.id));
  let id = 'data-outcome';
  for (let n = 2; taken.has(id); n++) id = `data-outcome-${n}`;
  const dataOutcome: OperationOutcome = { resourceType: 'OperationOutcome', id, issue: [...issues] };
  holder.contained = [...(holder.contained ?? []), dataOutcome];
  holder.extension = [...(holder.extension ?? []), { url: CQF_MESSAGES_EXTENSION, valueReference: { reference: `#${id}` } }];
  return resource;
}
