/**
 * The run lock: one coordinator per distributed batch run. Two coordinators on one run would
 * partition into the same work folder and merge the same output at once; so a coordinator holds
 * `ip:run:<id>:lock` (SET NX PX with a random token) for as long as it runs, renews it every third
 * of its TTL, and releases it at the end, also on an error. Renewal and release act only while the
 * key still holds this coordinator's token (a Lua script: compare and act in one step), so a
 * coordinator never extends or deletes another's lock.
 *
 * A coordinator killed with -9 cannot release: its lock expires by itself after the TTL. That is why
 * `--resume` waits for a held lock up to its TTL before it refuses: a dead holder's lock is gone by
 * then, a live holder's has been renewed - another coordinator runs the run.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { outcomeError, type OperationOutcomeError } from '../errors/operation-outcome.ts';
import { runKeys } from './run-keys.ts';

/**
 * Short, so a resume after a crash waits little; renewed every third of it, so a coordinator has two
 * renewals' slack (a busy event loop, a Redis restart) before another can take over.
 */
export const DEFAULT_RUN_LOCK_MS = 15_000;

/**
 * Keeps the lock while its token is there; takes it again when it is gone (it expired while Redis
 * was restarting or this process was stalled, and nobody took it): 1. Another token: 0, lost.
 */
const RENEW = `local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RunLock {
  /** Throws when another coordinator took the run over (this one must stop writing). */
  assertHeld(): void;
  /** Stops renewing and deletes the lock if it is still this coordinator's. */
  release(): Promise<void>;
}

export interface RunLockOptions {
  ttlMs?: number;
  /** Wait for a held lock (a resume), else refuse at once. */
  wait: boolean;
  /** Called once when the lock is held and this coordinator waits for it. */
  onWait?: (waitMs: number) => void;
}

const heldElsewhere = (runId: string, what: string): OperationOutcomeError =>
  outcomeError('conflict', `run ${runId}: ${what}; run one coordinator per run (this one stopped without touching the run)`, ['--resume']);

/** Takes the run's lock (waiting for it with `wait`), then keeps it renewed until `release`. */
export async function acquireRunLock(redis: Redis, runId: string, options: RunLockOptions): Promise<RunLock> {
  const key = runKeys(runId).lock;
  const ttlMs = options.ttlMs ?? DEFAULT_RUN_LOCK_MS;
  const token = randomUUID();
  let deadline: number | undefined;
  while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) === null) {
    if (!options.wait) throw heldElsewhere(runId, 'another coordinator holds its lock');
    if (deadline === undefined) {
      // The holder's remaining time, if it used a longer TTL than ours: a dead holder's lock is gone after it.
      const waitMs = Math.max(ttlMs, await redis.pttl(key)) + 250;
      deadline = Date.now() + waitMs;
      options.onWait?.(waitMs);
    } else if (Date.now() > deadline) {
      throw heldElsewhere(runId, 'another coordinator is running it (its lock was renewed while this one waited for it to expire)');
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, ttlMs / 4)));
  }
  let lost = false;
  let renewing: Promise<unknown> | undefined;
  const timer = setInterval(
    () => {
      renewing ??= (redis.eval(RENEW, 1, key, token, ttlMs) as Promise<number>)
        .then((kept) => {
          if (kept !== 1) lost = true;
        })
        // Redis unreachable: commands wait for the reconnect; an error here is retried next time.
        .catch(() => undefined)
        .finally(() => {
          renewing = undefined;
        });
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    assertHeld: () => {
      if (lost) throw heldElsewhere(runId, 'another coordinator took its lock over while this one was stalled');
    },
    release: async () => {
      clearInterval(timer);
      await renewing;
      if (!lost) await redis.eval(RELEASE, 1, key, token);
    },
  };
}
