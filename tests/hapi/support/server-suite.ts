/**
 * The integration suite, parameterised by the FHIR server's base URL: everything goes over HTTP,
 * nothing reads the server's internals, so the same tests run against the Medplum fixture in
 * `npm test` (tests/hapi/medplum-fixture.test.ts) and against a real HAPI FHIR JPA server in
 * `npm run test:hapi` (tests/hapi/hapi-server.hapi-test.ts).
 *
 * - load: the module's artifacts in one transaction, a re-run that sends nothing;
 * - a patient stored through a transaction whose entries reference each other by urn:uuid and
 *   whose Patient is created conditionally (ifNoneExist), read back by `apply --server`, and the
 *   CarePlan written back with `--write`;
 * - CDS Hooks patient-view with `fhirServer` pointing at the server (no prefetch);
 * - batch over the server's own Bulk Data `$export`, where the server offers it.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, BundleEntry, CapabilityStatement, CarePlan, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { FhirClient } from '../../../src/fhir-server/client.ts';
import { loadArtifacts, selectLoadable } from '../../../src/fhir-server/load.ts';
import { loadKnowledge, PROJECT_ROOT, readArtifacts } from '../../../src/knowledge/load-artifacts.ts';
import { cli } from '../../support/cli.ts';
import { startHarness, type Harness } from '../../server/support/harness.ts';

export interface ServerUnderTest {
  baseUrl: string;
  close(): Promise<void>;
}

export interface SuiteOptions {
  /** How the loader's transaction must address the artifacts on this server (src/fhir-server/load.ts); unset: any. */
  loadStyle?: 'conditional';
  /** The server offers Bulk Data `$export` (the batch test runs on it). */
  bulkExport: boolean;
}

const NOW = '2026-03-10T09:00:00Z';
const HSG = '168884001';
/** The example patient: HSG contraindicated by an iodine allergy, HyCoSy proposed instead. */
const EXAMPLE = 'examples/hsg-ci-iodine-allergy-hycosy.json';
const IDENTIFIER_SYSTEM = 'http://infertility-protocols.org/fhir/test-mrn';

async function fhirJson<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, { ...init, headers: { accept: 'application/fhir+json', ...init.headers } });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

/** The example's record as a transaction: Patient created if no patient has its identifier, the rest referencing it by urn:uuid. */
function exampleTransaction(patientId: string, mrn: string): { bundle: Bundle; count: number } {
  const example = JSON.parse(readFileSync(join(PROJECT_ROOT, EXAMPLE), 'utf8')) as Bundle;
  const records = (example.entry ?? []).map((e) => e.resource as Resource);
  const originalId = records.find((r) => r.resourceType === 'Patient')?.id;
  const patientUrn = 'urn:uuid:6f1c1d0e-8c1a-4f43-9a51-2f0c6c5e7b10';
  const text = JSON.stringify(records).replaceAll(`"Patient/${String(originalId)}"`, `"${patientUrn}"`);
  const entries: BundleEntry[] = (JSON.parse(text) as Resource[]).map((resource) => {
    if (resource.resourceType === 'Patient') {
      const { id: _id, ...patient } = { ...resource, identifier: [{ system: IDENTIFIER_SYSTEM, value: mrn }] };
      return { fullUrl: patientUrn, resource: patient, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${mrn}` } };
    }
    return { resource, request: { method: 'PUT', url: `${resource.resourceType}/${patientId}-${String(resource.id)}` } };
  });
  for (const entry of entries) if (entry.request?.method === 'PUT') entry.resource = { ...entry.resource, id: entry.request.url.split('/')[1] } as Resource;
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, count: entries.length };
}

/** Stores the example patient; returns the id the server gave the Patient. */
async function storeExamplePatient(baseUrl: string, tag: string): Promise<string> {
  const { bundle, count } = exampleTransaction(tag, `mrn-${tag}`);
  const posted = await fhirJson<Bundle>(baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
  expect(posted.status, JSON.stringify(posted.body).slice(0, 2000)).toBe(200);
  expect(posted.body.entry).toHaveLength(count);
  const location = posted.body.entry?.[0]?.response?.location ?? '';
  const patientId = /Patient\/([^/]+)/.exec(location)?.[1];
  expect(patientId, location).toBeTruthy();
  return patientId!;
}

function checkHsgCarePlan(carePlan: CarePlan, patientId: string): void {
  expect(carePlan.subject.reference).toBe(`Patient/${patientId}`);
  const requests = (carePlan.contained ?? []).filter((r): r is ServiceRequest => r.resourceType === 'ServiceRequest');
  expect(requests.find((r) => r.code?.coding?.some((c) => c.code === HSG))?.doNotPerform).toBe(true);
  // Day 6 after the menses: the day 5-7 window is offered from today, never from yesterday (SAFE-5).
  expect(requests.some((r) => r.code?.coding?.some((c) => c.code === 'hycosy') && r.occurrencePeriod?.start === '2026-03-10')).toBe(true);
}

export function describeAgainstServer(name: string, start: () => Promise<ServerUnderTest>, options: SuiteOptions): void {
  describe(`integration against ${name}`, () => {
    let server: ServerUnderTest;
    let capabilities: CapabilityStatement;

    beforeAll(async () => {
      server = await start();
      capabilities = (await fhirJson<CapabilityStatement>(`${server.baseUrl}/metadata`)).body;
    });
    afterAll(() => server.close());

    it('loads every artifact in one transaction; a re-run sends nothing and changes nothing', async () => {
      const artifacts = readArtifacts();
      const loadable = selectLoadable(artifacts);
      // A generous timeout: a cold HAPI on a busy 2-core machine takes tens of seconds over its first
      // transaction, and a retry sent while the first still runs collides with it (HAPI 409).
      const client = new FhirClient({ baseUrl: server.baseUrl, backoffMs: 1, maxRetries: 1, timeoutMs: 240_000 });
      const first = await loadArtifacts(client, artifacts, { dryRun: false });
      expect(first).toMatchObject({ transaction: 'posted', updated: [], ...(options.loadStyle ? { style: options.loadStyle } : {}) });
      expect(first.created).toHaveLength(loadable.length);
      for (const type of ['PlanDefinition', 'ActivityDefinition', 'ValueSet', 'CodeSystem', 'StructureDefinition']) {
        const expected = loadable.filter((l) => l.resource.resourceType === type).length;
        const found = await fhirJson<Bundle>(`${server.baseUrl}/${type}?_summary=count`);
        expect(found.body.total, type).toBe(expected);
      }
      const plan = await fhirJson<Bundle>(
        `${server.baseUrl}/PlanDefinition?url=${encodeURIComponent('http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography')}`,
      );
      const versionBefore = (plan.body.entry?.[0]?.resource as Resource | undefined)?.meta?.versionId;
      expect(versionBefore).toBeTruthy();

      // What a server normalises is not a change. meta.profile is a set: a server may store it in
      // another order (HAPI sorts it); the narrative may come back re-serialised (HAPI writes a `"`
      // of the text as &quot;). Store one artifact so, as such a server would hand it back: unchanged.
      const stored = plan.body.entry?.[0]?.resource as Resource & { text?: { status: string; div: string } };
      const profiles = stored.meta?.profile ?? [];
      expect(profiles.length).toBeGreaterThan(1);
      const div = (stored.text?.div ?? '').replace(/>([^<]*)</g, (_all, text: string) => `>${text.replaceAll('"', '&quot;')}<`);
      expect(div).toContain('&quot;');
      const reversed = { ...stored, meta: { profile: [...profiles].reverse() }, text: { status: stored.text?.status ?? 'generated', div } };
      const put = await fhirJson<Resource>(`${server.baseUrl}/PlanDefinition/${String(stored.id)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(reversed),
      });
      expect(put.status, JSON.stringify(put.body).slice(0, 500)).toBe(200);
      const versionAfterPut = put.body.meta?.versionId;

      const second = await loadArtifacts(client, artifacts, { dryRun: false });
      expect(second).toMatchObject({ transaction: 'nothing-to-do', created: [], updated: [] });
      expect(second.unchanged).toHaveLength(loadable.length);
      const after = await fhirJson<Bundle>(
        `${server.baseUrl}/PlanDefinition?url=${encodeURIComponent('http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography')}`,
      );
      expect((after.body.entry?.[0]?.resource as Resource | undefined)?.meta?.versionId).toBe(versionAfterPut ?? versionBefore);
    });

    it('a conditional create in the patient transaction does not duplicate the patient', async () => {
      const firstId = await storeExamplePatient(server.baseUrl, 'conditional');
      const secondId = await storeExamplePatient(server.baseUrl, 'conditional');
      expect(secondId).toBe(firstId);
      const patients = await fhirJson<Bundle>(`${server.baseUrl}/Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|mrn-conditional`)}`);
      expect(patients.body.entry).toHaveLength(1);
    });

    it('apply --server reads the patient from the server', async () => {
      const patientId = await storeExamplePatient(server.baseUrl, 'read');
      const run = await cli(['apply', '--plan', 'hysterosalpingography', '--server', server.baseUrl, '--patient', patientId, '--now', NOW, '--retries', '1']);
      expect(run.code, run.stderr).toBe(0);
      checkHsgCarePlan(run.json as CarePlan, patientId);
    });

    it('apply --write stores the CarePlan (the iodine allergy cited in supportingInfo, which R4 allows; HAPI checks reference targets)', async () => {
      const patientId = await storeExamplePatient(server.baseUrl, 'write');
      const run = await cli(['apply', '--plan', 'hysterosalpingography', '--server', server.baseUrl, '--patient', patientId, '--now', NOW, '--write', '--retries', '1']);
      expect(run.code, run.stderr).toBe(0);
      const stored = await fhirJson<Bundle>(`${server.baseUrl}/CarePlan?subject=${encodeURIComponent(`Patient/${patientId}`)}`);
      expect(stored.body.entry).toHaveLength(1);
      const carePlan = stored.body.entry![0]!.resource as CarePlan;
      checkHsgCarePlan(carePlan, patientId);
      const doNotPerform = (carePlan.contained ?? []).find((r): r is ServiceRequest => r.resourceType === 'ServiceRequest' && r.doNotPerform === true);
      expect(doNotPerform?.supportingInfo?.map((r) => r.reference)).toEqual([expect.stringMatching(/^AllergyIntolerance\//)]);
      expect((doNotPerform?.reasonReference ?? []).filter((r) => r.reference?.startsWith('AllergyIntolerance/'))).toEqual([]);
    });

    describe('CDS Hooks', () => {
      let harness: Harness;
      beforeAll(async () => {
        harness = await startHarness({ knowledge: loadKnowledge(), clock: () => new Date(NOW) }, { fhirServers: [server.baseUrl] });
      });
      afterAll(() => harness.close());

      it('patient-view reads the record from fhirServer (no prefetch) and warns about the contraindicated HSG', async () => {
        const patientId = await storeExamplePatient(server.baseUrl, 'cds');
        const response = await harness.post('/cds-services/hysterosalpingography-patient-view', {
          hook: 'patient-view',
          hookInstance: '0c5f0f52-54a4-4c41-8d3c-0d2b6a0f7a11',
          context: { userId: 'Practitioner/gyn-1', patientId },
          fhirServer: server.baseUrl,
          fhirAuthorization: { access_token: 'unused-by-this-server', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds-service' },
        });
        expect(response.status, response.text).toBe(200);
        const cards = (response.body as { cards: { indicator: string; summary: string }[] }).cards;
        expect(cards.filter((c) => c.indicator === 'warning').map((c) => c.summary)).toEqual([expect.stringMatching(/^Hysterosalpingography should not be performed: /)]);
      });
    });

    // Only where the server offers Bulk Data export (HAPI does; the Medplum fixture does not).
    if (options.bulkExport)
      it('batch applies the protocol to the server’s own Bulk Data $export', async () => {
        const offersExport = (capabilities.rest ?? []).some((r) => (r.operation ?? []).some((o) => o.name === 'export'));
        expect(offersExport).toBe(true);
        const patientId = await storeExamplePatient(server.baseUrl, 'bulk');
        const kickOff = await fetch(`${server.baseUrl}/Patient/$export?_type=Patient,Observation,Condition,AllergyIntolerance,Procedure`, {
          headers: { accept: 'application/fhir+json', prefer: 'respond-async' },
        });
        expect(kickOff.status, await kickOff.clone().text()).toBe(202);
        const statusUrl = kickOff.headers.get('content-location')!;
        let manifest: { output: { type: string; url: string }[] } | undefined;
        for (let i = 0; i < 240 && !manifest; i++) {
          const poll = await fetch(statusUrl, { headers: { accept: 'application/json' } });
          if (poll.status === 200) manifest = (await poll.json()) as typeof manifest;
          else await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        expect(manifest?.output.length).toBeGreaterThan(0);
        const dir = mkdtempSync(join(tmpdir(), 'bulk-'));
        try {
          const input = join(dir, 'in');
          const output = join(dir, 'out');
          mkdirSync(input);
          for (const file of manifest!.output) {
            const ndjson = await (await fetch(file.url, { headers: { accept: 'application/fhir+ndjson' } })).text();
            appendFileSync(join(input, `${file.type}.ndjson`), ndjson.endsWith('\n') ? ndjson : `${ndjson}\n`);
          }
          const run = await cli(['batch', '--in', input, '--out', output, '--now', NOW, '--plan', 'hysterosalpingography', '--workers', '1']);
          expect(run.code, run.stderr).toBe(0);
          const carePlans = readFileSync(join(output, 'CarePlan.ndjson'), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as CarePlan);
          const ours = carePlans.filter((c) => c.subject.reference === `Patient/${patientId}`);
          expect(ours).toHaveLength(1);
          checkHsgCarePlan(ours[0]!, patientId);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
  });
}
