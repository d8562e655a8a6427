/**
 * Remembers JWT ids until the token would expire anyway, so a captured token cannot be replayed.
 * One interface, two stores: in process (one instance), or in Redis when the service runs as several
 * instances behind a load balancer - a token used on one instance is then refused on every other.
 */
import type { Redis } from 'ioredis';
import { outcomeError } from '../../errors/operation-outcome.ts';

export interface ReplayStore {
  /** Records `key` until `forgetAtMs`; false when it is already known (a replay). */
  remember(key: string, forgetAtMs: number): Promise<boolean>;
}

/** In process. Entries are swept lazily; memory is bounded by the token lifetime times the request rate. */
export class ReplayCache implements ReplayStore {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  private readonly clock: () => Date;

  constructor(clock: () => Date) {
    this.clock = clock;
  }

  remember(key: string, forgetAtMs: number): Promise<boolean> {
    return Promise.resolve(this.rememberNow(key, forgetAtMs));
  }

  rememberNow(key: string, forgetAtMs: number): boolean {
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

/**
 * In Redis: one `SET key 1 PX <ms> NX` per token - atomic, so two instances receiving the same
 * token at once accept it at most once, and Redis expires the entry when the token would have.
 * Redis unreachable: the token is refused (503, retry later) rather than accepted unchecked.
 */
export class RedisReplayStore implements ReplayStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly clock: () => Date;

  constructor(redis: Redis, prefix: string, clock: () => Date) {
    this.redis = redis;
    this.prefix = prefix;
    this.clock = clock;
  }

  async remember(key: string, forgetAtMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(forgetAtMs - this.clock().getTime()));
    let answer: string | null;
    try {
      answer = await this.redis.set(`${this.prefix}jti:${key}`, '1', 'PX', ttl, 'NX');
    } catch (err) {
      throw outcomeError('transient', `the shared token-replay store (Redis) did not answer: ${(err as Error).message}`);
    }
    return answer === 'OK';
  }
}
