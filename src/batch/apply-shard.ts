/**
 * Phase 2 of a batch run, for one shard: group its lines by patient, apply every plan to every
 * patient, and return the output and failure NDJSON lines. Pure apart from the clock-free engine;
 * patients are processed in id order so the output does not depend on input order or workers.
 */
import type { Bundle, CarePlan, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, type KnowledgeBase } from '../engine/index.ts';
import { toOperationOutcome } from '../errors/operation-outcome.ts';
import { deterministicUuid } from '../fhir-server/write-back.ts';
import { lineFailure } from './failures.ts';

export interface ShardContext {
  plans: readonly PlanDefinition[];
  knowledge: KnowledgeBase;
  now: string;
  mode: 'r4' | 'cpg';
  /** Input file names by index (shard lines carry the index). */
  files: readonly string[];
}

/** Output and failure lines are `<patient id>\t<NDJSON>`, in patient-id order, for the merge. */
export interface ShardResult {
  outputs: string[];
  failures: string[];
  patients: number;
}

interface PatientGroup {
  patient?: Resource;
  resources: Resource[];
  firstLocation: string;
}

export function applyShard(text: string, context: ShardContext): ShardResult {
  const groups = new Map<string, PatientGroup>();
  const failures: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (!line) continue;
    const t1 = line.indexOf('\t');
    const t2 = line.indexOf('\t', t1 + 1);
    const t3 = line.indexOf('\t', t2 + 1);
    const location = `${context.files[Number(line.slice(0, t1))] ?? '?'}:${line.slice(t1 + 1, t2)}`;
    const patientId = line.slice(t2 + 1, t3);
    // Phase 1 already checked the line; parsing again here is what keeps phase 1 memory-free.
    const resource = JSON.parse(line.slice(t3 + 1)) as Resource;
    let group = groups.get(patientId);
    if (!group) groups.set(patientId, (group = { resources: [], firstLocation: location }));
    if (resource.resourceType === 'Patient') {
      if (group.patient) {
        failures.push(`${patientId}\t${lineFailure(location, 'structure', `Patient/${patientId} appears more than once; the first one is used`)}`);
        continue;
      }
      group.patient = resource;
    }
    group.resources.push(resource);
  }

  const outputs: string[] = [];
  let patients = 0;
  for (const patientId of [...groups.keys()].sort()) {
    const group = groups.get(patientId)!;
    if (!group.patient) {
      failures.push(`${patientId}\t` + lineFailure(group.firstLocation, 'not-found', `${group.resources.length} resource(s) reference Patient/${patientId}, which is not in the export`));
      continue;
    }
    patients++;
    const data = buildPatientData(group.resources);
    for (const plan of context.plans) {
      const canonical = `${plan.url ?? plan.id}|${plan.version ?? ''}`;
      try {
        const result = applyPlanDefinition(plan, { subject: group.patient, data }, { now: context.now, mode: context.mode }, context.knowledge);
        const output = (context.mode === 'cpg' ? result.bundle : result.carePlan) as CarePlan | Bundle | undefined;
        if (!output) throw new Error('the engine returned no result');
        // One output per patient and plan: give it an id that is unique across the population.
        output.id = deterministicUuid(`${canonical}|Patient/${patientId}|${context.now}`);
        outputs.push(`${patientId}\t${JSON.stringify(output)}`);
      } catch (err) {
        const reason = toOperationOutcome(err).issue?.[0]?.diagnostics ?? 'failed';
        failures.push(`${patientId}\t${lineFailure(`Patient/${patientId}`, 'processing', `applying ${canonical}: ${reason}`)}`);
      }
    }
  }
  // The merge needs every part in patient-id order; the sort is stable, so per-patient order stays.
  const key = (line: string) => line.slice(0, line.indexOf('\t'));
  failures.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { outputs, failures, patients };
}
