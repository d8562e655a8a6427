/**
 * The coordinator's partition: the single-process batch's own pieces (forEachInputChunk, Partitioner,
 * splitShard) run in the coordinator's thread, into a local work folder, giving one file per job -
 * a group of whole patients of at most about `maxJobBytes` (one bigger patient stays whole).
 * Deterministic for a given input and shard count, so a resumed coordinator finds the same jobs
 * under the same names.
 */
import { basename, join } from 'node:path';
import { LineFileWriter } from '../batch/line-writer.ts';
import { Partitioner, splitShard, type PartitionStats } from '../batch/partition.ts';
import { forEachInputChunk } from '../batch/run-batch.ts';

export interface PartitionedJob {
  name: string;
  path: string;
  bytes: number;
}

export interface PartitionedInput {
  jobs: PartitionedJob[];
  /** Sorted failure parts (`<input order key>\t<OperationOutcome>`) the partition found. */
  failureParts: string[];
  stats: PartitionStats;
}

/** Shards for an input: enough that most hold about one job's worth (bounded: one file handle each). */
export function shardCountFor(totalBytes: number, maxJobBytes: number): number {
  return Math.min(1024, Math.max(1, Math.ceil(totalBytes / maxJobBytes)));
}

export async function partitionIntoJobs(
  files: readonly string[],
  workDir: string,
  shardCount: number,
  maxJobBytes: number,
  maxLineBytes: number,
  onBytes?: (bytes: number) => void,
): Promise<PartitionedInput> {
  const fileNames = files.map((f) => basename(f));
  const partitioner = new Partitioner(workDir, 'c', shardCount, fileNames);
  const tooLongPath = join(workDir, 'too-long.tsv');
  const tooLong = new LineFileWriter(tooLongPath);
  try {
    await forEachInputChunk(files, {
      chunkBytes: 1 << 20,
      maxLineBytes,
      tooLong,
      onChunk: (chunk, fileIndex) => {
        partitioner.chunk(chunk.data, fileIndex, chunk.firstLine);
        onBytes?.(chunk.data.byteLength);
      },
    });
  } finally {
    tooLong.close();
  }
  const { shards, failures } = partitioner.close();
  const stats = { ...partitioner.stats, lines: partitioner.stats.lines + tooLong.lines, failures: partitioner.stats.failures + tooLong.lines };
  const failureParts = [...(failures ? [failures.path] : []), ...(tooLong.lines > 0 ? [tooLongPath] : [])];
  const jobs: PartitionedJob[] = [];
  for (const shard of shards.sort((a, b) => a.shard - b.shard)) {
    const name = `s${String(shard.shard).padStart(4, '0')}`;
    if (shard.bytes <= maxJobBytes) {
      jobs.push({ name, path: shard.path, bytes: shard.bytes });
      continue;
    }
    // Twice the parts strictly needed, as the single-process split does, so most parts fit.
    const parts = Math.min(256, 2 * Math.ceil(shard.bytes / maxJobBytes));
    const split = splitShard([shard.path], parts, 1, workDir, `${name}-part`);
    if (split.onePatient) {
      jobs.push({ name, path: shard.path, bytes: shard.bytes });
      continue;
    }
    for (const part of split.files.sort((a, b) => a.shard - b.shard)) {
      jobs.push({ name: `${name}-${String(part.shard).padStart(3, '0')}`, path: part.path, bytes: part.bytes });
    }
  }
  return { jobs, failureParts, stats };
}
