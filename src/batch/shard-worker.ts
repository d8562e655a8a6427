/**
 * Worker thread of a batch run. It loads the knowledge once, then does both CPU-heavy phases:
 * - partition: checks the lines of the raw chunks the reader transfers to it and routes them to
 *   its own shard files (acknowledging each chunk, which is the reader's back-pressure);
 * - apply: applies one shard at a time and writes the results to part files on disk.
 * Messages carry only small descriptors; the bulk data goes through transferred buffers and files.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { loadKnowledge } from '../knowledge/load-artifacts.ts';
import { toOperationOutcome } from '../errors/operation-outcome.ts';
import { applyShard, emptyApplyTimings, type ApplyTimings, type ShardContext, type ShardCounts } from './apply-shard.ts';
import { LineFileWriter } from './line-writer.ts';
import { Partitioner, splitShard, type PartitionStats, type ShardFile } from './partition.ts';
import { fastPathOption } from '../fhirpath/fast-path/switch.ts';

export interface WorkerSetup {
  knowledgePaths: string[];
  planRefs: { url?: string; version?: string; id?: string }[];
  now: string;
  mode: 'r4' | 'cpg';
  /** Input file names by index. */
  files: string[];
  workerIndex: number;
  workDir: string;
  shardCount: number;
  /** A shard above this many bytes is split before it is loaded. */
  maxShardBytes: number;
}

export interface ShardJob {
  shard: number;
  /** The shard's files, one per partition worker that wrote to it. */
  paths: string[];
  bytes: number;
}

export type ToWorker = { type: 'chunk'; fileIndex: number; firstLine: number; data: Uint8Array } | { type: 'partition-end' } | { type: 'apply'; job: ShardJob };

export type FromWorker =
  | { type: 'chunk-done' }
  | { type: 'partitioned'; shards: ShardFile[]; failures: ShardFile | undefined; stats: PartitionStats; busyMs: number }
  | ({
      type: 'applied';
      shard: number;
      ok: true;
      outputParts: string[];
      failureParts: string[];
      badLineParts: string[];
      largestLoadedBytes: number;
      timings: ApplyTimings;
    } & ShardCounts)
  | { type: 'applied'; shard: number; ok: false; error: string };

const setup = workerData as WorkerSetup;
const knowledge = loadKnowledge(setup.knowledgePaths, fastPathOption(process.env['FHIRPATH_FAST_PATH']));
const plans = setup.planRefs.map((ref) => {
  const plan = ref.url
    ? knowledge.resolve<PlanDefinition>(ref.version ? `${ref.url}|${ref.version}` : ref.url, 'PlanDefinition')
    : knowledge.byId<PlanDefinition>('PlanDefinition', ref.id ?? '');
  if (!plan) throw new Error(`plan ${ref.url ?? ref.id} not found in the worker's knowledge`);
  return plan;
});
const context: ShardContext = { plans, knowledge, now: setup.now, mode: setup.mode, files: setup.files };
const partitioner = new Partitioner(setup.workDir, `w${setup.workerIndex}`, setup.shardCount, setup.files);
let partitionMs = 0;

/** Each level re-hashes with a new salt; distinct ids part long before this (it only guards recursion). */
const MAX_SPLIT_DEPTH = 16;

interface JobResult extends ShardCounts {
  outputParts: string[];
  failureParts: string[];
  /** Bad input lines found in phase 2, keyed by input order like the partition's failure parts. */
  badLineParts: string[];
  largestLoadedBytes: number;
}

function applyJob(paths: readonly string[], bytes: number, name: string, depth: number, result: JobResult, timings: ApplyTimings): void {
  if (bytes > setup.maxShardBytes && depth < MAX_SPLIT_DEPTH) {
    // Twice the parts strictly needed, so uneven hashing still leaves most parts under the budget.
    const parts = Math.min(256, 2 * Math.ceil(bytes / setup.maxShardBytes));
    const split = splitShard(paths, parts, depth + 1, setup.workDir, `${name}-split`);
    if (!split.onePatient) {
      for (const sub of split.files) {
        applyJob([sub.path], sub.bytes, `${name}-${sub.shard}`, depth + 1, result, timings);
        rmSync(sub.path, { force: true });
      }
      return;
    }
    // One patient bigger than the budget cannot be split: it is applied whole.
    for (const sub of split.files) rmSync(sub.path, { force: true });
  }
  result.largestLoadedBytes = Math.max(result.largestLoadedBytes, bytes);
  const files = paths.map((p) => readFileSync(p));
  const outputPath = join(setup.workDir, `${name}.out`);
  const failurePath = join(setup.workDir, `${name}.fail`);
  const badLinePath = join(setup.workDir, `${name}.bad`);
  result.outputParts.push(outputPath);
  result.failureParts.push(failurePath);
  result.badLineParts.push(badLinePath);
  const output = new LineFileWriter(outputPath);
  const failures = new LineFileWriter(failurePath);
  const badLines = new LineFileWriter(badLinePath);
  try {
    const counts = applyShard(
      files,
      context,
      {
        output: (l) => {
          output.write(l);
        },
        failure: (l) => {
          failures.write(l);
        },
        badLine: (l) => {
          badLines.write(l);
        },
      },
      timings,
    );
    result.patients += counts.patients;
    result.outputs += counts.outputs;
    result.failures += counts.failures;
  } finally {
    output.close();
    failures.close();
    badLines.close();
    // Bad lines are rare: an empty part would only add a reader to the failure merge.
    if (badLines.lines === 0) {
      rmSync(badLinePath, { force: true });
      result.badLineParts.splice(result.badLineParts.indexOf(badLinePath), 1);
    }
  }
}

function handle(message: ToWorker): FromWorker | undefined {
  switch (message.type) {
    case 'chunk': {
      const started = performance.now();
      partitioner.chunk(message.data, message.fileIndex, message.firstLine);
      partitionMs += performance.now() - started;
      return { type: 'chunk-done' };
    }
    case 'partition-end': {
      const started = performance.now();
      const { shards, failures } = partitioner.close();
      partitionMs += performance.now() - started;
      return { type: 'partitioned', shards, failures, stats: partitioner.stats, busyMs: partitionMs };
    }
    case 'apply': {
      const { job } = message;
      const result: JobResult = { patients: 0, outputs: 0, failures: 0, outputParts: [], failureParts: [], badLineParts: [], largestLoadedBytes: 0 };
      const timings = emptyApplyTimings();
      try {
        applyJob(job.paths, job.bytes, `shard-${String(job.shard).padStart(4, '0')}`, 0, result, timings);
      } catch (err) {
        // Half-written parts of this shard go; its input files stay for the caller to keep.
        for (const part of [...result.outputParts, ...result.failureParts, ...result.badLineParts]) rmSync(part, { force: true });
        return { type: 'applied', shard: job.shard, ok: false, error: toOperationOutcome(err).issue[0]?.diagnostics ?? String(err) };
      }
      // Applied: the shard's input is no longer needed, and the disk it held is given back now.
      for (const path of job.paths) rmSync(path, { force: true });
      return { type: 'applied', shard: job.shard, ok: true, ...result, timings };
    }
  }
}

parentPort!.on('message', (message: ToWorker) => {
  const reply = handle(message);
  if (reply) parentPort!.postMessage(reply);
});
