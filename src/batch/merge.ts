/**
 * k-way merge of part files whose lines are `<key>\t<payload>` and sorted by key, into one output -
 * streaming and on bytes (payloads are copied, never decoded or re-encoded), so the output order
 * (and bytes) depend only on the input, not on how many shards or workers produced the parts.
 * Keys are ASCII (patient ids, or zero-padded file:line keys), so byte order is string order.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';

const NEWLINE = 0x0a;
const TAB = 0x09;
const OUTPUT_BUFFER = 1 << 20;
/** Read buffers of all parts together stay around this, whatever the number of parts. */
const READ_BUDGET = 8 << 20;

/** Reads one sorted part file line by line over a reusable buffer. */
class PartReader {
  private readonly fd: number;
  private buffer: Buffer;
  private start = 0;
  private end = 0;
  private eof = false;
  key = '';
  payloadStart = 0;
  /** Exclusive, and not including the newline. */
  payloadEnd = 0;
  readonly source: number;

  constructor(path: string, source: number, bufferBytes: number) {
    this.fd = openSync(path, 'r');
    this.buffer = Buffer.allocUnsafe(bufferBytes);
    this.source = source;
  }

  get payload(): Buffer {
    return this.buffer.subarray(this.payloadStart, this.payloadEnd);
  }

  /** Moves to the next non-empty line; false at the end of the file (which is then closed). */
  next(): boolean {
    for (;;) {
      let newline = this.buffer.indexOf(NEWLINE, this.start);
      while ((newline < 0 || newline >= this.end) && !this.eof) {
        this.fill();
        newline = this.buffer.indexOf(NEWLINE, this.start);
      }
      let lineEnd = newline >= 0 && newline < this.end ? newline : this.end;
      if (this.start >= this.end && this.eof) {
        this.close();
        return false;
      }
      const lineStart = this.start;
      this.start = lineEnd + 1;
      if (lineEnd > lineStart && this.buffer[lineEnd - 1] === 0x0d) lineEnd--;
      if (lineEnd === lineStart) continue;
      let tab = this.buffer.indexOf(TAB, lineStart);
      if (tab < 0 || tab > lineEnd) tab = lineEnd;
      this.key = this.buffer.toString('latin1', lineStart, tab);
      this.payloadStart = Math.min(tab + 1, lineEnd);
      this.payloadEnd = lineEnd;
      return true;
    }
  }

  private closed = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Keeps the unread bytes, grows the buffer if one line fills it, and reads more. */
  private fill(): void {
    const unread = this.end - this.start;
    if (unread === this.buffer.length) {
      const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(bigger, 0, this.start, this.end);
      this.buffer = bigger;
    } else if (this.start > 0) {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = unread;
    const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
    if (read === 0) this.eof = true;
    this.end += read;
  }
}

function before(a: PartReader, b: PartReader): boolean {
  return a.key < b.key || (a.key === b.key && a.source < b.source);
}

class ReaderHeap {
  private readonly items: PartReader[] = [];
  get size(): number {
    return this.items.length;
  }
  push(item: PartReader): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  /** The smallest reader; it stays in the heap (call `replaceTop` or `popTop` after advancing it). */
  top(): PartReader {
    return this.items[0]!;
  }
  /** The top reader moved on: restore the heap order. */
  siftTop(): void {
    const a = this.items;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
  popTop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.siftTop();
    }
  }
}

/** An output file written through a fixed buffer into a temp file, renamed into place only by `commit`. */
export class OutputFile {
  readonly target: string;
  private readonly temp: string;
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(OUTPUT_BUFFER);
  private used = 0;
  lines = 0;
  bytes = 0;

  constructor(target: string) {
    this.target = target;
    this.temp = `${target}.tmp-${process.pid}`;
    this.fd = openSync(this.temp, 'w');
  }

  /** Appends one line (without its newline). */
  writeLine(line: Uint8Array | string): void {
    const bytes = typeof line === 'string' ? Buffer.from(line) : line;
    if (this.used + bytes.length + 1 > this.buffer.length) this.flush();
    if (bytes.length + 1 > this.buffer.length) {
      this.bytes += writeSync(this.fd, bytes);
      this.bytes += writeSync(this.fd, '\n');
    } else {
      this.buffer.set(bytes, this.used);
      this.buffer[this.used + bytes.length] = NEWLINE;
      this.used += bytes.length + 1;
    }
    this.lines++;
  }

  private flush(): void {
    let at = 0;
    while (at < this.used) at += writeSync(this.fd, this.buffer, at, this.used - at);
    this.bytes += this.used;
    this.used = 0;
  }

  commit(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.temp, this.target);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed by a failed commit
    }
    rmSync(this.temp, { force: true });
  }
}

/**
 * Appends the payloads of `parts` to `out` in key order (ties: the earlier part first, then file
 * order). Yields to the event loop now and then so a progress bar keeps drawing; `onBytes` reports
 * payload bytes copied.
 */
export async function mergeSortedParts(parts: readonly string[], out: OutputFile, onBytes?: (bytes: number) => void): Promise<number> {
  const bufferBytes = Math.max(16 * 1024, Math.min(1 << 20, Math.floor(READ_BUDGET / Math.max(1, parts.length))));
  const heap = new ReaderHeap();
  const readers: PartReader[] = [];
  try {
    for (const [source, part] of parts.entries()) {
      const reader = new PartReader(part, source, bufferBytes);
      readers.push(reader);
      if (reader.next()) heap.push(reader);
    }
    return await mergeFrom(heap, out, onBytes);
  } finally {
    for (const reader of readers) reader.close();
  }
}

async function mergeFrom(heap: ReaderHeap, out: OutputFile, onBytes?: (bytes: number) => void): Promise<number> {
  let count = 0;
  let sinceYield = 0;
  while (heap.size > 0) {
    const reader = heap.top();
    const payload = reader.payload;
    out.writeLine(payload);
    count++;
    sinceYield += payload.length + 1;
    if (reader.next()) heap.siftTop();
    else heap.popTop();
    if (sinceYield >= 16 << 20) {
      onBytes?.(sinceYield);
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  onBytes?.(sinceYield);
  return count;
}
