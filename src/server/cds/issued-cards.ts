/**
 * The cards this service has issued, remembered long enough to match feedback against them: per
 * card its service, hook, indicator, protocol, suggestion uuids, offered override reasons and the
 * client it went to. Nothing about the patient is kept (no summary, detail or resources).
 *
 * Bounded twice: entries older than the retention window are dropped, and past `maxCards` the
 * oldest go first. Card uuids are name-based, so the same card issued again refreshes its entry.
 *
 * One interface, two stores: in process (`IssuedCards`), or in Redis (`RedisIssuedCards`) when the
 * service runs as several instances, so feedback reaching another instance than the one that issued
 * the card is still matched.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { outcomeError } from '../../errors/operation-outcome.ts';
import type { CdsCard } from './card-types.ts';

export interface IssuedCard {
  serviceId: string;
  hook: string;
  cardUuid: string;
  indicator: CdsCard['indicator'];
  /** The plan's canonical `url|version`. */
  protocol: string;
  suggestionUuids: readonly string[];
  /** `system|code` of the override reasons the card offered. */
  overrideReasons: readonly string[];
  /** The authenticated client (`iss`) the card was sent to, when auth is on. */
  client?: string;
  issuedAt: number;
}

export interface IssuedCardsOptions {
  retentionMs: number;
  maxCards: number;
  /** Epoch ms; the server clock. */
  now: () => number;
}

export interface IssuedCardStore {
  /** Remembers the cards of one response (those without a uuid cannot get feedback). */
  record(serviceId: string, hook: string, protocol: string, cards: readonly CdsCard[], client: string | undefined): Promise<void>;
  /** The card, if this service issued it within the retention window. */
  find(serviceId: string, cardUuid: string): Promise<IssuedCard | undefined>;
  /** Cards held, where the store knows it cheaply (in process). */
  readonly size?: number;
}

/** What is remembered of one card (no patient data), the same in both stores. */
function entryOf(serviceId: string, hook: string, protocol: string, card: CdsCard & { uuid: string }, client: string | undefined, issuedAt: number): IssuedCard {
  const entry: IssuedCard = {
    serviceId,
    hook,
    cardUuid: card.uuid,
    indicator: card.indicator,
    protocol,
    suggestionUuids: (card.suggestions ?? []).map((s) => s.uuid).filter((u): u is string => Boolean(u)),
    overrideReasons: (card.overrideReasons ?? []).map((r) => `${r.system}|${r.code}`),
    issuedAt,
  };
  if (client) entry.client = client;
  return entry;
}

export class IssuedCards {
  private readonly byKey = new Map<string, IssuedCard>();
  private readonly options: IssuedCardsOptions;

  constructor(options: IssuedCardsOptions) {
    this.options = options;
  }

  private static key(serviceId: string, cardUuid: string): string {
    return `${serviceId}\u0000${cardUuid}`;
  }

  /** Remembers the cards of one response (those without a uuid cannot get feedback). */
  record(serviceId: string, hook: string, protocol: string, cards: readonly CdsCard[], client: string | undefined): void {
    const issuedAt = this.options.now();
    for (const card of cards) {
      if (!card.uuid) continue;
      const key = IssuedCards.key(serviceId, card.uuid);
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.byKey.delete(key);
      this.byKey.set(key, entryOf(serviceId, hook, protocol, { ...card, uuid: card.uuid }, client, issuedAt));
    }
    this.evict(issuedAt);
  }

  /** The card, if this service issued it within the retention window. */
  find(serviceId: string, cardUuid: string): IssuedCard | undefined {
    const key = IssuedCards.key(serviceId, cardUuid);
    const entry = this.byKey.get(key);
    if (!entry) return undefined;
    if (this.options.now() - entry.issuedAt > this.options.retentionMs) {
      this.byKey.delete(key);
      return undefined;
    }
    return entry;
  }

  get size(): number {
    return this.byKey.size;
  }

  private evict(now: number): void {
    while (this.byKey.size > this.options.maxCards) this.dropOldest();
    // Oldest first: stop at the first entry still inside the window.
    for (const [key, entry] of this.byKey) {
      if (now - entry.issuedAt <= this.options.retentionMs) break;
      this.byKey.delete(key);
    }
  }

  private dropOldest(): void {
    const oldest = this.byKey.keys().next();
    if (!oldest.done) this.byKey.delete(oldest.value);
  }
}

/** The in-process store behind the store interface. */
export function inProcessCards(cards: IssuedCards): IssuedCardStore {
  return {
    record: (...args) => {
      cards.record(...args);
      return Promise.resolve();
    },
    find: (serviceId, cardUuid) => Promise.resolve(cards.find(serviceId, cardUuid)),
    get size() {
      return cards.size;
    },
  };
}

/** An entry read back from Redis (written by another instance, maybe another version). */
const storedCard = z.object({
  serviceId: z.string(),
  hook: z.string(),
  cardUuid: z.string(),
  indicator: z.enum(['info', 'warning', 'critical']),
  protocol: z.string(),
  suggestionUuids: z.array(z.string()),
  overrideReasons: z.array(z.string()),
  client: z.string().optional(),
  issuedAt: z.number(),
});

/**
 * In Redis: one key per card, expiring with the retention window (Redis bounds the memory by
 * time; `maxCards` does not apply - size Redis for the card rate times the window).
 */
export class RedisIssuedCards implements IssuedCardStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly options: Omit<IssuedCardsOptions, 'maxCards'>;

  constructor(redis: Redis, prefix: string, options: Omit<IssuedCardsOptions, 'maxCards'>) {
    this.redis = redis;
    this.prefix = prefix;
    this.options = options;
  }

  private key(serviceId: string, cardUuid: string): string {
    return `${this.prefix}card:${serviceId}:${cardUuid}`;
  }

  async record(serviceId: string, hook: string, protocol: string, cards: readonly CdsCard[], client: string | undefined): Promise<void> {
    const issuedAt = this.options.now();
    const pipeline = this.redis.pipeline();
    for (const card of cards) {
      if (!card.uuid) continue;
      const entry = entryOf(serviceId, hook, protocol, { ...card, uuid: card.uuid }, client, issuedAt);
      pipeline.set(this.key(serviceId, card.uuid), JSON.stringify(entry), 'PX', this.options.retentionMs);
    }
    try {
      await pipeline.exec();
    } catch (err) {
      throw outcomeError('transient', `the shared card store (Redis) did not answer: ${(err as Error).message}`);
    }
  }

  async find(serviceId: string, cardUuid: string): Promise<IssuedCard | undefined> {
    let text: string | null;
    try {
      text = await this.redis.get(this.key(serviceId, cardUuid));
    } catch (err) {
      throw outcomeError('transient', `the shared card store (Redis) did not answer: ${(err as Error).message}`);
    }
    if (text === null) return undefined;
    const parsed = storedCard.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    const { client, ...rest } = parsed.data;
    const entry: IssuedCard = { ...rest };
    if (client) entry.client = client;
    // The server clock decides, as in memory (Redis expiry is the upper bound).
    return this.options.now() - entry.issuedAt > this.options.retentionMs ? undefined : entry;
  }
}
