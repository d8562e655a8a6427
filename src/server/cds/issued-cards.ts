/**
 * The cards this service has issued, remembered long enough to match feedback against them: per
 * card its service, hook, indicator, protocol, suggestion uuids, offered override reasons and the
 * client it went to. Nothing about the patient is kept (no summary, detail or resources).
 *
 * Bounded twice: entries older than the retention window are dropped, and past `maxCards` the
 * oldest go first. Card uuids are name-based, so the same card issued again refreshes its entry.
 */
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
      this.byKey.set(key, entry);
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
