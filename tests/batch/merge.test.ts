import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputFile, mergeSortedParts } from '../../src/batch/merge.ts';

describe('mergeSortedParts', () => {
  it('merges sorted parts by key (ties: earlier part first, then file order), copying payload bytes exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ip-merge-'));
    const long = `{"big":"${'é'.repeat(40_000)}"}`;
    writeFileSync(join(dir, 'a'), `p1\t{"a":1}\np3\t{"a":3}\np3\t{"a":"3b"}\n`);
    writeFileSync(join(dir, 'b'), `p2\t${long}\np3\t{"b":3}\n\np4\t{"b":"ü"}\n`);
    writeFileSync(join(dir, 'c'), '');
    const out = new OutputFile(join(dir, 'out.ndjson'));
    const count = await mergeSortedParts(
      ['a', 'b', 'c'].map((p) => join(dir, p)),
      out,
    );
    out.commit();
    expect(count).toBe(6);
    expect(readFileSync(join(dir, 'out.ndjson'), 'utf8')).toBe(`{"a":1}\n${long}\n{"a":3}\n{"a":"3b"}\n{"b":3}\n{"b":"ü"}\n`);
  });

  it('writes to a temp file: nothing at the target until commit, nothing left after abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ip-merge-'));
    writeFileSync(join(dir, 'a'), 'k\tv\n');
    const target = join(dir, 'out.ndjson');
    const out = new OutputFile(target);
    await mergeSortedParts([join(dir, 'a')], out);
    out.writeLine('tail');
    expect(existsSync(target)).toBe(false);
    out.abort();
    expect(readdirSync(dir)).toEqual(['a']);
  });
});
