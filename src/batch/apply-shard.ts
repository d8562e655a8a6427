/**
 * Phase 2 of a batch run, for one shard: group its lines by patient (as text), then one patient at
 * a time, in patient-id order: parse its resources in input order, apply every plan, serialise and
 * hand the lines to the sinks. Only the shard's text and the current patient's objects are alive,
 * so memory is bounded by the shard budget, and nothing of a patient is kept once it is written.
 */
import type { Bundle, CarePlan, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, type KnowledgeBase } from '../engine/index.ts';
import { toOperationOutcome } from '../errors/operation-outcome.ts';
import { deterministicUuid } from '../fhir-server/write-back.ts';
import { lineFailure } from './failures.ts';
import { forEachLine } from './line-chunks.ts';
import { shardLinePatient } from './partition.ts';

export interface ShardContext {
  plans: readonly PlanDefinition[];
  knowledge: KnowledgeBase;
  now: string;
  mode: 'r4' | 'cpg';
  /** Input file names by index (shard lines carry the index). */
  files: readonly string[];
}

/** Where a shard's results go: lines are `<patient id>\t<NDJSON>`, in patient-id order. */
export interface ShardSinks {
  output(line: string): void;
  failure(line: string): void;
}

/** Milliseconds spent in each step, accumulated over shards (the bench prints them). */
export interface ApplyTimings {
  /** Splitting the shard text into lines and grouping them by patient. */
  groupMs: number;
  /** JSON.parse of the patients' lines and indexing the record. */
  parseMs: number;
  /** applyPlanDefinition. */
  engineMs: number;
  /** JSON.stringify of the results and handing them to the sinks (buffered writes). */
  serialiseMs: number;
}

export function emptyApplyTimings(): ApplyTimings {
  return { groupMs: 0, parseMs: 0, engineMs: 0, serialiseMs: 0 };
}

export interface ShardCounts {
  patients: number;
  outputs: number;
  failures: number;
}

interface InputLine {
  /** File index and line number in one number: sorts lines back into input order. */
  order: number;
  location: string;
  json: string;
}

function parseShardLine(line: string, files: readonly string[]): InputLine {
  const t1 = line.indexOf('\t');
  const t2 = line.indexOf('\t', t1 + 1);
  const t3 = line.indexOf('\t', t2 + 1);
  const fileIndex = Number(line.slice(0, t1));
  const lineNo = Number(line.slice(t1 + 1, t2));
  return { order: fileIndex * 2 ** 32 + lineNo, location: `${files[fileIndex] ?? '?'}:${lineNo}`, json: line.slice(t3 + 1) };
}

export function applyShard(texts: readonly string[], context: ShardContext, sinks: ShardSinks, timings: ApplyTimings = emptyApplyTimings()): ShardCounts {
  let t = performance.now();
  const groups = new Map<string, string[]>();
  for (const text of texts) {
    forEachLine(text, 1, (line) => {
      if (!line) return;
      const patientId = shardLinePatient(line);
      const group = groups.get(patientId);
      if (group) group.push(line);
      else groups.set(patientId, [line]);
    });
  }
  const ids = [...groups.keys()].sort();
  timings.groupMs += performance.now() - t;

  const counts: ShardCounts = { patients: 0, outputs: 0, failures: 0 };
  const fail = (patientId: string, outcomeLine: string) => {
    counts.failures++;
    sinks.failure(`${patientId}\t${outcomeLine}`);
  };
  for (const patientId of ids) {
    t = performance.now();
    // Several partition workers wrote this shard: restore input order, which the engine may see.
    const lines = groups.get(patientId)!.map((l) => parseShardLine(l, context.files)).sort((a, b) => a.order - b.order);
    groups.delete(patientId);
    let patient: Resource | undefined;
    const resources: Resource[] = [];
    for (const line of lines) {
      const resource = JSON.parse(line.json) as Resource;
      if (resource.resourceType === 'Patient') {
        if (patient) {
          fail(patientId, lineFailure(line.location, 'structure', `Patient/${patientId} appears more than once; the first one is used`));
          continue;
        }
        patient = resource;
      }
      resources.push(resource);
    }
    if (!patient) {
      timings.parseMs += performance.now() - t;
      fail(patientId, lineFailure(lines[0]!.location, 'not-found', `${resources.length} resource(s) reference Patient/${patientId}, which is not in the export`));
      continue;
    }
    counts.patients++;
    const data = buildPatientData(resources);
    let now = performance.now();
    timings.parseMs += now - t;
    for (const plan of context.plans) {
      const canonical = `${plan.url ?? plan.id}|${plan.version ?? ''}`;
      t = now;
      let output: CarePlan | Bundle | undefined;
      try {
        const result = applyPlanDefinition(plan, { subject: patient, data }, { now: context.now, mode: context.mode }, context.knowledge);
        output = (context.mode === 'cpg' ? result.bundle : result.carePlan) as CarePlan | Bundle | undefined;
        if (!output) throw new Error('the engine returned no result');
      } catch (err) {
        const reason = toOperationOutcome(err).issue?.[0]?.diagnostics ?? 'failed';
        fail(patientId, lineFailure(`Patient/${patientId}`, 'processing', `applying ${canonical}: ${reason}`));
        now = performance.now();
        timings.engineMs += now - t;
        continue;
      }
      now = performance.now();
      timings.engineMs += now - t;
      // One output per patient and plan: give it an id that is unique across the population.
      output.id = deterministicUuid(`${canonical}|Patient/${patientId}|${context.now}`);
      sinks.output(`${patientId}\t${JSON.stringify(output)}`);
      counts.outputs++;
      t = now;
      now = performance.now();
      timings.serialiseMs += now - t;
    }
  }
  return counts;
}
