/**
 * A memo table with a size cap. Keys of the engine's memo tables come from artifacts (expression
 * texts, element paths); a long-running server that applies plans posted to it would otherwise grow
 * them without limit. When full, the oldest entry goes (Map keeps insertion order), so a working set
 * that fits is never evicted.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (!this.entries.has(key) && this.entries.size >= this.limit) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }
}
