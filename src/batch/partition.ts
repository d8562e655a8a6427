/**
 * Phase 1 of a batch run, in each worker: find the patient of every NDJSON line of the chunks it is
 * given and append the line to the shard file of that patient (hash of the patient id), so that
 * phase 2 finds each patient's whole record in one shard. The patient comes from a byte scan of the
 * line when the scan is certain (scan-patient-key.ts), else from a full parse and check of the line;
 * a line is JSON.parsed once in the run, in phase 2, unless the scan could not place it. Every worker writes its own set of shard files (no locks);
 * phase 2 reads shard k from all of them. No per-patient state is kept here, and shard writes go
 * through small fixed buffers, so memory does not depend on the input size.
 *
 * Shard line format: `<file index>\t<line number>\t<patient id>\t<original JSON line>` - the original
 * text travels untouched, and every line keeps its file:line for error reports and for ordering.
 * Failure part lines are `<file:line sort key>\t<OperationOutcome>`, in input order per worker;
 * phase 2 writes the bad lines it finds among the scanned ones in the same form.
 */
import { join } from 'node:path';
import { parseNdjsonLine, type InputProblem } from '../data/read-input.ts';
import { patientCompartmentParams } from '../fhir-server/patient-record.ts';
import { ByteAppender } from './byte-appender.ts';
import { lineFailure } from './failures.ts';
import { forEachLineIn, forEachWrittenLine, readLineChunks } from './line-chunks.ts';
import { patientIdOf, shardOf } from './patient-key.ts';
import { scanPatientKey } from './scan-patient-key.ts';

/** Buffered bytes all shards of one writer may hold before flushing: bounds memory for any shard count. */
const SHARD_BUFFER_TOTAL = 4 * 1024 * 1024;

export interface PartitionStats {
  /** Non-blank lines. */
  lines: number;
  /** Lines routed to a patient's shard (scanned ones included: phase 2 may still find them bad). */
  routed: number;
  /** Resources outside the Patient compartment (Practitioner, Organization...): not needed per patient. */
  skipped: number;
  /** Bad lines found here (the others are found in phase 2). */
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

/** Appends lines to `count` files, each through its own small fixed buffer (one write per flush). */
export class ShardWriter {
  private readonly files: ByteAppender[];
  readonly paths: string[];

  constructor(dir: string, count: number, prefix: string) {
    const flushBytes = Math.max(8 * 1024, Math.min(64 * 1024, Math.floor(SHARD_BUFFER_TOTAL / count)));
    this.paths = Array.from({ length: count }, (_, i) => join(dir, `${prefix}-${String(i).padStart(4, '0')}.tsv`));
    this.files = this.paths.map((path) => new ByteAppender(path, flushBytes));
  }

  /** Appends text (a whole line, or a line's header). */
  text(shard: number, value: string): void {
    this.files[shard]!.text(value);
  }

  /** Appends raw input bytes. */
  raw(shard: number, source: Uint8Array, start: number, end: number): void {
    this.files[shard]!.raw(source, start, end);
  }

  /** Appends a line: an ASCII header, then raw input bytes, then '\n'. */
  line(shard: number, asciiHeader: string, source: Uint8Array, start: number, end: number): void {
    this.files[shard]!.line(asciiHeader, source, start, end);
  }

  /** Flushes and closes; the files that received something. */
  close(): ShardFile[] {
    for (const file of this.files) file.close();
    return this.paths.map((path, shard) => ({ shard, path, bytes: this.files[shard]!.written })).filter((s) => s.bytes > 0);
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

  /**
   * Routes the lines of one chunk (whole lines of file `fileIndex`, the first being `firstLine`).
   * A line whose patient the byte scan finds for certain is routed without being decoded or parsed
   * (phase 2 parses it anyway, and reports it there if it turns out to be bad); any other line is
   * decoded and checked here in full. Either way its bytes are copied to the shard untouched.
   */
  chunk(data: Uint8Array, fileIndex: number, firstLine: number): void {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    forEachLineIn(bytes, firstLine, (start, end, lineNo) => {
      const scanned = scanPatientKey(bytes, start, end);
      if (scanned !== undefined) {
        this.stats.lines++;
        this.route(scanned, fileIndex, lineNo, bytes, start, end);
      } else {
        this.checkAndRoute(bytes, start, end, fileIndex, lineNo);
      }
    });
  }

  /** The full path: decode, parse and check the line, as the single-resource reader does. */
  private checkAndRoute(bytes: Buffer, start: number, end: number, fileIndex: number, lineNo: number): void {
    const line = bytes.toString('utf8', start, end);
    if (line.trim() === '') return;
    this.stats.lines++;
    const location = `${this.fileNames[fileIndex] ?? '?'}:${lineNo}`;
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
        this.fail(
          fileIndex,
          lineNo,
          lineFailure(location, 'required', `${resource.resourceType}${resource.id ? `/${resource.id}` : ''} names no Patient (id, subject or patient reference)`),
        );
      }
      return;
    }
    this.route(patientId, fileIndex, lineNo, bytes, start, end);
  }

  private route(patientId: string, fileIndex: number, lineNo: number, bytes: Buffer, start: number, end: number): void {
    this.stats.routed++;
    const shard = shardOf(patientId, this.shardCount);
    // Patient ids are ASCII: the scan and the full check both accept only [A-Za-z0-9\-.] ids.
    this.shards.line(shard, `${fileIndex}\t${lineNo}\t${patientId}\t`, bytes, start, end);
  }

  private fail(fileIndex: number, lineNo: number, outcomeLine: string): void {
    this.stats.failures++;
    this.failures.text(0, `${inputOrderKey(fileIndex, lineNo)}\t${outcomeLine}\n`);
  }

  close(): { shards: ShardFile[]; failures: ShardFile | undefined } {
    return { shards: this.shards.close(), failures: this.failures.close()[0] };
  }
}

const TAB = 0x09;

/** The patient id field of a shard line (ids are ASCII: see patient-key.ts). */
export function shardLinePatient(bytes: Buffer, start: number): string {
  const t1 = bytes.indexOf(TAB, start);
  const t2 = bytes.indexOf(TAB, t1 + 1);
  return bytes.toString('latin1', t2 + 1, bytes.indexOf(TAB, t2 + 1));
}

/**
 * Splits a shard that is over the memory budget into `parts` smaller ones by re-hashing its
 * patient ids with another salt - streaming, on bytes (the id is in the shard line's header).
 * `onePatient` tells the caller that splitting cannot help: every line is one patient's.
 */
export function splitShard(paths: readonly string[], parts: number, salt: number, dir: string, prefix: string): { files: ShardFile[]; onePatient: boolean } {
  const writer = new ShardWriter(dir, parts, prefix);
  let firstPatient: string | undefined;
  let onePatient = true;
  for (const path of paths) {
    for (const chunk of readLineChunks(path, 1 << 20)) {
      const bytes = Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
      forEachWrittenLine(bytes, (start, end) => {
        const patientId = shardLinePatient(bytes, start);
        firstPatient ??= patientId;
        if (patientId !== firstPatient) onePatient = false;
        const part = shardOf(patientId, parts, salt);
        writer.line(part, '', bytes, start, end);
      });
    }
  }
  return { files: writer.close(), onePatient };
}
