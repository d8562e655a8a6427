/**
 * SAFE-1 through the CLI: `apply` reads only the subject's compartment, whether the input holds
 * several patients (--data) or the server's $everything answers with another patient's record.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, BundleEntry, CarePlan, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FIXTURES, KNOWLEDGE, NOW, ROOT, cli } from '../support/cli.ts';

const HSG_NOW = '2026-03-10T09:00:00Z';
const hsg = ['apply', '--plan', 'hysterosalpingography', '--now', HSG_NOW];
const read = (file: string) => JSON.parse(readFileSync(join(ROOT, 'examples', file), 'utf8')) as Bundle;

// A: iodine allergy (HSG contraindicated). B: everything ready for an HSG.
const A_ID = 'hsg-ci-iodine-allergy-hycosy-patient';
const A_ALLERGY = 'hsg-ci-iodine-allergy-hycosy-iodine-allergy';
const B_ID = 'hsg-infertility-day-6-all-ready-patient';
const aBundle = read('hsg-ci-iodine-allergy-hycosy.json');
const bBundle = read('hsg-infertility-day-6-all-ready.json');

/**
 * B's entries with her references in every form SAFE-1 names (the Patient's urn:uuid fullUrl,
 * absolute on the data's base, versioned, logical by identifier), A's entries as they are.
 */
function twoPatients(): Bundle {
  const MRN = { system: 'http://hospital.example.org/mrn', value: 'B-0006' };
  const B_URN = 'urn:uuid:7d1f7a52-3c55-4c2e-9a3e-6b0b5a0e0b06';
  const forms = [{ reference: B_URN }, { reference: `https://example.org/fhir/Patient/${B_ID}` }, { reference: `Patient/${B_ID}/_history/1` }, { identifier: MRN }];
  let n = 0;
  const b: BundleEntry[] = structuredClone(bBundle.entry!).map((entry) => {
    const r = entry.resource as unknown as Record<string, unknown>;
    if (r['resourceType'] === 'Patient') return { fullUrl: B_URN, resource: { ...r, identifier: [MRN] } as Resource };
    for (const link of ['subject', 'patient']) if (r[link]) r[link] = forms[n++ % forms.length];
    return entry;
  });
  return { resourceType: 'Bundle', type: 'collection', entry: [...structuredClone(aBundle.entry!), ...b] };
}

/** The CarePlan without the SAFE-1 warnings (and the outcome they alone put there). */
function withoutDataWarnings(carePlan: CarePlan): CarePlan {
  const copy = structuredClone(carePlan);
  const oo = copy.contained?.find((r) => r.resourceType === 'OperationOutcome');
  if (!oo) return copy;
  oo.issue = oo.issue.filter((i) => !i.diagnostics?.includes('SAFE-1'));
  if (oo.issue.length === 0) {
    copy.contained = copy.contained!.filter((r) => r !== oo);
    copy.extension = (copy.extension ?? []).filter((e) => e.valueReference?.reference !== `#${oo.id}`);
    if (copy.extension.length === 0) delete copy.extension;
  }
  return copy;
}

describe('apply --data holding two patients (SAFE-1)', () => {
  const input = JSON.stringify(twoPatients());

  it("for B: the same CarePlan as from B's data alone; A's iodine allergy is neither read nor cited", async () => {
    const alone = await cli([...hsg, '--data', join(ROOT, 'examples/hsg-infertility-day-6-all-ready.json')]);
    expect(alone.code).toBe(0);
    const run = await cli([...hsg, '--data', '-', '--patient', B_ID], { stdin: input });
    expect(run.code, run.stderr).toBe(0);
    expect(withoutDataWarnings(run.json)).toEqual(alone.json);
    expect(run.stdout).not.toContain(`"reference": "AllergyIntolerance/${A_ALLERGY}"`);
    expect(run.json.contained.some((r: { doNotPerform?: boolean }) => r.doNotPerform)).toBe(false);
  });

  it('says what it left out: one warning per resource of A, on stderr and in the CarePlan outcome', async () => {
    const run = await cli([...hsg, '--data', '-', '--patient', B_ID], { stdin: input });
    const aEntries = aBundle.entry!.length;
    const oo = run.json.contained.find((r: Resource) => r.resourceType === 'OperationOutcome') as OperationOutcome;
    const warnings = oo.issue.filter((i) => i.diagnostics?.includes('SAFE-1'));
    expect(warnings).toHaveLength(aEntries);
    expect(warnings.every((i) => i.severity === 'warning' && i.code === 'processing')).toBe(true);
    const at = aBundle.entry!.findIndex((e) => e.resource?.id === A_ALLERGY);
    expect(warnings.find((i) => i.diagnostics!.startsWith(`AllergyIntolerance/${A_ALLERGY}`))).toMatchObject({
      diagnostics: expect.stringMatching(new RegExp(`stdin entry\\[${at}\\]\\) is not used: its patient is Patient/${A_ID}, not the subject Patient/${B_ID}`)),
      expression: [`Bundle.entry[${at}].resource`],
    });
    expect(run.json.extension).toContainEqual({ url: 'http://hl7.org/fhir/StructureDefinition/cqf-messages', valueReference: { reference: `#${oo.id}` } });
    expect(run.stderr.match(/^warning: .*SAFE-1/gm)).toHaveLength(aEntries);
  });

  it("for A: her own allergy contraindicates the HSG (the data matters), and none of B's records is cited", async () => {
    const run = await cli([...hsg, '--data', '-', '--patient', A_ID], { stdin: input });
    expect(run.code, run.stderr).toBe(0);
    const contraindicated = run.json.contained.find((r: { doNotPerform?: boolean }) => r.doNotPerform);
    expect(contraindicated.supportingInfo).toEqual([{ reference: `AllergyIntolerance/${A_ALLERGY}` }]);
    expect(run.stdout).not.toMatch(/"reference": "[^"]*hsg-infertility-day-6-all-ready-(?!patient)/);
  });

  it('cpg mode: the warnings are in the Bundle outcome the RequestGroup references', async () => {
    const run = await cli([...hsg, '--data', '-', '--patient', B_ID, '--mode', 'cpg'], { stdin: input });
    const bundle = run.json as Bundle;
    const entry = bundle.entry!.find((e) => e.resource?.resourceType === 'OperationOutcome')!;
    expect((entry.resource as OperationOutcome).issue.filter((i) => i.diagnostics?.includes('SAFE-1'))).toHaveLength(aBundle.entry!.length);
    expect(JSON.stringify(bundle.entry![0]!.resource)).toContain(entry.fullUrl);
  });

  it('no --patient -> an error naming both patients, not a guess (exit 2, OperationOutcome on stdout)', async () => {
    const run = await cli([...hsg, '--data', '-'], { stdin: input });
    expect(run.code).toBe(2);
    expect(run.json.resourceType).toBe('OperationOutcome');
    expect(run.json.issue[0]).toMatchObject({ severity: 'error', code: 'invalid' });
    expect(run.json.issue[0].diagnostics).toMatch(new RegExp(`2 Patients \\(${A_ID}, ${B_ID}\\): name the subject with --patient`));
  });

  it('nothing dropped: byte-identical to before (no outcome added)', async () => {
    const run = await cli([...hsg, '--data', join(ROOT, 'examples/hsg-infertility-day-6-all-ready.json')]);
    expect(run.stderr).not.toMatch(/^warning:/m);
    expect(run.json.contained.some((r: Resource) => r.resourceType === 'OperationOutcome')).toBe(false);
  });
});

describe("apply --server whose $everything returns another patient's record (SAFE-1)", () => {
  const data = JSON.parse(readFileSync(join(FIXTURES, 'patients/negative-test.json'), 'utf8')) as Bundle;
  const [patient, hcg] = data.entry!.map((e) => e.resource!) as [Resource, Resource & { subject: unknown }];
  const foreign = { ...hcg, id: 'hcg-of-someone-else', subject: { reference: 'Patient/someone-else' } };
  const noPatient = { ...hcg, id: 'hcg-of-nobody', subject: undefined };
  let server: Server;
  let base = '';

  beforeAll(async () => {
    // A server whose $everything is too generous (linked records, a misconfigured compartment).
    server = createServer((req, res) => {
      const url = req.url ?? '';
      const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(body));
      if (url.startsWith('/metadata')) {
        return send({
          resourceType: 'CapabilityStatement',
          status: 'active',
          kind: 'instance',
          fhirVersion: '4.0.1',
          format: ['json'],
          date: '2026-01-01',
          rest: [
            { mode: 'server', resource: [{ type: 'Patient', operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] }] },
          ],
        });
      }
      if (url.includes('$everything')) {
        return send({ resourceType: 'Bundle', type: 'searchset', entry: [patient, hcg, foreign, noPatient].map((resource) => ({ resource })) });
      }
      if (url.startsWith('/Patient/pat-1')) return send(patient);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  );

  it("reads only pat-1's compartment and reports what it left out", async () => {
    const fromFile = await cli(['apply', '--plan', 'demo-protocol', '--knowledge', KNOWLEDGE, '--now', NOW, '--data', join(FIXTURES, 'patients/negative-test.json')]);
    const run = await cli(['apply', '--plan', 'demo-protocol', '--knowledge', KNOWLEDGE, '--now', NOW, '--server', base, '--patient', 'pat-1', '--retries', '1']);
    expect(run.code, run.stderr).toBe(0);
    const request = run.json.contained.find((r: Resource) => r.resourceType === 'ServiceRequest');
    expect(request.reasonReference).toEqual([{ reference: 'Observation/hcg-1' }]);
    expect(withoutDataWarnings(run.json)).toEqual(fromFile.json);
    expect(run.stderr).toMatch(/warning: Observation\/hcg-of-someone-else is not used: its subject is Patient\/someone-else, not the subject Patient\/pat-1/);
    expect(run.stderr).toMatch(/warning: Observation\/hcg-of-nobody is not used: its patient cannot be established/);
  });
});
