/**
 * The Redis connection of the queue, the coordinator and the shared CDS state: one place that reads
 * a `redis://host:port[/db]` URL and sets what BullMQ needs (commands wait for a reconnect instead of
 * failing after a few retries, so a Redis restart pauses the work rather than losing it).
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { badRequest } from '../errors/operation-outcome.ts';

/** A Redis URL as given on the command line or in the server config. */
export const RedisUrl = z.url().refine((value) => /^rediss?:$/.test(new URL(value).protocol), 'must be a redis:// or rediss:// URL');

export function parseRedisUrl(value: string, option = '--queue'): string {
  const parsed = RedisUrl.safeParse(value);
  if (!parsed.success) throw badRequest(`${option} ${value}: ${parsed.error.issues[0]?.message ?? 'not a Redis URL'}`, [option]);
  return parsed.data;
}

/**
 * A connection that retries forever with a capped delay: BullMQ requires `maxRetriesPerRequest:
 * null` for its blocking commands, and the kill tests restart Redis under running work.
 */
export function connectRedis(url: string, use: 'queue' | 'requests' = 'queue'): Redis {
  const redis = new Redis(url, {
    // A request handler must not wait for Redis forever: one retry, then the caller answers 503.
    maxRetriesPerRequest: use === 'queue' ? null : 1,
    connectTimeout: use === 'queue' ? 10_000 : 2_000,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  });
  // Connection errors are retried by the client and surface on the commands that fail.
  redis.on('error', () => undefined);
  return redis;
}
