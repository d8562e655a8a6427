/**
 * A FHIR Bulk Data Access (v2) `$export` client: kick-off, status polling, download, clean-up.
 * https://hl7.org/fhir/uv/bulkdata/export.html
 *
 * - Kick-off at Patient level (`Patient/$export`: the Patient compartment, what the protocols read)
 *   where the CapabilityStatement offers it, else at system level (`$export`); `_type` is limited
 *   to the types the caller needs. The kick-off and every poll go through FhirClient, so they share
 *   its timeouts, retries (429/5xx, Retry-After), credentials and same-origin rule.
 * - Polling honours the server's Retry-After (bounded), else backs off exponentially; X-Progress is
 *   logged. A deadline bounds the whole export: past it the job is cancelled (DELETE) and the
 *   export fails with a `timeout` OperationOutcome.
 * - Each output file is streamed to disk (never held in memory). With `requiresAccessToken` the
 *   bearer token goes with the download, and then only to the FHIR server's own origin (the token
 *   is not sent elsewhere); without it, downloads carry no credentials.
 * - Error files (NDJSON of OperationOutcome) are read and returned as lines for the failures report.
 * - The status URL is DELETEd once the files are down (the server may then remove them).
 *
 * Group-level export is not used: it needs a Group the caller names (not offered on the CLI yet).
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { z } from 'zod';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { parseRetryAfter, type AccessTokenProvider, type FhirClient } from './client.ts';

export type ExportLevel = 'Patient' | 'system';

export interface BulkExportOptions {
  client: FhirClient;
  /** The credentials the client uses: sent with downloads when the manifest requires a token. */
  auth?: AccessTokenProvider;
  level: ExportLevel;
  /** Resource types to export (`_type`). */
  types: readonly string[];
  /** Folder the NDJSON files are written to (`<Type>.<n>.ndjson`). */
  dir: string;
  /** The whole export (kick-off to last download) must finish within this, ms. Default 1 h. */
  timeoutMs?: number;
  /** First poll delay without Retry-After (doubling), and the longest wait between polls, ms. */
  minPollMs?: number;
  maxPollMs?: number;
  /** Per-download timeout, ms (a file can be large). Default 10 min. */
  downloadTimeoutMs?: number;
  log?: (message: string) => void;
  /** How to wait (tests record the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
}

export interface BulkExportReport {
  level: ExportLevel;
  files: { type: string; path: string; bytes: number }[];
  /** OperationOutcome resources from the server's error files, one JSON text each. */
  errors: string[];
  polls: number;
}

/** The completion manifest (the parts this client reads); a trust boundary. */
const Manifest = z.object({
  transactionTime: z.string().optional(),
  requiresAccessToken: z.boolean(),
  output: z.array(z.object({ type: z.string().regex(/^[A-Z][A-Za-z]+$/), url: z.url({ protocol: /^https?$/ }) })),
  error: z.array(z.object({ type: z.string(), url: z.url({ protocol: /^https?$/ }) })).default([]),
});
type Manifest = z.infer<typeof Manifest>;

const OperationOutcomeLine = z.looseObject({ resourceType: z.literal('OperationOutcome'), issue: z.array(z.looseObject({})).min(1) });

const failure = (code: 'timeout' | 'exception' | 'security' | 'transient' | 'not-supported', text: string) =>
  new OperationOutcomeError(outcome(issue('error', code, text)), { upstream: {} });

const defaultSleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/** Which export the server offers: Patient level first (the compartment is what is read), then system level. */
export function exportLevelOffered(cs: CapabilityStatement): ExportLevel | undefined {
  const rests = cs.rest ?? [];
  const named = (ops: { name: string; definition: string }[] | undefined, suffix: string) => (ops ?? []).some((op) => op.name === 'export' || op.definition.endsWith(suffix));
  if (rests.some((r) => (r.resource ?? []).some((res) => res.type === 'Patient' && named(res.operation, '/patient-export')))) return 'Patient';
  if (rests.some((r) => named(r.operation, '/export'))) return 'system';
  return undefined;
}

export async function bulkExport(options: BulkExportOptions): Promise<BulkExportReport> {
  const { client } = options;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
  const minPollMs = options.minPollMs ?? 1000;
  const maxPollMs = options.maxPollMs ?? 60_000;
  const query = new URLSearchParams({ _outputFormat: 'application/fhir+ndjson', _type: [...options.types].sort().join(',') });
  const path = `${options.level === 'Patient' ? 'Patient/' : ''}$export?${query.toString()}`;

  // ---- kick-off ----
  const kickOff = await client.request<unknown>('GET', path, { headers: { accept: 'application/fhir+json', prefer: 'respond-async' } });
  const statusUrl = kickOff.headers.get('content-location');
  if (kickOff.status !== 202 || !statusUrl) {
    throw failure(
      'exception',
      `FHIR server ${client.baseUrl} answered the $export kick-off (GET ${path}) with HTTP ${kickOff.status}${statusUrl ? '' : ' and no Content-Location'}, not 202 Accepted with a status URL`,
    );
  }
  options.log?.(`$export started at ${options.level} level on ${client.baseUrl}; status at ${statusUrl}`);
  const cancel = async (why: string) => {
    try {
      await client.request<unknown>('DELETE', statusUrl, { headers: { accept: 'application/json' } });
    } catch (err) {
      options.log?.(`could not cancel the export at ${statusUrl} (${why}): ${(err as Error).message}`);
    }
  };

  // ---- poll ----
  let manifest: Manifest | undefined;
  let polls = 0;
  for (let attempt = 0; !manifest; attempt++) {
    const status = await client.request<unknown>('GET', statusUrl, { headers: { accept: 'application/json' } });
    polls++;
    if (status.status === 200) {
      const parsed = Manifest.safeParse(status.body);
      if (!parsed.success) {
        throw failure(
          'exception',
          `the $export manifest from ${statusUrl} is not a Bulk Data manifest: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`,
        );
      }
      manifest = parsed.data;
      break;
    }
    if (status.status !== 202) throw failure('exception', `the $export status ${statusUrl} answered HTTP ${status.status}, neither 202 (in progress) nor 200 (complete)`);
    const progress = status.headers.get('x-progress');
    const retryAfter = parseRetryAfter(status.headers.get('retry-after'));
    const wait = Math.min(maxPollMs, Math.max(minPollMs, retryAfter ?? minPollMs * 2 ** Math.min(attempt, 16)));
    if (Date.now() + wait > deadline) {
      await cancel('timed out');
      throw failure(
        'timeout',
        `the $export on ${client.baseUrl} did not complete within ${Math.round((options.timeoutMs ?? 3_600_000) / 1000)} s (${polls} poll(s)${progress ? `, last progress: ${progress}` : ''}); it was cancelled`,
      );
    }
    options.log?.(`$export in progress${progress ? ` (${progress})` : ''}; next poll in ${wait} ms`);
    await sleep(wait);
  }

  // ---- download ----
  const token = manifest.requiresAccessToken ? await options.auth?.token() : undefined;
  const files: BulkExportReport['files'] = [];
  const errors: string[] = [];
  try {
    for (const [index, output] of manifest.output.entries()) {
      const path = join(options.dir, `${output.type}.${String(index).padStart(4, '0')}.ndjson`);
      const bytes = await download(output.url, path, manifest.requiresAccessToken, token, options, deadline);
      files.push({ type: output.type, path, bytes });
      options.log?.(`downloaded ${output.type} (${bytes} bytes) from ${output.url}`);
    }
    for (const [index, error] of manifest.error.entries()) {
      // Not *.ndjson: the folder's NDJSON files are the batch's input.
      const path = join(options.dir, `.export-error-${index}.tmp`);
      await download(error.url, path, manifest.requiresAccessToken, token, options, deadline);
      errors.push(...(await readErrorFile(path, error.url)));
      await rm(path, { force: true });
    }
  } catch (err) {
    await cancel('a download failed');
    throw err;
  }
  await cancel('done');
  return { level: options.level, files, errors, polls };
}

/** Streams one file to `path`; the bytes written. */
async function download(url: string, path: string, requiresToken: boolean, token: string | undefined, options: BulkExportOptions, deadline: number): Promise<number> {
  const headers: Record<string, string> = { accept: 'application/fhir+ndjson' };
  if (requiresToken) {
    // The token is for the FHIR server; a file elsewhere would receive it.
    if (new URL(url).origin !== new URL(options.client.baseUrl).origin) {
      throw failure('security', `the $export file ${url} requires the access token but is not on the FHIR server ${options.client.baseUrl}; the token is not sent elsewhere`);
    }
    if (token) headers['authorization'] = `Bearer ${token}`;
  }
  const timeout = Math.max(1, Math.min(options.downloadTimeoutMs ?? 600_000, deadline - Date.now()));
  let response: Response;
  try {
    // With the token, a redirect is not followed (the token would go with it).
    response = await fetch(url, { headers, redirect: requiresToken ? 'manual' : 'follow', signal: AbortSignal.timeout(timeout) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw failure(err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'transient', `downloading the $export file ${url} failed: ${cause}`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw failure(response.status >= 500 || response.status === 429 ? 'transient' : 'exception', `downloading the $export file ${url} answered HTTP ${response.status}`);
  }
  let bytes = 0;
  let last = 10;
  const counted = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>).map((chunk: Buffer) => {
    bytes += chunk.byteLength;
    if (chunk.byteLength > 0) last = chunk[chunk.byteLength - 1]!;
    return chunk;
  });
  try {
    await pipeline(counted, createWriteStream(path));
  } catch (err) {
    throw failure('transient', `downloading the $export file ${url} broke off: ${(err as Error).message}`);
  }
  // Files are concatenated by the batch line by line: each ends with a newline.
  if (last !== 10) {
    await new Promise<void>((resolve, reject) => {
      const stream = createWriteStream(path, { flags: 'a' });
      stream.on('error', reject);
      stream.end('\n', resolve);
    });
  }
  return bytes;
}

/** The OperationOutcome lines of an error file; a line that is not one is reported as such. */
async function readErrorFile(path: string, url: string): Promise<string[]> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  return lines.map((line, index) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (OperationOutcomeLine.safeParse(value).success) return JSON.stringify(value);
    return JSON.stringify(outcome(issue('error', 'structure', `line ${index + 1} of the $export error file ${url} is not an OperationOutcome`)));
  });
}
