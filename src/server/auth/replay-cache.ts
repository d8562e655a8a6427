/**
 * Remembers JWT ids until the token would expire anyway, so a captured token cannot be replayed.
 * Entries are swept lazily; memory is bounded by the token lifetime times the request rate.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  private readonly clock: () => Date;

  constructor(clock: () => Date) {
    this.clock = clock;
  }

  /** Records `key` until `forgetAtMs`; false when it is already known (a replay). */
  remember(key: string, forgetAtMs: number): boolean {
    const now = this.clock().getTime();
    if (now >= this.nextSweep) this.sweep(now);
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    this.seen.set(key, forgetAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [key, forgetAt] of this.seen) if (forgetAt <= now) this.seen.delete(key);
    this.nextSweep = now + 10_000;
  }
}
