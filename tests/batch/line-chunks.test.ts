import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forEachLineIn, readLineChunks, type ReadLineOptions } from '../../src/batch/line-chunks.ts';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ip-chunks-')), 'x.ndjson');
  writeFileSync(path, text);
  return path;
}

/** Every line with its number, read through chunks of `chunkBytes`. */
function linesVia(path: string, chunkBytes: number, options: ReadLineOptions = {}): { lines: [number, string][]; chunks: number } {
  const lines: [number, string][] = [];
  const texts: string[] = [];
  for (const chunk of readLineChunks(path, chunkBytes, options)) {
    const text = Buffer.from(chunk.data).toString('utf8');
    texts.push(text);
    const newlines = text.split('\n').length - 1;
    expect(chunk.lines).toBe(text.endsWith('\n') ? newlines : newlines + 1);
    const bytes = Buffer.from(chunk.data);
    forEachLineIn(bytes, chunk.firstLine, (start, end, n) => lines.push([n, bytes.toString('utf8', start, end)]));
  }
  // Whole lines only: every chunk but the file's last ends with a newline.
  for (const text of texts.slice(0, -1)) expect(text.endsWith('\n')).toBe(true);
  return { lines, chunks: texts.length };
}

describe('readLineChunks', () => {
  const text = ['{"a":1}', '', '{"b":"ü€ – long line ' + 'x'.repeat(100) + '"}', '{"c":3}\r', '{"d":4}'].join('\n');
  const expected: [number, string][] = [
    [1, '{"a":1}'],
    [2, ''],
    [3, '{"b":"ü€ – long line ' + 'x'.repeat(100) + '"}'],
    [4, '{"c":3}'],
    [5, '{"d":4}'],
  ];

  it.each([8, 13, 64, 1 << 20])('gives the same numbered lines whatever the chunk size (%i bytes)', (size) => {
    const { lines } = linesVia(file(text), size);
    expect(lines).toEqual(expected);
  });

  it('cuts only at newlines: multi-byte characters survive tiny chunks', () => {
    const { lines } = linesVia(file(`${'€'.repeat(50)}\n${'ü'.repeat(50)}\n`), 4);
    expect(lines).toEqual([
      [1, '€'.repeat(50)],
      [2, 'ü'.repeat(50)],
    ]);
  });

  it('an empty file has no chunks; a trailing newline adds no line', () => {
    expect(linesVia(file(''), 16).lines).toEqual([]);
    expect(linesVia(file('{}\n'), 16).lines).toEqual([[1, '{}']]);
  });

  it('each chunk owns its buffer (it can be transferred to a worker)', () => {
    const buffers = new Set<ArrayBufferLike>();
    for (const chunk of readLineChunks(file('{"a":1}\n'.repeat(100)), 32)) {
      expect(buffers.has(chunk.data.buffer)).toBe(false);
      buffers.add(chunk.data.buffer);
      structuredClone(chunk.data, { transfer: [chunk.data.buffer as ArrayBuffer] });
    }
    expect(buffers.size).toBeGreaterThan(10);
  });

  describe('lines longer than maxLineBytes', () => {
    const long = (n: number) => `{"x":"${'y'.repeat(n)}"}`;
    const read = (text: string, chunkBytes: number, maxLineBytes: number) => {
      const oversized: [number, number][] = [];
      const { lines } = linesVia(file(text), chunkBytes, { maxLineBytes, onOversized: (line, bytes) => oversized.push([line, bytes]) });
      return { lines, oversized };
    };

    it.each([8, 16, 100, 1 << 20])('are skipped unread and reported with their number and length; numbering goes on (chunks of %i bytes)', (size) => {
      const text = ['{"a":1}', long(200), '{"b":2}', long(50), long(51), '{"c":3}\r', long(300)].join('\n');
      // long(50) is 58 bytes: at the limit it is still read; long(51) is one byte over.
      expect(read(text, size, 58)).toEqual({
        lines: [
          [1, '{"a":1}'],
          [3, '{"b":2}'],
          [4, long(50)],
          [6, '{"c":3}'],
        ],
        oversized: [
          [2, 208],
          [5, 59],
          [7, 308],
        ],
      });
    });

    it('a file that is one huge line without a newline is reported, not read into memory', () => {
      expect(read(long(100_000), 64, 1000)).toEqual({ lines: [], oversized: [[1, 100_008]] });
    });

    it('without a limit every line is read, however long', () => {
      expect(read([long(5000), '{}'].join('\n'), 16, Number.POSITIVE_INFINITY).lines).toEqual([
        [1, long(5000)],
        [2, '{}'],
      ]);
    });
  });
});
