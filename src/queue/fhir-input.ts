/**
 * `batch --in <FHIR server base>`: the population read from a FHIR server into a Bulk-Data-shaped
 * folder (`<Type>.ndjson`), which the batch - single-process or distributed - then applies like any
 * export. Today by paged search: every Patient (`Patient?_count=...`, all pages), then each one's
 * record as `apply --server` reads it (`$everything` where offered, else one search per type the
 * plans read: fetchPatientRecord). Bulk `$export` (kick-off, poll, download) is not built yet: a
 * server offering it is still read by search, and the log says so (docs/scale.md, not done).
 *
 * Each resource is written once (Type/id), in patient order, so the folder - and the batch's
 * output - are the same however the concurrent reads interleave. The Patient-compartment check
 * (SAFE-1) is the batch's, as for any export.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { DataRequirement } from '@medplum/fhirtypes';
import pMap from 'p-map';
import { SEARCH_CONCURRENCY, type FhirClient } from '../fhir-server/client.ts';
import { fetchPatientRecord } from '../fhir-server/patient-record.ts';

/** Patients whose records are read concurrently and then written in order. */
const PATIENTS_PER_ROUND = 64;

export interface ServerInputReport {
  server: string;
  method: 'search';
  patients: number;
  resources: number;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text))
    await new Promise<void>((resolve) =>
      stream.once('drain', () => {
        resolve();
      }),
    );
}

export async function readServerIntoFolder(client: FhirClient, dir: string, requirements: readonly DataRequirement[], log?: (message: string) => void): Promise<ServerInputReport> {
  if (await client.supportsOperation('Patient', 'export')) {
    log?.(`${client.baseUrl} offers Bulk Data $export; this version reads it by paged search (export its data and pass the folder to --in for large populations)`);
  }
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
  return { server: client.baseUrl, method: 'search', patients: patientIds.length, resources };
}
