import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitShard } from '../../src/batch/partition.ts';

describe('splitShard', () => {
  it('moves every shard line byte for byte (a last \\r of an input line included), each patient to one part', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ip-split-'));
    const lines = Array.from({ length: 40 }, (_, i) => `0\t${i + 1}\tp${i % 7}\t{"resourceType":"Observation","id":"o${i}"${i % 3 === 0 ? ',"x":}\r' : '}'}`);
    const shard = join(dir, 'w0-shard-0000.tsv');
    writeFileSync(shard, `${lines.join('\n')}\n`);
    const { files, onePatient } = splitShard([shard], 4, 1, dir, 'split');
    expect(onePatient).toBe(false);
    const parts = files.map((f) => readFileSync(f.path, 'utf8').split('\n').filter(Boolean));
    expect(parts.flat().sort()).toEqual([...lines].sort());
    for (const part of parts) {
      for (const patient of new Set(part.map((l) => l.split('\t')[2]))) {
        expect(parts.filter((p) => p.some((l) => l.split('\t')[2] === patient))).toHaveLength(1);
      }
    }
  });
});
