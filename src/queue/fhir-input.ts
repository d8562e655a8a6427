/**
 * `batch --in <FHIR server base>`: the population read from a FHIR server into a Bulk-Data-shaped
 * folder of NDJSON files, which the batch - single-process or distributed - then applies like any
 * export. Where the CapabilityStatement offers Bulk Data `$export` (Patient or system level), by
 * the export (src/fhir-server/bulk-export.ts: kick-off, poll, download, `_type` limited to the types
 * the plans read); else by paged search: every Patient (`Patient?_count=...`, all pages), then each
 * one's record as `apply --server` reads it (`$everything` where offered, else one search per type
 * the plans read: fetchPatientRecord).
 *
 * By search each resource is written once (Type/id), in patient order, so the folder - and the
 * batch's output - are the same however the concurrent reads interleave. The Patient-compartment
 * check (SAFE-1) is the batch's, as for any export.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { DataRequirement } from '@medplum/fhirtypes';
import pMap from 'p-map';
import { bulkExport, exportLevelOffered } from '../fhir-server/bulk-export.ts';
import { SEARCH_CONCURRENCY, type AccessTokenProvider, type FhirClient } from '../fhir-server/client.ts';
import { fetchPatientRecord } from '../fhir-server/patient-record.ts';

/** Patients whose records are read concurrently and then written in order. */
const PATIENTS_PER_ROUND = 64;

export interface ServerInputReport {
  server: string;
  method: 'search' | 'Patient/$export' | '$export';
  /** Counted by search; an export's files are not read here. */
  patients?: number;
  resources?: number;
  files?: number;
  bytes?: number;
  /** OperationOutcome lines from the export's error files (for the failures report). */
  errors: string[];
}

export interface ServerInputOptions {
  /** The client's credentials, for export files that require the token. */
  auth?: AccessTokenProvider;
  /** Bound on the whole export, ms. */
  exportTimeoutMs?: number;
  log?: (message: string) => void;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text))
    await new Promise<void>((resolve) =>
      stream.once('drain', () => {
        resolve();
      }),
    );
}

export async function readServerIntoFolder(
  client: FhirClient,
  dir: string,
  requirements: readonly DataRequirement[],
  options: ServerInputOptions = {},
): Promise<ServerInputReport> {
  const level = exportLevelOffered(await client.capabilities());
  if (level) {
    const types = [...new Set(['Patient', ...requirements.map((r) => r.type)])];
    const report = await bulkExport({
      client,
      level,
      types,
      dir,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.exportTimeoutMs ? { timeoutMs: options.exportTimeoutMs } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    return {
      server: client.baseUrl,
      method: level === 'Patient' ? 'Patient/$export' : '$export',
      files: report.files.length,
      bytes: report.files.reduce((sum, f) => sum + f.bytes, 0),
      errors: report.errors,
    };
  }
  const log = options.log;
  const patientIds = (await client.searchAll('Patient?_count=100&_elements=id'))
    .filter((r) => r.resourceType === 'Patient' && r.id)
    .map((r) => r.id!)
    .sort();
  const files = new Map<string, WriteStream>();
  const written = new Set<string>();
  let resources = 0;
  try {
    for (let start = 0; start < patientIds.length; start += PATIENTS_PER_ROUND) {
      const round = patientIds.slice(start, start + PATIENTS_PER_ROUND);
      const records = await pMap(round, (id) => fetchPatientRecord(client, id, requirements), { concurrency: SEARCH_CONCURRENCY });
      for (const record of records) {
        for (const resource of record.resources) {
          const key = `${resource.resourceType}/${resource.id ?? ''}`;
          if (resource.id && written.has(key)) continue;
          written.add(key);
          let file = files.get(resource.resourceType);
          if (!file) files.set(resource.resourceType, (file = createWriteStream(join(dir, `${resource.resourceType}.ndjson`))));
          await write(file, `${JSON.stringify(resource)}\n`);
          resources++;
        }
      }
      log?.(`read ${Math.min(start + PATIENTS_PER_ROUND, patientIds.length)} of ${patientIds.length} patients from ${client.baseUrl}`);
    }
  } finally {
    await Promise.all(
      [...files.values()].map(
        (s) =>
          new Promise<void>((resolve) =>
            s.end(() => {
              resolve();
            }),
          ),
      ),
    );
  }
  return { server: client.baseUrl, method: 'search', patients: patientIds.length, resources, errors: [] };
}
