/**
 * Side by side with HAPI FHIR's own PlanDefinition/$apply (cqf clinical-reasoning, in our
 * reference server interop/hapi): each of our PlanDefinitions applied to each clinical test case
 * through HAPI (POST PlanDefinition/{id}/$apply with the case's record as `data`) and through our
 * engine, in the same run on the same machine. Prints, per plan, how many results agree (the same
 * set of proposed and do-not-perform request codes) or differ, HAPI's errors, and the latency of
 * ours (in-process) and theirs (over loopback HTTP, their server warmed up), with the ratio.
 * Figures only, no assertions.
 *
 *   npm run bench:hapi      (HAPI_BASE_URL=<url>/fhir to use a running server)
 */
import { performance } from 'node:perf_hooks';
import type { Bundle, PlanDefinition } from '@medplum/fhirtypes';
import { FhirClient } from '../src/fhir-server/client.ts';
import { loadArtifacts } from '../src/fhir-server/load.ts';
import { applyPlanDefinition, buildPatientData } from '../src/engine/index.ts';
import { loadKnowledge, readArtifacts } from '../src/knowledge/load-artifacts.ts';
import { PLAN_IDS, readClinicalCases } from '../scripts/hapi/engine-outputs.ts';
import { startHapiServer } from '../scripts/hapi/hapi-server.ts';

/** The parts of a result read here, whatever the resource type (JSON from HAPI or our engine). */
interface AnyResource {
  resourceType: string;
  code?: { coding?: { code?: string }[] };
  doNotPerform?: boolean;
  contained?: AnyResource[];
  issue?: { severity?: string; diagnostics?: string }[];
}

/** What a result proposes: `code` or `!code` (do not perform) of every request it holds. */
function requestCodes(carePlan: AnyResource | undefined): string[] {
  const codes = new Set<string>();
  for (const r of carePlan?.contained ?? []) {
    if (r.resourceType === 'RequestGroup' || r.resourceType === 'OperationOutcome' || r.resourceType === 'Goal') continue;
    const code = r.code?.coding?.[0]?.code;
    if (code) codes.add(`${r.doNotPerform ? '!' : ''}${code}`);
  }
  return [...codes].sort();
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

// HAPI_BASE_URL: use a HAPI server already running (e.g. `node scripts/hapi/hapi-server.ts start`).
const external = process.env['HAPI_BASE_URL'];
const server = external ? { baseUrl: external, stop: () => Promise.resolve() } : await startHapiServer();
try {
  const artifacts = readArtifacts();
  await loadArtifacts(new FhirClient({ baseUrl: server.baseUrl }), artifacts, { dryRun: false });
  const knowledge = loadKnowledge();
  const cases = readClinicalCases();
  console.log(`HAPI FHIR ${server.baseUrl}: ${String(PLAN_IDS.length)} plans x ${String(cases.length)} clinical cases\n`);
  console.log('| plan | cases | agree | differ | HAPI HTTP error | HAPI expression errors | ours p50 | HAPI p50 | HAPI / ours |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const examples: string[] = [];
  const allOurs: number[] = [];
  const allTheirs: number[] = [];
  for (const planId of PLAN_IDS) {
    const plan = knowledge.byId<PlanDefinition>('PlanDefinition', planId)!;
    const found = (await (await fetch(`${server.baseUrl}/PlanDefinition?url=${encodeURIComponent(plan.url!)}`, { headers: { accept: 'application/fhir+json' } })).json()) as Bundle;
    const serverId = found.entry?.[0]?.resource?.id;
    if (!serverId) throw new Error(`${planId} is not on the server`);
    let agree = 0;
    let differ = 0;
    let errors = 0;
    let withErrors = 0;
    const ours: number[] = [];
    const theirs: number[] = [];
    for (const [index, clinicalCase] of cases.entries()) {
      const started = performance.now();
      const result = applyPlanDefinition(plan, { subject: clinicalCase.subject, data: buildPatientData(clinicalCase.resources) }, { now: clinicalCase.now }, knowledge);
      ours.push(performance.now() - started);
      const parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'subject', valueString: `Patient/${String(clinicalCase.subject.id)}` },
          { name: 'useServerData', valueBoolean: false },
          { name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: clinicalCase.resources.map((resource) => ({ resource })) } },
        ],
      };
      const sent = performance.now();
      const response = await fetch(`${server.baseUrl}/PlanDefinition/${serverId}/$apply`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
        body: JSON.stringify(parameters),
      });
      const body = (await response.json()) as AnyResource;
      // The first call of each plan warms HAPI's caches (compiled expressions): not timed.
      if (index > 0) theirs.push(performance.now() - sent);
      if (!response.ok) {
        errors += 1;
        if (errors === 1) examples.push(`${planId} ${clinicalCase.name}: HAPI HTTP ${String(response.status)}: ${(body.issue?.[0]?.diagnostics ?? '').slice(0, 200)}`);
        continue;
      }
      const expressionErrors = (body.contained ?? []).filter((r) => r.resourceType === 'OperationOutcome').flatMap((o) => o.issue ?? []);
      if (expressionErrors.length > 0) {
        withErrors += 1;
        if (withErrors === 1) examples.push(`${planId} ${clinicalCase.name}: HAPI's CarePlan reports: ${(expressionErrors[0]?.diagnostics ?? '').slice(0, 240)}`);
      }
      const a = requestCodes(result.carePlan as unknown as AnyResource | undefined);
      const b = requestCodes(body);
      if (JSON.stringify(a) === JSON.stringify(b)) agree += 1;
      else {
        differ += 1;
        if (differ === 1) examples.push(`${planId} ${clinicalCase.name}: ours [${a.join(' ')}] / HAPI [${b.join(' ')}]`);
      }
    }
    allOurs.push(...ours);
    allTheirs.push(...theirs);
    const ratio = median(theirs) / median(ours);
    console.log(
      `| ${planId} | ${String(cases.length)} | ${String(agree)} | ${String(differ)} | ${String(errors)} | ${String(withErrors)} | ${median(ours).toFixed(2)} ms | ${median(theirs).toFixed(1)} ms | ${ratio.toFixed(0)}x |`,
    );
  }
  console.log(
    `\nall: ours p50 ${median(allOurs).toFixed(2)} ms, HAPI p50 ${median(allTheirs).toFixed(1)} ms, latency ratio HAPI/ours ${(median(allTheirs) / median(allOurs)).toFixed(0)}x`,
  );
  console.log('\nfirst difference or error per plan:');
  for (const line of examples) console.log(`  ${line}`);
} finally {
  await server.stop();
}
