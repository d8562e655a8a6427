/**
 * Phase 2 of a batch run, for one shard: group its lines by patient (as text), then one patient at
 * a time, in patient-id order: parse its resources in input order, apply every plan, serialise and
 * hand the lines to the sinks. Only the shard's text and the current patient's objects are alive,
 * so memory is bounded by the shard budget, and nothing of a patient is kept once it is written.
 */
import type { Bundle, CarePlan, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { withDataIssues } from '../data/data-issues.ts';
import { selectPatientCompartment } from '../data/patient-compartment.ts';
import type { PatientData } from '../data/patient-data.ts';
import { recordShapeProblems } from '../data/resource-shape.ts';
import { applyPlanDefinition, buildPatientData, type CompiledKnowledge } from '../engine/index.ts';
import { toOperationOutcome } from '../errors/operation-outcome.ts';
import { nameBasedUuid } from '../util/name-based-uuid.ts';
import { lineFailure } from './failures.ts';
import { forEachWrittenLine } from './line-chunks.ts';
import { inputOrderKey, shardLinePatient } from './partition.ts';
import { patientIdOf } from './patient-key.ts';
import { parseResourceLine } from './resource-line.ts';

export interface ShardContext {
  plans: readonly PlanDefinition[];
  knowledge: CompiledKnowledge;
  now: string;
  mode: 'r4' | 'cpg';
  /** Input file names by index (shard lines carry the index). */
  files: readonly string[];
}

/** Where a shard's results go. */
export interface ShardSinks {
  /** `<patient id>\t<NDJSON>`, in patient-id order. */
  output(line: string): void;
  /** `<patient id>\t<OperationOutcome>`: a patient's failure, in patient-id order. */
  failure(line: string): void;
  /**
   * `<input order key>\t<OperationOutcome>`: an input line that is not a valid resource, in input
   * order, after the shard's patients. These merge with the partition's failure parts.
   */
  badLine(line: string): void;
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
  fileIndex: number;
  lineNo: number;
  bytes: Buffer;
  /** The input line's bytes. */
  json: number;
  end: number;
}

const TAB = 0x09;

/** A shard line's header (`<file index>\t<line>\t<patient id>\t`), read without making strings. */
function inputLine(bytes: Buffer, start: number, end: number): InputLine {
  let at = start;
  let fileIndex = 0;
  for (; at < end && bytes[at] !== TAB; at++) fileIndex = fileIndex * 10 + (bytes[at]! - 0x30);
  let lineNo = 0;
  for (at++; at < end && bytes[at] !== TAB; at++) lineNo = lineNo * 10 + (bytes[at]! - 0x30);
  const json = bytes.indexOf(TAB, at + 1) + 1;
  if (json === 0 || json > end) throw new Error('corrupt shard line');
  return { order: fileIndex * 2 ** 32 + lineNo, fileIndex, lineNo, bytes, json, end };
}

/**
 * Applies one shard given as the raw bytes of its files. Lines stay bytes until their patient's
 * turn: the shard is never one big string (big strings are only freed by full GCs).
 *
 * Every line is parsed and checked here, once: the partition routed most lines by a byte scan of
 * their patient reference without parsing them. A line that is not a valid resource is reported
 * with its file:line, exactly as the partition reports the lines it checks itself, and is left out
 * of its patient's record as if it had never been routed there.
 */
export function applyShard(shardFiles: readonly Uint8Array[], context: ShardContext, sinks: ShardSinks, timings: ApplyTimings = emptyApplyTimings()): ShardCounts {
  let t = performance.now();
  const buffers = shardFiles.map((data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  // Per patient, its lines as (buffer, start, end) triples.
  const groups = new Map<string, number[]>();
  buffers.forEach((bytes, file) => {
    forEachWrittenLine(bytes, (start, end) => {
      const patientId = shardLinePatient(bytes, start);
      const group = groups.get(patientId);
      if (group) group.push(file, start, end);
      else groups.set(patientId, [file, start, end]);
    });
  });
  const ids = [...groups.keys()].sort();
  timings.groupMs += performance.now() - t;

  const locationOf = (line: InputLine) => `${context.files[line.fileIndex] ?? '?'}:${line.lineNo}`;
  const counts: ShardCounts = { patients: 0, outputs: 0, failures: 0 };
  const fail = (patientId: string, outcomeLine: string) => {
    counts.failures++;
    sinks.failure(`${patientId}\t${outcomeLine}`);
  };
  const badLines: { key: string; outcome: string }[] = [];
  for (const patientId of ids) {
    t = performance.now();
    const group = groups.get(patientId)!;
    groups.delete(patientId);
    const lines: InputLine[] = [];
    let inOrder = true;
    for (let i = 0; i < group.length; i += 3) {
      const line = inputLine(buffers[group[i]!]!, group[i + 1]!, group[i + 2]!);
      if (lines.length > 0 && line.order < lines[lines.length - 1]!.order) inOrder = false;
      lines.push(line);
    }
    // Several partition workers wrote this shard: restore input order, which the engine may see.
    if (!inOrder) lines.sort((a, b) => a.order - b.order);
    let patient: Patient | undefined;
    let firstGood: InputLine | undefined;
    const resources: Resource[] = [];
    const resourceLines: InputLine[] = [];
    for (const line of lines) {
      const resource = parseResourceLine(line.bytes.toString('utf8', line.json, line.end));
      if (typeof resource === 'string') {
        const location = locationOf(line);
        badLines.push({ key: inputOrderKey(line.fileIndex, line.lineNo), outcome: lineFailure(location, 'structure', resource) });
        continue;
      }
      // The scan's key must be the parsed resource's: a mismatch is a bug, and failing the whole
      // shard keeps its lines (in failed-shards/) instead of applying a plan to the wrong record.
      const key = patientIdOf(resource);
      if (key !== patientId) throw new Error(`${locationOf(line)} was routed to Patient/${patientId} but names ${key ? `Patient/${key}` : 'no Patient'}`);
      firstGood ??= line;
      if (resource.resourceType === 'Patient') {
        if (patient) {
          fail(patientId, lineFailure(locationOf(line), 'structure', `Patient/${patientId} appears more than once; the first one is used`));
          continue;
        }
        patient = resource;
      }
      resources.push(resource);
      resourceLines.push(line);
    }
    if (!firstGood) {
      // Only bad lines named this patient: they are reported, and there is no patient to speak of.
      timings.parseMs += performance.now() - t;
      continue;
    }
    if (!patient) {
      timings.parseMs += performance.now() - t;
      // One failure per line (docs/cli.md), so each can be found and fixed at its file:line.
      resources.forEach((r, i) => {
        fail(
          patientId,
          lineFailure(locationOf(resourceLines[i]!), 'not-found', `${r.resourceType}/${r.id ?? '(no id)'} references Patient/${patientId}, which is not in the export`),
        );
      });
      continue;
    }
    counts.patients++;
    // SAFE-1: the routing key is one link (subject, patient...); the compartment check reads them
    // all, so a line of another patient or of no established patient that was routed here is not
    // read. It is reported at its file:line and in every output's OperationOutcome.
    const record = selectPatientCompartment(resources, patient);
    if (record.dropped.length > 0) {
      const lineOf = new Map(resources.map((r, i) => [r, resourceLines[i]!]));
      record.dropped.forEach((d, i) => {
        const location = locationOf(lineOf.get(d.resource)!);
        record.issues[i] = { ...record.issues[i]!, diagnostics: `${location}: ${record.issues[i]!.diagnostics}`, expression: [location] };
        fail(patientId, lineFailure(location, 'processing', `${d.resource.resourceType}/${d.resource.id ?? '(no id)'} is not used for Patient/${patientId}: ${d.reason}`));
      });
    }
    // A resource that is not R4 in shape refuses the patient (no advice from part of the record),
    // one failure per problem at its file:line; the problems are computed again only on this path.
    let data: PatientData;
    try {
      data = buildPatientData(record.resources);
    } catch (err) {
      timings.parseMs += performance.now() - t;
      const lineOf = new Map(resources.map((r, i) => [r, resourceLines[i]!]));
      const problems = recordShapeProblems(record.resources);
      if (problems.length === 0) throw err;
      for (const p of problems) {
        fail(patientId, lineFailure(locationOf(lineOf.get(record.resources[p.index]!)!), 'structure', `${p.expression}: ${p.message}; Patient/${patientId} is not applied`));
      }
      continue;
    }
    let now = performance.now();
    timings.parseMs += now - t;
    for (const plan of context.plans) {
      const canonical = `${plan.url ?? plan.id}|${plan.version ?? ''}`;
      t = now;
      let output: CarePlan | Bundle | undefined;
      try {
        const result = withDataIssues(applyPlanDefinition(plan, { subject: patient, data }, { now: context.now, mode: context.mode }, context.knowledge), record.issues);
        output = context.mode === 'cpg' ? result.bundle : result.carePlan;
        if (!output) throw new Error('the engine returned no result');
      } catch (err) {
        const reason = toOperationOutcome(err).issue[0]?.diagnostics ?? 'failed';
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
  badLines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const bad of badLines) {
    counts.failures++;
    sinks.badLine(`${bad.key}\t${bad.outcome}`);
  }
  return counts;
}
