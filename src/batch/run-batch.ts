/**
 * Population apply over a FHIR Bulk Data export (a folder of NDJSON files).
 *
 * 0. Start the workers (each loads the knowledge; this overlaps the reading).
 * 1. Partition: the main thread reads the files as ~1 MiB chunks of whole lines and transfers
 *    them to the workers, at most CHUNKS_PER_WORKER unacknowledged per worker (back-pressure).
 *    Workers find each line's patient (a byte scan, or a full parse where the scan is not sure)
 *    and append the line to their own shard file of that patient; bad lines they find go to a
 *    failure part with their file:line.
 * 2. Apply: workers pull shards (shard k = the k files of every worker); a shard above the budget
 *    is split first; one shard is in memory per worker, one patient's objects at a time. Every line
 *    is parsed here; bad lines the scan routed are reported like the partition's, by file:line.
 * 3. Commit: byte-level k-way merges of the sorted parts into CarePlan.ndjson (Bundle.ndjson in cpg
 *    mode) and OperationOutcome.ndjson in the run folder; the work files go, and one rename of the
 *    run folder onto --out commits them (run-folder.ts: removed on every exit path, swept after a kill -9).
 *    Output is in patient-id order, so it is byte-identical whatever the shard or worker count.
 *
 * Peak memory: per worker one shard (<= budget) plus fixed buffers, plus the chunks in flight -
 * whatever the input size. The main thread holds no per-line or per-patient state.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import { emptyApplyTimings, type ApplyTimings } from './apply-shard.ts';
import { BoundedDispatcher } from './bounded-dispatch.ts';
import { lineFailure } from './failures.ts';
import { readLineChunks, type LineChunk } from './line-chunks.ts';
import { LineFileWriter } from './line-writer.ts';
import { OutputFile, mergeSortedParts } from './merge.ts';
import { inputOrderKey, type PartitionStats, type ShardFile } from './partition.ts';
import type { FromWorker, ShardJob, WorkerSetup } from './shard-worker.ts';
import { openRunFolder } from './run-folder.ts';
import { WorkerPool } from './worker-pool.ts';

/** Bytes of input per chunk transferred to a worker. */
const CHUNK_BYTES = 1 << 20;
/** Unacknowledged chunks a worker may hold: one being parsed, one waiting, so it never idles. */
const CHUNKS_PER_WORKER = 2;
const DEFAULT_MAX_SHARD_BYTES = 8 * 1024 * 1024;
/**
 * No patient-compartment resource the protocols read comes near this; a line beyond it is a broken
 * export (a whole JSON document on one line, a file that is not NDJSON), and reading it whole would
 * break the memory bound.
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface BatchOptions {
  inDir: string;
  outDir: string;
  knowledgePaths: string[];
  planRefs: WorkerSetup['planRefs'];
  now: string;
  mode: 'r4' | 'cpg';
  workers?: number;
  /** Memory budget per shard (bytes of shard lines). Default 8 MiB. */
  maxShardBytes?: number;
  /** Input chunk size (bytes); small values exercise the chunking in tests. Default 1 MiB. */
  chunkBytes?: number;
  /** A longer input line is reported (file:line, too-long) and skipped unread. Default 64 MiB. */
  maxLineBytes?: number;
  onProgress?: (event: { phase: 'partition' | 'apply' | 'merge'; done: number; total: number; patients: number }) => void;
  /** Run folders of earlier runs that were killed (kill -9), removed before this one starts. */
  onSwept?: (paths: string[]) => void;
}

/** Where the time went, in seconds: wall time per phase, and the workers' busy time per step. */
export interface BatchTimings {
  wall: { partition: number; apply: number; merge: number; total: number };
  /** Summed over workers. */
  busy: { partition: number; group: number; parse: number; engine: number; serialise: number };
}

export interface BatchSummary {
  input: string[];
  output: { file: string; lines: number }[];
  patients: number;
  plans: number;
  lines: number;
  skipped: number;
  failures: number;
  shards: number;
  workers: number;
  /** The largest shard a worker held in memory at once (bytes of shard lines). */
  largestShardBytes: number;
  /** The most input chunks that were in flight to workers at once (bounded by workers x 2). */
  maxChunksInFlight: number;
  timings: BatchTimings;
}

/** The export's NDJSON files, in name order (a file's index in this list keys its lines). */
export function listInputs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new OperationOutcomeError(
      outcome(issue('error', 'not-found', `--in ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`)),
    );
  }
  const files = names
    .filter((n) => n.endsWith('.ndjson'))
    .sort()
    .map((n) => join(dir, n));
  if (files.length === 0) throw new OperationOutcomeError(outcome(issue('error', 'not-found', `--in ${dir} holds no .ndjson files`)));
  return files;
}

export function inputBytes(files: readonly string[]): number {
  return files.reduce((sum, f) => sum + statSync(f).size, 0);
}

/**
 * Reads every input file as chunks of whole lines, in file order - the read loop of the
 * single-process batch and of the queue coordinator. A line over `maxLineBytes` is not read: it is
 * a `too-long` failure written to `tooLong` under its input order key (a sorted failure part).
 */
export async function forEachInputChunk(
  files: readonly string[],
  options: {
    chunkBytes: number;
    maxLineBytes: number;
    tooLong: LineFileWriter;
    onChunk: (chunk: LineChunk, fileIndex: number) => Promise<void> | void;
    onSkipped?: (bytes: number) => void;
  },
): Promise<void> {
  const fileNames = files.map((f) => basename(f));
  for (const [fileIndex, file] of files.entries()) {
    const onOversized = (line: number, bytes: number) => {
      const location = `${fileNames[fileIndex]}:${line}`;
      options.tooLong.write(
        `${inputOrderKey(fileIndex, line)}\t${lineFailure(location, 'too-long', `the line has ${bytes} bytes, more than the ${options.maxLineBytes} allowed (--max-line-mb); it was skipped unread`)}`,
      );
      options.onSkipped?.(bytes + 1);
    };
    for (const chunk of readLineChunks(file, options.chunkBytes, { maxLineBytes: options.maxLineBytes, onOversized })) await options.onChunk(chunk, fileIndex);
  }
}

const seconds = (ms: number) => Math.round(ms) / 1000;

interface ChunkMessage extends LineChunk {
  fileIndex: number;
}

export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const files = listInputs(options.inDir);
  const fileNames = files.map((f) => basename(f));
  const workers = Math.max(1, options.workers ?? availableParallelism());
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  const totalBytes = inputBytes(files);
  // Enough shards that each fits the budget and every worker gets many, so none idles at the end.
  const shardCount = Math.min(256, Math.max(workers * 16, Math.ceil(totalBytes / maxShardBytes)));
  // The outputs and the work files (patient data) live in a run folder until one rename commits them.
  const run = openRunFolder(options.inDir, options.outDir, options.onSwept);
  const work = run.workDir;
  let dispatcher: BoundedDispatcher<ChunkMessage> | undefined;
  const pool = new WorkerPool(
    Array.from({ length: workers }, (_, workerIndex) => ({
      knowledgePaths: options.knowledgePaths,
      planRefs: options.planRefs,
      now: options.now,
      mode: options.mode,
      files: fileNames,
      workerIndex,
      workDir: work,
      shardCount,
      maxShardBytes,
    })),
    (worker) => dispatcher?.acknowledge(worker),
    (error) => dispatcher?.abort(error),
  );
  const outputName = options.mode === 'cpg' ? 'Bundle.ndjson' : 'CarePlan.ndjson';
  const outputs: OutputFile[] = [];
  let summary: BatchSummary | undefined;
  try {
    // ---- 1. partition ----
    let t = performance.now();
    dispatcher = new BoundedDispatcher<ChunkMessage>(workers, CHUNKS_PER_WORKER, (worker, chunk) => {
      pool.post(worker, { type: 'chunk', fileIndex: chunk.fileIndex, firstLine: chunk.firstLine, data: chunk.data }, [chunk.data.buffer as ArrayBuffer]);
    });
    let read = 0;
    // Lines too long to read are failures found here, in input order: a sorted part like the workers'.
    const tooLong = new LineFileWriter(join(work, 'main-too-long.tsv'));
    try {
      const send = dispatcher;
      await forEachInputChunk(files, {
        chunkBytes: options.chunkBytes ?? CHUNK_BYTES,
        maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
        tooLong,
        onSkipped: (bytes) => (read += bytes),
        onChunk: async (chunk, fileIndex) => {
          const bytes = chunk.data.byteLength;
          await send.send({ ...chunk, fileIndex });
          read += bytes;
          options.onProgress?.({ phase: 'partition', done: read, total: totalBytes, patients: 0 });
        },
      });
    } finally {
      tooLong.close();
    }
    await dispatcher.drain();
    const partitioned = (await Promise.all(Array.from({ length: workers }, (_, w) => pool.request(w, { type: 'partition-end' })))).map((reply) => {
      if (reply.type !== 'partitioned') throw new Error(`unexpected worker reply ${reply.type}`);
      return reply;
    });
    const stats: PartitionStats = { lines: tooLong.lines, routed: 0, skipped: 0, failures: tooLong.lines };
    for (const p of partitioned) for (const key of Object.keys(stats) as (keyof PartitionStats)[]) stats[key] += p.stats[key];
    const wallPartition = performance.now() - t;

    // ---- 2. apply ----
    t = performance.now();
    const byShard = new Map<number, ShardFile[]>();
    for (const p of partitioned) for (const s of p.shards) byShard.set(s.shard, [...(byShard.get(s.shard) ?? []), s]);
    const jobs: ShardJob[] = [...byShard.keys()]
      .sort((a, b) => a - b)
      .map((shard) => ({ shard, paths: byShard.get(shard)!.map((s) => s.path), bytes: byShard.get(shard)!.reduce((sum, s) => sum + s.bytes, 0) }));
    const shardTotal = jobs.reduce((sum, j) => sum + j.bytes, 0);
    const timings: ApplyTimings = emptyApplyTimings();
    // Indexed by shard number: a shard that failed as a whole leaves a hole.
    const outputParts: (string[] | undefined)[] = [];
    const failureParts: (string[] | undefined)[] = [];
    const badLineParts: (string[] | undefined)[] = [];
    const failedShards: { job: ShardJob; error: string }[] = [];
    let patients = 0;
    let applied = 0;
    let largestShardBytes = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        for (let job = jobs[next++]; job; job = jobs[next++]) {
          const reply: FromWorker = await pool.request(worker, { type: 'apply', job });
          if (reply.type !== 'applied') throw new Error(`unexpected worker reply ${reply.type}`);
          applied += job.bytes;
          if (reply.ok) {
            patients += reply.patients;
            outputParts[job.shard] = reply.outputParts;
            failureParts[job.shard] = reply.failureParts;
            badLineParts[job.shard] = reply.badLineParts;
            largestShardBytes = Math.max(largestShardBytes, reply.largestLoadedBytes);
            for (const key of Object.keys(timings) as (keyof ApplyTimings)[]) timings[key] += reply.timings[key];
          } else {
            failedShards.push({ job, error: reply.error });
          }
          options.onProgress?.({ phase: 'apply', done: applied, total: shardTotal, patients });
        }
      }),
    );
    const wallApply = performance.now() - t;

    // ---- 3. commit ----
    t = performance.now();
    // A shard that failed as a whole is kept in the output folder, so none of its lines is lost.
    const keptShards: string[] = [];
    failedShards.sort((a, b) => a.job.shard - b.job.shard);
    for (const { job, error } of failedShards) {
      const keptDir = join(run.path, 'failed-shards');
      mkdirSync(keptDir, { recursive: true });
      for (const path of job.paths) {
        const kept = join(keptDir, basename(path));
        renameSync(path, kept);
        keptShards.push(lineFailure(kept, 'exception', `the whole shard failed (${error}); its lines are kept in this file (<file index> <line> <patient> <JSON>)`));
      }
    }
    const inOrder = (parts: (string[] | undefined)[]) => parts.flatMap((p) => p ?? []);
    const partBytes = inOrder(outputParts)
      .concat(inOrder(failureParts))
      .reduce((sum, p) => sum + statSync(p).size, 0);
    let merged = 0;
    const onBytes = (bytes: number) => {
      merged += bytes;
      options.onProgress?.({ phase: 'merge', done: merged, total: partBytes, patients });
    };
    const output = new OutputFile(join(run.path, outputName));
    outputs.push(output);
    await mergeSortedParts(inOrder(outputParts), output, onBytes);
    const failures = new OutputFile(join(run.path, 'OperationOutcome.ndjson'));
    outputs.push(failures);
    // Input-line failures first (in input order, whether the partition or phase 2 found the line
    // bad: both key them by file:line), then whole shards, then per-patient failures.
    const inputLineFailures = partitioned.flatMap((p) => (p.failures ? [p.failures.path] : [])).concat(inOrder(badLineParts));
    if (tooLong.lines > 0) inputLineFailures.push(join(work, 'main-too-long.tsv'));
    await mergeSortedParts(inputLineFailures, failures);
    for (const line of keptShards) failures.writeLine(line);
    await mergeSortedParts(inOrder(failureParts), failures, onBytes);
    output.commit();
    failures.commit();
    const wallMerge = performance.now() - t;

    const busyPartition = partitioned.reduce((sum, p) => sum + p.busyMs, 0);
    summary = {
      input: fileNames,
      output: [
        { file: outputName, lines: output.lines },
        { file: 'OperationOutcome.ndjson', lines: failures.lines },
      ],
      patients,
      plans: options.planRefs.length,
      lines: stats.lines,
      skipped: stats.skipped,
      failures: failures.lines,
      shards: jobs.length,
      workers,
      largestShardBytes,
      maxChunksInFlight: dispatcher.maxPending,
      timings: {
        wall: { partition: seconds(wallPartition), apply: seconds(wallApply), merge: seconds(wallMerge), total: seconds(performance.now() - started) },
        busy: {
          partition: seconds(busyPartition),
          group: seconds(timings.groupMs),
          parse: seconds(timings.parseMs),
          engine: seconds(timings.engineMs),
          serialise: seconds(timings.serialiseMs),
        },
      },
    };
  } catch (err) {
    for (const output of outputs) output.abort();
    throw err;
  } finally {
    await pool.terminate();
    if (!summary) run.discard();
  }
  try {
    run.commit();
  } catch (err) {
    run.discard();
    throw err;
  }
  return summary;
}

export type { PartitionStats };
