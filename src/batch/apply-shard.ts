/**
 * Phase 2 of a batch run, for one shard: group its lines by patient (as text), then one patient at
 * a time, in patient-id order: parse its resources in input order, apply every plan, serialise and
 * hand the lines to the sinks. Only the shard's text and the current patient's objects are alive,
 * so memory is bounded by the shard budget, and nothing of a patient is kept once it is written.
 */
import type { Bundle, CarePlan, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData, type KnowledgeBase } from '../engine/index.ts';
import { toOperationOutcome } from '../errors/operation-outcome.ts';
import { nameBasedUuid } from '../util/name-based-uuid.ts';
import { lineFailure } from './failures.ts';
import { forEachLineIn } from './line-chunks.ts';
import { shardLineFields, shardLinePatient } from './partition.ts';

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

/**
 * Applies one shard given as the raw bytes of its files. Lines stay bytes until their patient's
 * turn: the shard is never one big string (big strings are only freed by full GCs).
 */
export function applyShard(shardFiles: readonly Uint8Array[], context: ShardContext, sinks: ShardSinks, timings: ApplyTimings = emptyApplyTimings()): ShardCounts {
  let t = performance.now();
  const buffers = shardFiles.map((data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  // Per patient, its lines as (buffer, start, end) triples.
  const groups = new Map<string, number[]>();
  buffers.forEach((bytes, file) => {
    forEachLineIn(bytes, 1, (start, end) => {
      if (start === end) return;
      const patientId = shardLinePatient(bytes, start);
      const group = groups.get(patientId);
      if (group) group.push(file, start, end);
      else groups.set(patientId, [file, start, end]);
    });
  });
  const ids = [...groups.keys()].sort();
  timings.groupMs += performance.now() - t;

  const lineOf = (group: number[], i: number): InputLine => {
    const bytes = buffers[group[i]!]!;
    const fields = shardLineFields(bytes, group[i + 1]!, group[i + 2]!);
    return {
      order: fields.fileIndex * 2 ** 32 + fields.lineNo,
      location: `${context.files[fields.fileIndex] ?? '?'}:${fields.lineNo}`,
      json: bytes.toString('utf8', fields.json, group[i + 2]!),
    };
  };
  const counts: ShardCounts = { patients: 0, outputs: 0, failures: 0 };
  const fail = (patientId: string, outcomeLine: string) => {
    counts.failures++;
    sinks.failure(`${patientId}\t${outcomeLine}`);
  };
  for (const patientId of ids) {
    t = performance.now();
    // Several partition workers wrote this shard: restore input order, which the engine may see.
    const group = groups.get(patientId)!;
    groups.delete(patientId);
    const lines: InputLine[] = [];
    for (let i = 0; i < group.length; i += 3) lines.push(lineOf(group, i));
    lines.sort((a, b) => a.order - b.order);
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
      output.id = nameBasedUuid(canonical, `Patient/${patientId}`, context.now);
      sinks.output(`${patientId}\t${JSON.stringify(output)}`);
      counts.outputs++;
      t = now;
      now = performance.now();
      timings.serialiseMs += now - t;
    }
  }
  return counts;
}
