/**
 * Appends text and raw bytes to a file through one fixed, reused Buffer. Strings are encoded
 * straight into the buffer and input bytes are copied as they are, so writing creates no large
 * joined strings: those land in V8's large-object space and are only freed by full GCs, which
 * lets a long run's heap creep upwards.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export class ByteAppender {
  private fd: number | undefined;
  private readonly path: string;
  private readonly flags: string;
  private buffer: Buffer | undefined;
  private readonly capacity: number;
  private used = 0;
  /** Bytes written to the file so far (flushed). */
  written = 0;

  constructor(path: string, capacity: number, flags: 'w' | 'a' = 'w') {
    this.path = path;
    this.capacity = capacity;
    this.flags = flags;
  }

  get pending(): number {
    return this.used;
  }

  /** Appends UTF-8 text. */
  text(value: string): void {
    if (value.length * 3 > this.capacity) {
      this.flush();
      this.writeOut(Buffer.from(value));
      return;
    }
    // A JS string of n UTF-16 units is at most 3n UTF-8 bytes.
    if (this.used + value.length * 3 > this.capacity) this.flush();
    this.used += this.bytes().write(value, this.used);
  }

  /** Appends raw bytes (copied). */
  raw(source: Uint8Array, start = 0, end = source.length): void {
    const length = end - start;
    if (length > this.capacity) {
      this.flush();
      this.writeOut(source.subarray(start, end));
      return;
    }
    if (this.used + length > this.capacity) this.flush();
    this.bytes().set(source.subarray(start, end), this.used);
    this.used += length;
  }

  /**
   * Appends one line: `asciiHeader` (ASCII only: digits, tabs, ids), the raw bytes [start, end) of
   * `source`, and '\n'. The header is copied code unit by code unit: for the few bytes of a shard
   * line's header that is cheaper than a call into the string encoder.
   */
  line(asciiHeader: string, source: Uint8Array, start: number, end: number): void {
    const length = asciiHeader.length + (end - start) + 1;
    if (length > this.capacity) {
      this.text(asciiHeader);
      this.raw(source, start, end);
      this.text('\n');
      return;
    }
    if (this.used + length > this.capacity) this.flush();
    const buffer = this.bytes();
    let at = this.used;
    for (let i = 0; i < asciiHeader.length; i++) buffer[at++] = asciiHeader.charCodeAt(i);
    buffer.set(source.subarray(start, end), at);
    at += end - start;
    buffer[at++] = 0x0a;
    this.used = at;
  }

  flush(): void {
    if (this.used === 0) return;
    this.writeOut(this.buffer!.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Creates the file now (otherwise it is created by the first write that reaches it). */
  open(): number {
    return (this.fd ??= openSync(this.path, this.flags));
  }

  private writeOut(bytes: Uint8Array): void {
    const fd = this.open();
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
    this.written += bytes.length;
  }

  private bytes(): Buffer {
    return (this.buffer ??= Buffer.allocUnsafeSlow(this.capacity));
  }
}
