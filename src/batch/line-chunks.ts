/**
 * Reads a file as chunks of whole lines, as raw bytes: the main thread only cuts at newlines and
 * counts them (native Buffer.indexOf), so decoding and JSON parsing happen in the workers. Each
 * chunk owns its ArrayBuffer, so it can be transferred to a worker without a copy.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface LineChunk {
  /** Whole lines, each ending in '\n' except possibly the file's last one. */
  data: Uint8Array;
  /** 1-based number of the chunk's first line in the file. */
  firstLine: number;
  /** Lines in the chunk (a last line without '\n' counts). */
  lines: number;
}

const NEWLINE = 0x0a;

export function countLines(data: Uint8Array, end = data.length): number {
  let count = 0;
  const buffer = Buffer.from(data.buffer, data.byteOffset, end);
  for (let at = buffer.indexOf(NEWLINE); at >= 0; at = buffer.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

export interface ReadLineOptions {
  /**
   * A line longer than this is not read into memory: it is skipped up to its newline and reported
   * through `onOversized` (its number and length), and numbering goes on after it. Default: no limit.
   */
  maxLineBytes?: number;
  onOversized?: (line: number, bytes: number) => void;
}

/**
 * Chunks of about `chunkBytes`; a line longer than that makes its chunk grow to hold it (up to
 * `maxLineBytes`), so a chunk is never a partial line. Memory: one chunk plus the carried-over tail.
 */
export function* readLineChunks(path: string, chunkBytes: number, options: ReadLineOptions = {}): Generator<LineChunk> {
  const maxLineBytes = options.maxLineBytes ?? Number.POSITIVE_INFINITY;
  // No buffer is ever larger than the longest allowed line plus its newline, so a line found whole
  // in a buffer is within the limit, and one that does not fit is known to be too long.
  const bufferLimit = maxLineBytes + 1;
  const fd = openSync(path, 'r');
  try {
    let carry: Buffer = Buffer.alloc(0);
    let nextLine = 1;
    let eof = false;
    while (!eof || carry.length > 0) {
      let buffer = Buffer.allocUnsafeSlow(Math.min(Math.max(chunkBytes, carry.length * 2), bufferLimit));
      carry.copy(buffer, 0);
      let filled = carry.length;
      let cut = -1;
      let oversized = false;
      while (!eof) {
        const read = readSync(fd, buffer, filled, buffer.length - filled, null);
        if (read === 0) eof = true;
        filled += read;
        cut = buffer.lastIndexOf(NEWLINE, filled - 1);
        if (cut >= 0) break;
        // No newline: the buffer holds the start of one line (chunks begin at a line start).
        if (filled > maxLineBytes) {
          oversized = true;
          break;
        }
        if (eof) break;
        // One line longer than the buffer: grow and keep reading until it ends.
        const bigger = Buffer.allocUnsafeSlow(Math.min(buffer.length * 2, bufferLimit));
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      if (oversized) {
        const skipped = skipToNewline(fd, buffer, filled);
        options.onOversized?.(nextLine, skipped.lineBytes);
        nextLine++;
        carry = skipped.rest;
        eof = skipped.eof;
        continue;
      }
      if (filled === 0) break;
      const end = eof ? filled : cut + 1;
      // A fresh buffer per chunk: the worker takes ownership of it.
      const data = new Uint8Array(buffer.buffer, 0, end);
      carry = Buffer.from(buffer.subarray(end, filled));
      const newlines = countLines(data);
      const lines = newlines + (data[end - 1] === NEWLINE ? 0 : 1);
      yield { data, firstLine: nextLine, lines };
      nextLine += lines;
      if (eof && carry.length === 0) break;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads on past the end of an oversized line (whose first `filled` bytes are in `buffer`), reusing
 * `buffer`; returns the line's length (without its newline) and what followed it in the last read.
 */
function skipToNewline(fd: number, buffer: Buffer, filled: number): { lineBytes: number; rest: Buffer; eof: boolean } {
  let lineBytes = filled;
  for (;;) {
    const read = readSync(fd, buffer, 0, buffer.length, null);
    if (read === 0) return { lineBytes, rest: Buffer.alloc(0), eof: true };
    const newline = buffer.indexOf(NEWLINE);
    if (newline >= 0 && newline < read) {
      return { lineBytes: lineBytes + newline, rest: Buffer.from(buffer.subarray(newline + 1, read)), eof: false };
    }
    lineBytes += read;
  }
}

/** Calls `onLine` with the [start, end) byte range (no '\n', no trailing '\r') and number of each line. */
export function forEachLineIn(data: Uint8Array, firstLine: number, onLine: (start: number, end: number, lineNo: number) => void): void {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let lineNo = firstLine;
  for (let start = 0; start < bytes.length;) {
    let newline = bytes.indexOf(NEWLINE, start);
    if (newline < 0) newline = bytes.length;
    const end = newline > start && bytes[newline - 1] === 0x0d ? newline - 1 : newline;
    onLine(start, end, lineNo++);
    start = newline + 1;
  }
}

/**
 * Calls `onLine` with the [start, end) byte range of each non-empty line of a file this program
 * wrote ('\n' only): unlike forEachLineIn, a '\r' at the end is data (an input line's last byte,
 * which a malformed line's error message may quote), not part of the line break.
 */
export function forEachWrittenLine(data: Uint8Array, onLine: (start: number, end: number) => void): void {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let start = 0; start < bytes.length;) {
    let newline = bytes.indexOf(NEWLINE, start);
    if (newline < 0) newline = bytes.length;
    if (newline > start) onLine(start, newline);
    start = newline + 1;
  }
}
