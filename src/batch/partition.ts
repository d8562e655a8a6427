/**
 * Phase 1 of a batch run, in each worker: check every NDJSON line of the chunks it is given and
 * append it to the shard file of its patient (hash of the patient id), so that phase 2 finds each
 * patient's whole record in one shard. Every worker writes its own set of shard files (no locks);
 * phase 2 reads shard k from all of them. No per-patient state is kept here, and shard writes go
 * through small fixed buffers, so memory does not depend on the input size.
 *
 * Shard line format: `<file index>\t<line number>\t<patient id>\t<original JSON line>` - the original
 * text travels untouched, and every line keeps its file:line for error reports and for ordering.
 * Failure part lines are `<file:line sort key>\t<OperationOutcome>`, in input order per worker.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseNdjsonLine, type InputProblem } from '../data/read-input.ts';
import { patientCompartmentParams } from '../fhir-server/patient-record.ts';
import { lineFailure } from './failures.ts';
import { forEachLine, readLineChunks } from './line-chunks.ts';
import { patientIdOf, shardOf } from './patient-key.ts';

/** Buffered bytes all shards of one writer may hold before flushing: bounds memory for any shard count. */
const SHARD_BUFFER_TOTAL = 4 * 1024 * 1024;

export interface PartitionStats {
  lines: number;
  /** Lines routed to a patient's shard. */
  routed: number;
  /** Resources outside the Patient compartment (Practitioner, Organization...): not needed per patient. */
  skipped: number;
  failures: number;
}

export interface ShardFile {
  shard: number;
  path: string;
  bytes: number;
}

/** Sort key of an input line, so failures from several workers merge back into input order. */
export function inputOrderKey(fileIndex: number, lineNo: number): string {
  return `${String(fileIndex).padStart(6, '0')}:${String(lineNo).padStart(12, '0')}`;
}

/** Appends lines to `count` files through per-file buffers (flushed with one write each). */
export class ShardWriter {
  private readonly fds: (number | undefined)[];
  private readonly buffers: string[][];
  private readonly sizes: number[];
  private readonly flushBytes: number;
  readonly bytes: number[];
  readonly paths: string[];

  constructor(dir: string, count: number, prefix: string) {
    this.fds = new Array<number | undefined>(count).fill(undefined);
    this.buffers = Array.from({ length: count }, () => []);
    this.sizes = new Array<number>(count).fill(0);
    this.bytes = new Array<number>(count).fill(0);
    this.flushBytes = Math.max(8 * 1024, Math.min(64 * 1024, Math.floor(SHARD_BUFFER_TOTAL / count)));
    this.paths = Array.from({ length: count }, (_, i) => join(dir, `${prefix}-${String(i).padStart(4, '0')}.tsv`));
  }

  write(shard: number, line: string): void {
    this.buffers[shard]!.push(line);
    this.sizes[shard]! += line.length;
    if (this.sizes[shard]! >= this.flushBytes) this.flush(shard);
  }

  private flush(shard: number): void {
    if (this.sizes[shard] === 0) return;
    const chunk = this.buffers[shard]!.join('');
    let fd = this.fds[shard];
    if (fd === undefined) this.fds[shard] = fd = openSync(this.paths[shard]!, 'a');
    this.bytes[shard]! += writeSync(fd, chunk);
    this.buffers[shard] = [];
    this.sizes[shard] = 0;
  }

  /** Flushes and closes; the files that received something. */
  close(): ShardFile[] {
    this.buffers.forEach((_, i) => this.flush(i));
    for (const fd of this.fds) if (fd !== undefined) closeSync(fd);
    this.fds.fill(undefined);
    return this.paths.map((path, shard) => ({ shard, path, bytes: this.bytes[shard]! })).filter((s) => s.bytes > 0);
  }
}

/** One worker's side of phase 1. */
export class Partitioner {
  private readonly shards: ShardWriter;
  private readonly failures: ShardWriter;
  private readonly shardCount: number;
  private readonly fileNames: readonly string[];
  readonly stats: PartitionStats = { lines: 0, routed: 0, skipped: 0, failures: 0 };

  constructor(dir: string, prefix: string, shardCount: number, fileNames: readonly string[]) {
    this.shardCount = shardCount;
    this.fileNames = fileNames;
    this.shards = new ShardWriter(dir, shardCount, `${prefix}-shard`);
    this.failures = new ShardWriter(dir, 1, `${prefix}-failures`);
  }

  /** Routes the lines of one chunk (whole lines of file `fileIndex`, the first being `firstLine`). */
  chunk(text: string, fileIndex: number, firstLine: number): void {
    const name = this.fileNames[fileIndex] ?? '?';
    forEachLine(text, firstLine, (line, lineNo) => {
      if (line.trim() === '') return;
      this.stats.lines++;
      const location = `${name}:${lineNo}`;
      const problems: InputProblem[] = [];
      const resource = parseNdjsonLine(line, location, problems);
      if (!resource) {
        this.fail(fileIndex, lineNo, lineFailure(location, 'structure', problems[0]?.message ?? 'unreadable line'));
        return;
      }
      const patientId = patientIdOf(resource);
      if (patientId === undefined) {
        if (resource.resourceType !== 'Patient' && patientCompartmentParams(resource.resourceType).length === 0) {
          this.stats.skipped++;
        } else {
          this.fail(fileIndex, lineNo, lineFailure(location, 'required', `${resource.resourceType}${resource.id ? `/${resource.id}` : ''} names no Patient (id, subject or patient reference)`));
        }
        return;
      }
      this.stats.routed++;
      this.shards.write(shardOf(patientId, this.shardCount), `${fileIndex}\t${lineNo}\t${patientId}\t${line}\n`);
    });
  }

  private fail(fileIndex: number, lineNo: number, outcomeLine: string): void {
    this.stats.failures++;
    this.failures.write(0, `${inputOrderKey(fileIndex, lineNo)}\t${outcomeLine}\n`);
  }

  close(): { shards: ShardFile[]; failures: ShardFile | undefined } {
    return { shards: this.shards.close(), failures: this.failures.close()[0] };
  }
}

/** The patient id field of a shard line. */
export function shardLinePatient(line: string): string {
  const first = line.indexOf('\t');
  const second = line.indexOf('\t', first + 1);
  return line.slice(second + 1, line.indexOf('\t', second + 1));
}

/**
 * Splits a shard that is over the memory budget into `parts` smaller ones by re-hashing its
 * patient ids with another salt - streaming, and without JSON parsing (the id is in the shard
 * line). `onePatient` tells the caller that splitting cannot help: every line is one patient's.
 */
export function splitShard(paths: readonly string[], parts: number, salt: number, dir: string, prefix: string): { files: ShardFile[]; onePatient: boolean } {
  const writer = new ShardWriter(dir, parts, prefix);
  let firstPatient: string | undefined;
  let onePatient = true;
  for (const path of paths) {
    for (const chunk of readLineChunks(path, 1 << 20)) {
      const text = Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength).toString('utf8');
      forEachLine(text, chunk.firstLine, (line) => {
        if (!line) return;
        const patientId = shardLinePatient(line);
        firstPatient ??= patientId;
        if (patientId !== firstPatient) onePatient = false;
        writer.write(shardOf(patientId, parts, salt), `${line}\n`);
      });
    }
  }
  return { files: writer.close(), onePatient };
}
