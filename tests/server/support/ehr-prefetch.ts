/**
 * Plays the EHR's part in prefetch: replaces `{{context.patientId}}` in each discovery template and
 * runs it against a real FHIR server (the Medplum fixture) over HTTP, as CDS Hooks 2.0 says a
 * client does ("equivalent to the data the CDS Service would receive if it were making its own
 * call ... using the parameterized prefetch template"): all pages merged, a missing read -> null.
 * A template naming a search parameter the server does not know fails here, not in production.
 */
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirTestServer } from '../../support/fhir-test-server.ts';

export async function loadRecord(fhir: FhirTestServer, record: Resource[]): Promise<void> {
  fhir.repo.clear();
  for (const resource of record) await fhir.repo.updateResource(resource);
  fhir.requests.length = 0;
}

export async function prefetchFromFhirServer(fhir: FhirTestServer, templates: Record<string, string>, patientId: string): Promise<Record<string, Resource | null>> {
  const prefetch: Record<string, Resource | null> = {};
  for (const [key, template] of Object.entries(templates)) {
    let url: string | undefined = `${fhir.baseUrl}/${template.replaceAll('{{context.patientId}}', encodeURIComponent(patientId))}`;
    const entries: BundleEntry[] = [];
    let first: Resource | undefined;
    while (url) {
      const res = await fetch(url, { headers: { accept: 'application/fhir+json' } });
      if (res.status === 404 && !template.includes('?')) break;
      if (res.status !== 200) throw new Error(`prefetch template '${key}' failed on the FHIR server: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as Resource;
      first ??= body;
      if (body.resourceType !== 'Bundle') break;
      entries.push(...(body.entry ?? []));
      url = body.link?.find((l) => l.relation === 'next')?.url;
    }
    if (!first) prefetch[key] = null;
    else if (first.resourceType === 'Bundle') prefetch[key] = { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries };
    else prefetch[key] = first;
  }
  fhir.requests.length = 0;
  return prefetch;
}
