/**
 * k-way merge of part files whose lines are `<patient id>\t<NDJSON>` and sorted by patient id, into
 * one NDJSON file in patient-id order - streaming, so the output order (and bytes) depend only on
 * the input, not on how many shards or workers produced the parts.
 */
import { closeSync, createReadStream, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

interface Head {
  key: string;
  payload: string;
  source: number;
}

function less(a: Head, b: Head): boolean {
  return a.key < b.key || (a.key === b.key && a.source < b.source);
}

class MinHeap {
  private readonly items: Head[] = [];
  get size(): number {
    return this.items.length;
  }
  push(item: Head): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): Head | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Merges `parts` into `target` (atomically, via a temp file) after the `first` lines; returns the line count. */
export async function mergeSortedParts(parts: readonly string[], target: string, first: readonly string[] = []): Promise<number> {
  const temp = `${target}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  let count = 0;
  let buffer: string[] = [];
  let buffered = 0;
  const write = (line: string) => {
    buffer.push(line, '\n');
    buffered += line.length + 1;
    count++;
    if (buffered > 1 << 20) {
      writeSync(fd, buffer.join(''));
      buffer = [];
      buffered = 0;
    }
  };
  try {
    for (const line of first) write(line);
    const iterators = parts.map((p) => createInterface({ input: createReadStream(p, { encoding: 'utf8' }), crlfDelay: Infinity })[Symbol.asyncIterator]());
    const heap = new MinHeap();
    const advance = async (source: number) => {
      for (;;) {
        const next = await iterators[source]!.next();
        if (next.done) return;
        if (!next.value) continue;
        const tab = next.value.indexOf('\t');
        heap.push({ key: next.value.slice(0, tab), payload: next.value.slice(tab + 1), source });
        return;
      }
    };
    await Promise.all(iterators.map((_, i) => advance(i)));
    while (heap.size > 0) {
      const head = heap.pop()!;
      write(head.payload);
      await advance(head.source);
    }
    if (buffer.length) writeSync(fd, buffer.join(''));
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(temp, target);
  return count;
}
