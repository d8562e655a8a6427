/**
 * Loads the module's canonical artifacts (profiles, terminology, PlanDefinitions, ActivityDefinitions,
 * Libraries...) into a FHIR server.
 *
 * - Compare first: each artifact is looked up on the server by url + version and compared with
 *   what is there, so the plan says created / updated / unchanged before anything is written.
 * - One transaction: every create or update goes in ONE transaction Bundle of conditional updates
 *   (`PUT Type?url=...&version=...`), so the server applies all or nothing. A server that refuses
 *   such a transaction as a whole (some cap the conditional entries per transaction) wrote nothing,
 *   so by default the same changes are sent once more as keyed entries (see TransactionStyle).
 * - Idempotent: unchanged artifacts are not sent; a re-run against a loaded server posts nothing.
 * - Safe against concurrent edits: updates carry If-Match with the version we compared against,
 *   so a change made in between fails the transaction (412) instead of being overwritten.
 * - Safe to run twice at once: an artifact the server does not hold yet is created by `PUT
 *   Type/{stable id}`, the id a name-based UUID of its type, url and version. Two loads racing to
 *   create it write the same id (the second is an update to the same content), never two copies;
 *   a conditional create or update has no such guarantee across concurrent transactions (two
 *   searches may both find nothing). The id is a UUID, not the file's id, so it cannot land on a
 *   resource someone else put at that id.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { nameBasedUuid } from '../util/name-based-uuid.ts';
import { OperationOutcomeError, issue, outcome, outcomeError } from '../errors/operation-outcome.ts';
import type { LoadedArtifact } from '../knowledge/load-artifacts.ts';
import pMap from 'p-map';
import { SEARCH_CONCURRENCY, type FhirClient } from './client.ts';

type Canonical = Resource & { url?: string; version?: string };

export type LoadAction = 'create' | 'update' | 'unchanged';

export interface LoadPlanItem {
  file: string;
  resourceType: string;
  url: string;
  version?: string;
  action: LoadAction;
  /** Id on the server (absent for a create until the transaction ran). */
  serverId?: string;
  /** The versionId we compared against (sent as If-Match on update). */
  serverVersionId?: string;
  resource: Canonical;
}

export interface LoadReport {
  server: string;
  dryRun: boolean;
  /** posted: one transaction sent; nothing-to-do: all unchanged; dry-run: nothing sent. */
  transaction: 'posted' | 'nothing-to-do' | 'dry-run';
  /** How the posted transaction addressed the artifacts (`split`: keyed, in several transactions). */
  style?: 'conditional' | 'keyed' | 'split';
  /** Transactions posted (more than one only for `split`). */
  transactions?: number;
  /** Why the conditional transaction was not used: the server's refusal (style auto only). */
  fallback?: string;
  created: string[];
  updated: string[];
  unchanged: string[];
}

function label(item: { resourceType: string; url: string; version?: string }): string {
  return `${item.resourceType} ${item.url}${item.version ? `|${item.version}` : ''}`;
}

export function conditionalUrl(resourceType: string, url: string, version: string | undefined): string {
  const query = new URLSearchParams({ url });
  if (version) query.set('version', version);
  return `${resourceType}?${query.toString()}`;
}

/** The id an artifact is created with on any server: the same for the same type, url and version. */
export function stableArtifactId(item: { resourceType: string; url: string; version?: string }): string {
  return nameBasedUuid('infertility-protocols load', item.resourceType, item.url, item.version ?? '');
}

/** A list whose order carries no meaning, in one order (servers reorder them: HAPI sorts meta.profile). */
function asSet<T>(items: readonly T[]): T[] {
  return items
    .map((item) => ({ item, key: typeof item === 'string' ? item : JSON.stringify(item, Object.keys(item as object).sort()) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .filter((x, i, all) => i === 0 || all[i - 1]!.key !== x.key)
    .map((x) => x.item);
}

/**
 * The narrative as XML text, whichever way a server re-serialised it: HAPI writes a `"` of the text
 * as `&quot;` (and may write `'` as `&apos;`), the same XHTML.
 */
function comparableDiv(div: string): string {
  return div.replace(/&quot;|&#34;|&#x22;/g, '"').replace(/&apos;|&#39;|&#x27;/g, "'");
}

/**
 * Stable JSON with sorted keys, ignoring what the server owns (id, meta except profile/tag/security).
 * What a server normalises is compared as it means: meta.profile, meta.tag and meta.security as
 * sets (R4: their order carries no meaning, and HAPI stores profiles sorted), the narrative's XHTML
 * with its quote entities read (HAPI writes `"` as `&quot;`), so a re-run against HAPI says unchanged.
 */
export function comparableJson(resource: Resource): string {
  const { id: _id, meta, ...full } = resource;
  const rest: Record<string, unknown> = { ...full };
  const text = (full as { text?: { div?: unknown } }).text;
  if (typeof text?.div === 'string') rest['text'] = { ...text, div: comparableDiv(text.div) };
  const kept: Record<string, unknown> = {};
  if (meta?.profile?.length) kept['profile'] = asSet(meta.profile);
  if (meta?.tag?.length) kept['tag'] = asSet(meta.tag);
  if (meta?.security?.length) kept['security'] = asSet(meta.security);
  const value = Object.keys(kept).length ? { ...rest, meta: kept } : rest;
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The artifacts to load: canonical resources only, each url|version once. */
export function selectLoadable(artifacts: readonly LoadedArtifact[]): { file: string; resource: Canonical }[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const selected: { file: string; resource: Canonical }[] = [];
  for (const { file, resource } of artifacts) {
    const r = resource as Canonical;
    if (!r.url) {
      problems.push(`${file}: ${r.resourceType}/${r.id ?? '?'} has no url, so it cannot be loaded by canonical`);
      continue;
    }
    const key = `${r.resourceType} ${r.url}|${r.version ?? ''}`;
    const previous = seen.get(key);
    if (previous !== undefined) {
      problems.push(`${file}: ${label({ resourceType: r.resourceType, url: r.url, version: r.version })} is also defined in ${previous}`);
      continue;
    }
    seen.set(key, file);
    selected.push({ file, resource: r });
  }
  if (problems.length) {
    throw new OperationOutcomeError(outcome(...problems.map((p) => issue('error', 'invalid', p))));
  }
  return selected;
}

/** Looks every artifact up on the server and decides create / update / unchanged. */
export async function planLoad(client: FhirClient, artifacts: readonly LoadedArtifact[]): Promise<LoadPlanItem[]> {
  const loadable = selectLoadable(artifacts);
  return pMap(
    loadable,
    async ({ file, resource }) => {
      const url = resource.url!;
      // Filter exactly: some servers match `url` as a prefix (Medplum finds extra-10 for extra-1).
      const found = ((await client.searchAll(conditionalUrl(resource.resourceType, url, resource.version))) as Canonical[]).filter(
        (r) => r.resourceType === resource.resourceType && r.url === url && (resource.version === undefined || r.version === resource.version),
      );
      const base = { file, resourceType: resource.resourceType, url, resource, ...(resource.version ? { version: resource.version } : {}) };
      if (found.length > 1) {
        throw new OperationOutcomeError(
          outcome(issue('error', 'duplicate', `the server holds ${found.length} ${label(base)} (ids ${found.map((r) => r.id).join(', ')}); resolve the duplicates before loading`)),
        );
      }
      const existing = found[0];
      if (!existing) return { ...base, action: 'create' as const };
      const action: LoadAction = comparableJson(existing) === comparableJson(resource) ? 'unchanged' : 'update';
      return {
        ...base,
        action,
        ...(existing.id ? { serverId: existing.id } : {}),
        ...(existing.meta?.versionId ? { serverVersionId: existing.meta.versionId } : {}),
      };
    },
    { concurrency: SEARCH_CONCURRENCY },
  );
}

/**
 * How the transaction addresses each artifact. Creates are always `PUT Type/{stable id}` (see the
 * top of this file); updates:
 * - `conditional` (default): `PUT Type?url=..&version=..`, so the Bundle is idempotent as a whole
 *   and safe to resend;
 * - `keyed`: `PUT Type/{server id}` with If-Match - for servers
 *   that cap conditional operations inside a transaction (Medplum: at most 8 entries when any is
 *   conditional, at most 50 updates);
 * - `auto` (default for a load): conditional; if the server refuses that transaction as a whole
 *   with 400 or 422 (a transaction is all or nothing, so nothing was written), the same changes
 *   once more as keyed. Other answers (401/403, 409/412 conflicts, 429/5xx after retries) are
 *   reported as they are: keyed entries would not change them.
 */
export type TransactionStyle = 'auto' | 'conditional' | 'keyed';

/** HTTP statuses with which a server refuses a transaction's form rather than its content or caller. */
const REFUSED_AS_A_WHOLE = new Set([400, 422]);

/** The transaction Bundle for the creates and updates of a plan (undefined when there are none). */
export function loadTransaction(plan: readonly LoadPlanItem[], style: Exclude<TransactionStyle, 'auto'> = 'conditional'): Bundle | undefined {
  const entries: BundleEntry[] = plan
    .filter((item) => item.action !== 'unchanged')
    .map((item) => {
      const { meta, ...content } = item.resource;
      const keptMeta =
        meta?.profile || meta?.tag || meta?.security
          ? { meta: { ...(meta.profile ? { profile: meta.profile } : {}), ...(meta.tag ? { tag: meta.tag } : {}), ...(meta.security ? { security: meta.security } : {}) } }
          : {};
      // An update targets the server's id; a create our stable id (file ids need not be free, or
      // even allowed, on someone else's server).
      const { id: _fileId, ...withoutId } = content;
      const id = item.action === 'create' ? stableArtifactId(item) : item.serverId;
      const resource = { ...withoutId, ...keptMeta, ...(id ? { id } : {}) } as Resource;
      const keyed = style === 'keyed';
      const request: NonNullable<BundleEntry['request']> =
        item.action === 'create'
          ? { method: 'PUT', url: `${item.resourceType}/${stableArtifactId(item)}` }
          : keyed && item.serverId
            ? { method: 'PUT', url: `${item.resourceType}/${item.serverId}` }
            : { method: 'PUT', url: conditionalUrl(item.resourceType, item.url, item.version) };
      if (item.action === 'update' && item.serverVersionId) request.ifMatch = `W/"${item.serverVersionId}"`;
      return { resource, request };
    });
  return entries.length ? { resourceType: 'Bundle', type: 'transaction', entry: entries } : undefined;
}

export async function loadArtifacts(
  client: FhirClient,
  artifacts: readonly LoadedArtifact[],
  options: { dryRun: boolean; style?: TransactionStyle; log?: (message: string) => void },
): Promise<LoadReport> {
  const plan = await planLoad(client, artifacts);
  const report: LoadReport = {
    server: client.baseUrl,
    dryRun: options.dryRun,
    transaction: 'nothing-to-do',
    created: plan.filter((i) => i.action === 'create').map(label),
    updated: plan.filter((i) => i.action === 'update').map(label),
    unchanged: plan.filter((i) => i.action === 'unchanged').map(label),
  };
  const style = options.style ?? 'auto';
  if (options.dryRun) return { ...report, transaction: 'dry-run' };
  if (!plan.some((i) => i.action !== 'unchanged')) return report;
  // Every entry is a PUT (by stable id, by server id or conditional on url+version): repeating
  // the transaction after a lost reply writes nothing twice.
  const post = (as: 'conditional' | 'keyed') => client.transaction(loadTransaction(plan, as)!, true);
  let used: 'conditional' | 'keyed' | 'split' = style === 'keyed' ? 'keyed' : 'conditional';
  let fallback: string | undefined;
  let response: Bundle;
  const transactions = 1;
  try {
    response = await post(used);
  } catch (err) {
    const refusedStatus = err instanceof OperationOutcomeError ? err.upstream?.status : undefined;
    if (style !== 'auto' || !(err instanceof OperationOutcomeError) || refusedStatus === undefined || !REFUSED_AS_A_WHOLE.has(refusedStatus)) throw err;
    fallback = err.message;
    options.log?.(`the server refused the conditional transaction (${fallback}); nothing was written, sending the same changes as keyed entries`);
    used = 'keyed';
    try {
      response = await post(used);
    } catch (second) {
      if (!(second instanceof OperationOutcomeError)) throw second;
      const changed = plan.filter((i) => i.action !== 'unchanged');
      if (second.upstream?.status !== undefined && REFUSED_AS_A_WHOLE.has(second.upstream.status) && changed.length > PART_ENTRIES) {
        // Perhaps too big for one transaction here (Medplum: at most 50 updates, and creates are
        // PUTs): parts of PART_ENTRIES. Each part is atomic and every entry a PUT by id, so a run
        // stopped between parts is finished by running it again, with no copy twice; a smaller
        // load is never split, so a refusal of its content still writes nothing.
        options.log?.(`the server refused the keyed transaction too (${second.message}); sending it in parts of ${PART_ENTRIES}`);
        const parts = await postInParts(client, changed);
        return {
          ...report,
          transaction: 'posted',
          style: 'split',
          transactions: parts,
          fallback,
          created: changed.filter((i) => i.action === 'create').map(label),
          updated: changed.filter((i) => i.action === 'update').map(label),
        };
      }
      const first = issue('information', 'informational', `before that, the conditional transaction was refused: ${fallback}`);
      throw new OperationOutcomeError(outcome(...second.outcome.issue, first), { ...(second.upstream ? { upstream: second.upstream } : {}), cause: second });
    }
  }
  const changed = plan.filter((i) => i.action !== 'unchanged');
  const created: string[] = [];
  const updated: string[] = [];
  (response.entry ?? []).forEach((entry, i) => {
    const item = changed[i];
    if (!item) return;
    checkEntryStatus(entry, item);
    // What the plan said, not the status: a create by PUT may answer 200 when a concurrent load
    // created the same id first, and that is still the one copy this load meant.
    (item.action === 'create' ? created : updated).push(label(item));
  });
  return { ...report, transaction: 'posted', style: used, transactions, ...(fallback ? { fallback } : {}), created, updated };
}

function checkEntryStatus(entry: BundleEntry, item: LoadPlanItem): void {
  const status = entry.response?.status ?? '';
  if (!status.startsWith('200') && !status.startsWith('201')) {
    throw outcomeError('exception', `transaction answered ${status || 'no status'} for ${label(item)}`);
  }
}

/** Entries per transaction when a load must be split: the smallest cap known (Medplum's 50 updates). */
const PART_ENTRIES = 50;

/** Posts keyed transactions of PART_ENTRIES, in plan order; the number posted. */
async function postInParts(client: FhirClient, items: readonly LoadPlanItem[]): Promise<number> {
  let parts = 0;
  for (let start = 0; start < items.length; start += PART_ENTRIES) {
    const part = items.slice(start, start + PART_ENTRIES);
    const response = await client.transaction(loadTransaction(part, 'keyed')!, true);
    (response.entry ?? []).forEach((entry, i) => {
      if (part[i]) checkEntryStatus(entry, part[i]);
    });
    parts++;
  }
  return parts;
}
