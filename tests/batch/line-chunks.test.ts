import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forEachLineIn, readLineChunks } from '../../src/batch/line-chunks.ts';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ip-chunks-')), 'x.ndjson');
  writeFileSync(path, text);
  return path;
}

/** Every line with its number, read through chunks of `chunkBytes`. */
function linesVia(path: string, chunkBytes: number): { lines: [number, string][]; chunks: number } {
  const lines: [number, string][] = [];
  const texts: string[] = [];
  for (const chunk of readLineChunks(path, chunkBytes)) {
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
  const expected: [number, string][] = [[1, '{"a":1}'], [2, ''], [3, '{"b":"ü€ – long line ' + 'x'.repeat(100) + '"}'], [4, '{"c":3}'], [5, '{"d":4}']];

  it.each([8, 13, 64, 1 << 20])('gives the same numbered lines whatever the chunk size (%i bytes)', (size) => {
    const { lines } = linesVia(file(text), size);
    expect(lines).toEqual(expected);
  });

  it('cuts only at newlines: multi-byte characters survive tiny chunks', () => {
    const { lines } = linesVia(file(`${'€'.repeat(50)}\n${'ü'.repeat(50)}\n`), 4);
    expect(lines).toEqual([[1, '€'.repeat(50)], [2, 'ü'.repeat(50)]]);
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
});
