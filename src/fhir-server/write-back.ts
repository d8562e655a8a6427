/**
 * Writes an $apply result back to the server as ONE transaction, so the CarePlan and its requests
 * appear together or not at all.
 *
 * - r4 mode: the CarePlan keeps its RequestGroup, requests, Goals and Tasks contained (that is the
 *   R4 $apply shape), so the transaction has one entry.
 * - cpg mode: every resource of the result Bundle is POSTed with a urn:uuid fullUrl and the
 *   references between them are rewritten to those urn:uuids; the server replaces them with the
 *   ids it assigns.
 *
 * The urn:uuids are derived from the content's identity (plan, subject, now, Type/id), so the same
 * apply gives the same transaction Bundle byte for byte.
 *
 * Safe to send twice: each resource carries its transaction uuid as an identifier (the bare uuid:
 * servers rewrite every `urn:uuid:` string of a transaction that names an entry, identifier values
 * included) and is a conditional create (`ifNoneExist: identifier=...`), so a retry after
 * a lost reply, or the same apply run again, finds what the first one wrote instead of writing it
 * twice. (Medplum caps conditional transactions at 8 entries: a cpg result with more is refused as a
 * whole there, nothing written.)
 *
 * A retry after a timeout can meet the first attempt, which the server went on to run: HAPI answers
 * the retry's conditional create with 409 (it collided with the first insert) or 412 (the
 * identifier already matches). That is not a failure of the write: each entry is read back by its
 * stable identifier, and when every one is there exactly once the write is reported as already done
 * (`existing`). Only when the first attempt left nothing (or two copies) does the error stand.
 */
import { nameBasedUuid } from '../util/name-based-uuid.ts';
import { rewriteReferences } from '../util/rewrite-references.ts';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome, outcomeError } from '../errors/operation-outcome.ts';
import type { FhirClient } from './client.ts';

/** The identifier system of a write-back's stable identifiers (the value is a name-based uuid). */
export const WRITE_BACK_IDENTIFIER_SYSTEM = 'http://infertility-protocols.org/fhir/identifier/apply-result';

export interface WriteBackInput {
  mode: 'r4' | 'cpg';
  /** r4: the CarePlan; cpg: the result Bundle. */
  result: Resource;
  /** Seed for the urn:uuids (e.g. plan canonical + subject + now). */
  seed: string;
}

/** Resources a server stores; an OperationOutcome describes this apply and is not persisted. */
const NOT_PERSISTED = new Set(['OperationOutcome']);

function withoutDanglingExtensions(value: unknown, dropped: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(v && typeof v === 'object' && dropped.has((v as { valueReference?: { reference?: string } }).valueReference?.reference ?? '')))
      .map((v) => withoutDanglingExtensions(v, dropped));
  }
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, withoutDanglingExtensions(v, dropped)]));
}

export function writeBackTransaction({ mode, result, seed }: WriteBackInput): Bundle {
  const entries: { fullUrl?: string; resource: Resource }[] =
    mode === 'r4'
      ? [{ resource: result }]
      : ((result as Bundle).entry ?? []).filter((e) => e.resource).map((e) => ({ resource: e.resource!, ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}) }));
  const kept = entries.filter((e) => !NOT_PERSISTED.has(e.resource.resourceType));
  if (kept.length === 0) {
    throw outcomeError('processing', 'the apply result has no resources to write');
  }
  // Every name an entry may be referenced by (its fullUrl, Type/id) maps to its transaction fullUrl.
  const fullUrls = new Map<string, string>();
  const dropped = new Set<string>();
  const own = new Map<Resource, string>();
  entries.forEach((e, i) => {
    const transactionUrl = e.fullUrl?.startsWith('urn:uuid:') ? e.fullUrl : `urn:uuid:${nameBasedUuid(seed, `${e.resource.resourceType}/${e.resource.id ?? `#${i}`}`)}`;
    own.set(e.resource, transactionUrl);
    const names = [e.fullUrl, e.resource.id ? `${e.resource.resourceType}/${e.resource.id}` : undefined].filter((n): n is string => Boolean(n));
    for (const name of names) {
      if (NOT_PERSISTED.has(e.resource.resourceType)) dropped.add(name);
      else fullUrls.set(name, transactionUrl);
    }
  });
  const entry: BundleEntry[] = kept.map((e) => {
    const { id: _id, meta: _meta, ...body } = e.resource;
    const cleaned = withoutDanglingExtensions(rewriteReferences(body, fullUrls), dropped) as Resource & { identifier?: unknown[] };
    const fullUrl = own.get(e.resource)!;
    const stable = fullUrl.slice('urn:uuid:'.length);
    cleaned.identifier = [...(cleaned.identifier ?? []), { system: WRITE_BACK_IDENTIFIER_SYSTEM, value: stable }];
    return {
      fullUrl,
      resource: cleaned,
      request: { method: 'POST', url: e.resource.resourceType, ifNoneExist: `identifier=${WRITE_BACK_IDENTIFIER_SYSTEM}|${stable}` },
    };
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

export interface WriteBackReport {
  server: string;
  /** Type/id of what the server created, in transaction order. */
  created: string[];
  /** Type/id of what an earlier write of the same apply had already created (not written again). */
  existing: string[];
}

/** What a server answers a conditional create that meets an earlier write of the same identifier. */
const COLLISION_STATUSES = new Set([409, 412]);
/** Waits between read-backs while the first attempt may still be committing (ms). */
const READ_BACK_WAITS_MS = [0, 250, 1000, 3000];

/** Reads every entry back by its stable identifier; undefined unless each is there exactly once. */
async function readBack(client: FhirClient, bundle: Bundle): Promise<{ found?: string[]; problem: string }> {
  let problem = '';
  for (const wait of READ_BACK_WAITS_MS) {
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const found: string[] = [];
    for (const entry of bundle.entry ?? []) {
      const type = entry.request?.url ?? '';
      const identifier = (entry.request?.ifNoneExist ?? '').slice('identifier='.length);
      const copies = await client.searchAll(`${type}?identifier=${encodeURIComponent(identifier)}`);
      if (copies.length !== 1) {
        problem = `${type} with identifier ${identifier}: ${copies.length === 0 ? 'not on the server' : `${copies.length} copies on the server`}`;
        if (copies.length > 1) return { problem };
        break;
      }
      found.push(`${type}/${copies[0]!.id ?? ''}`);
    }
    if (found.length === (bundle.entry ?? []).length) return { found, problem: '' };
  }
  return { problem };
}

export async function writeBack(client: FhirClient, input: WriteBackInput): Promise<WriteBackReport> {
  const bundle = writeBackTransaction(input);
  // Conditional creates on stable identifiers: repeating the transaction writes nothing twice.
  let response: Bundle;
  try {
    response = await client.transaction(bundle, true);
  } catch (err) {
    const status = err instanceof OperationOutcomeError ? err.upstream?.status : undefined;
    if (status === undefined || !COLLISION_STATUSES.has(status)) throw err;
    const { found, problem } = await readBack(client, bundle);
    if (found) return { server: client.baseUrl, created: [], existing: found };
    throw new OperationOutcomeError(
      outcome(
        ...(err as OperationOutcomeError).outcome.issue,
        issue('error', 'conflict', `after HTTP ${status}, the write-back was read back by its identifiers and is not complete: ${problem}`),
      ),
      { upstream: { status }, cause: err },
    );
  }
  const created: string[] = [];
  const existing: string[] = [];
  (response.entry ?? []).forEach((e, i) => {
    const location = e.response?.location ?? '';
    const match = /([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(location);
    const status = e.response?.status ?? '';
    if (!(status.startsWith('201') || status.startsWith('200')) || !match) {
      throw new OperationOutcomeError(outcome(issue('error', 'exception', `transaction entry ${i} answered ${status || 'no status'} (location ${location || 'none'})`)));
    }
    (status.startsWith('201') ? created : existing).push(`${match[1]}/${match[2]}`);
  });
  return { server: client.baseUrl, created, existing };
}
