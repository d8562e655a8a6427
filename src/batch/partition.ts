/**
 * Phase 1 of a batch run: stream every NDJSON line once and append it to the shard file of its
 * patient (hash of the patient id), so that phase 2 can read one shard at a time and find each
 * patient's whole record in it. Memory stays bounded: lines are streamed, shard writes are
 * buffered in small fixed-size chunks, and no per-patient state is kept here.
 *
 * Shard line format: `<file index>\t<line number>\t<patient id>\t<original JSON line>` - the original
 * bytes travel untouched, and every line keeps its file:line for error reports.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseNdjsonLine, type InputProblem } from '../data/read-input.ts';
import { patientCompartmentParams } from '../fhir-server/patient-record.ts';
import { lineFailure } from './failures.ts';
import { patientIdOf, shardOf } from './patient-key.ts';

const FLUSH_BYTES = 64 * 1024;

export interface PartitionStats {
  lines: number;
  /** Lines routed to a patient's shard. */
  routed: number;
  /** Resources outside the Patient compartment (Practitioner, Organization...): not needed per patient. */
  skipped: number;
  failures: number;
}

class ShardWriter {
  private readonly fds: (number | undefined)[];
  private readonly buffers: string[][];
  private readonly sizes: number[];
  readonly bytes: number[];
  readonly paths: string[];

  constructor(dir: string, count: number, prefix: string) {
    this.fds = new Array(count).fill(undefined);
    this.buffers = Array.from({ length: count }, () => []);
    this.sizes = new Array(count).fill(0);
    this.bytes = new Array(count).fill(0);
    this.paths = Array.from({ length: count }, (_, i) => join(dir, `${prefix}-${String(i).padStart(4, '0')}.tsv`));
  }

  write(shard: number, line: string): void {
    this.buffers[shard]!.push(line);
    this.sizes[shard]! += line.length;
    if (this.sizes[shard]! >= FLUSH_BYTES) this.flush(shard);
  }

  private flush(shard: number): void {
    const chunk = this.buffers[shard]!.join('');
    if (chunk.length === 0) return;
    let fd = this.fds[shard];
    if (fd === undefined) this.fds[shard] = fd = openSync(this.paths[shard]!, 'a');
    this.bytes[shard]! += writeSync(fd, chunk);
    this.buffers[shard] = [];
    this.sizes[shard] = 0;
  }

  close(): { path: string; bytes: number }[] {
    this.buffers.forEach((_, i) => this.flush(i));
    for (const fd of this.fds) if (fd !== undefined) closeSync(fd);
    return this.paths.map((path, i) => ({ path, bytes: this.bytes[i]! })).filter((s) => s.bytes > 0);
  }
}

export async function partitionInput(
  files: readonly string[],
  dir: string,
  shardCount: number,
  onFailure: (ndjsonLine: string) => void,
  onBytes: (bytes: number) => void,
): Promise<{ shards: { path: string; bytes: number }[]; stats: PartitionStats }> {
  const writer = new ShardWriter(dir, shardCount, 'shard');
  const stats: PartitionStats = { lines: 0, routed: 0, skipped: 0, failures: 0 };
  for (const [fileIndex, file] of files.entries()) {
    const name = basename(file);
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      onBytes(Buffer.byteLength(line) + 1);
      if (line.trim() === '') continue;
      stats.lines++;
      const location = `${name}:${lineNo}`;
      const problems: InputProblem[] = [];
      const resource = parseNdjsonLine(line, location, problems);
      if (!resource) {
        stats.failures++;
        onFailure(lineFailure(location, 'structure', problems[0]?.message ?? 'unreadable line'));
        continue;
      }
      const patientId = patientIdOf(resource);
      if (patientId === undefined) {
        if (resource.resourceType !== 'Patient' && patientCompartmentParams(resource.resourceType).length === 0) {
          stats.skipped++;
        } else {
          stats.failures++;
          onFailure(lineFailure(location, 'required', `${resource.resourceType}${resource.id ? `/${resource.id}` : ''} names no Patient (id, subject or patient reference)`));
        }
        continue;
      }
      stats.routed++;
      writer.write(shardOf(patientId, shardCount), `${fileIndex}\t${lineNo}\t${patientId}\t${line}\n`);
    }
  }
  return { shards: writer.close(), stats };
}

/**
 * Splits a shard that grew beyond the memory budget into smaller ones by re-hashing its patient
 * ids with another salt (no JSON parsing needed: the id is in the shard line). A single patient
 * larger than the budget cannot be split and stays whole.
 */
export async function splitShard(shard: { path: string; bytes: number }, maxBytes: number, salt: number): Promise<{ path: string; bytes: number }[]> {
  const parts = Math.min(256, Math.ceil(shard.bytes / maxBytes));
  if (parts <= 1) return [shard];
  const writer = new ShardWriter(join(shard.path, '..'), parts, `${basename(shard.path, '.tsv')}-${salt}`);
  const lines = createInterface({ input: createReadStream(shard.path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const first = line.indexOf('\t');
    const second = line.indexOf('\t', first + 1);
    const third = line.indexOf('\t', second + 1);
    writer.write(shardOf(line.slice(second + 1, third), parts, salt), `${line}\n`);
  }
  return writer.close();
}
