/**
 * The coordinator's view of workers with other knowledge: they give the run's jobs back and count
 * each refusal in Redis under their knowledge digest (queue-worker.ts). The coordinator reports a
 * new digest as soon as it sees one, and decides when no worker with the run's knowledge is there:
 * jobs were given back since the last result, and no result came for `waitMs`.
 */
import type { Redis } from 'ioredis';

/** How often the refusal counts are read while results keep coming (when idle: every poll). */
const READ_EVERY_MS = 1000;

export class KnowledgeRefusals {
  private total = 0;
  /** The total at the first read after the last result: refusals above it came since. */
  private totalAtLastResult: number | undefined = 0;
  private lastResult = Date.now();
  private readAt = 0;
  private readonly reported = new Set<string>();
  private digests: string[] = [];

  private readonly redis: Redis;
  private readonly key: string;
  private readonly runDigest: string;
  private readonly waitMs: number;
  private readonly onNotice: ((message: string) => void) | undefined;

  constructor(redis: Redis, key: string, runDigest: string, waitMs: number, onNotice: ((message: string) => void) | undefined) {
    this.redis = redis;
    this.key = key;
    this.runDigest = runDigest;
    this.waitMs = waitMs;
    this.onNotice = onNotice;
  }

  /**
   * Called once per coordinator loop. Returns the dead-letter reason when the jobs left are to be
   * given up (only workers with other knowledge about), else undefined.
   */
  async check(progressed: boolean): Promise<string | undefined> {
    if (progressed) {
      this.lastResult = Date.now();
      this.totalAtLastResult = undefined;
    }
    if (progressed && Date.now() - this.readAt < READ_EVERY_MS) return undefined;
    await this.read();
    if (progressed || this.total <= (this.totalAtLastResult ?? this.total) || Date.now() - this.lastResult <= this.waitMs) return undefined;
    const reason = `no worker with this run's knowledge (digest ${this.runDigest}) took it in ${this.waitMs / 1000} s; workers with other knowledge (digest ${this.digests.join(', ')}) gave jobs back ${this.total} time(s)`;
    this.onNotice?.(`${reason}: the jobs left are dead letters`);
    return reason;
  }

  /** Refusals so far (read again). */
  async count(): Promise<number> {
    await this.read();
    return this.total;
  }

  private async read(): Promise<void> {
    this.readAt = Date.now();
    const byDigest = await this.redis.hgetall(this.key);
    this.total = Object.values(byDigest).reduce((sum, n) => sum + Number(n), 0);
    this.totalAtLastResult ??= this.total;
    this.digests = Object.keys(byDigest).sort();
    if (this.digests.every((d) => this.reported.has(d))) return;
    for (const d of this.digests) this.reported.add(d);
    this.onNotice?.(
      `workers with other knowledge (digest ${this.digests.join(', ')}; the run's is ${this.runDigest}) gave ${this.total} job(s) back unapplied: start workers with the run's --knowledge`,
    );
  }
}
