/**
 * The CDS Hooks feedback endpoint's body (cds-fb-1..3), its match against the cards this service
 * issued, and where outcomes are kept: the most recent in memory and, when configured, every one
 * appended as an NDJSON line. What is stored is the feedback plus what the service knows about the
 * card (hook, indicator, protocol): no patient data. With Redis configured, the cards are matched
 * in the shared store (issued-cards.ts), and every record is also appended to a shared Redis list,
 * so all instances' feedback is in one place.
 */
import { appendFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { outcomeError } from '../../errors/operation-outcome.ts';
import type { IssuedCard, IssuedCardStore } from './issued-cards.ts';

const coding = z.object({ system: z.string().min(1), code: z.string().min(1), display: z.string().optional() });

const suggestionIds = z.array(z.object({ id: z.string().min(1) }), {
  error: (iss) => (iss.input === undefined ? "outcome 'accepted' needs acceptedSuggestions (cds-fb-2)" : undefined),
});
const itemFields = {
  card: z.string().min(1),
  overrideReason: z
    .object({ reason: coding.optional(), userComment: z.string().min(1).optional() })
    .refine((r) => r.reason || r.userComment, 'an overrideReason needs a reason, a userComment, or both (cds-fb-3)')
    .optional(),
  outcomeTimestamp: z.iso.datetime({ offset: true }),
};
/** One item per outcome, so the schema (and the OpenAPI document) says cds-fb-2 itself. */
const feedbackItem = z.discriminatedUnion('outcome', [
  z.object({
    ...itemFields,
    outcome: z.literal('accepted'),
    acceptedSuggestions: suggestionIds.min(1),
  }),
  z.object({
    ...itemFields,
    outcome: z.literal('overridden'),
    acceptedSuggestions: suggestionIds.max(0, "an 'overridden' card has no accepted suggestions").optional(),
  }),
]);

export const feedbackRequestSchema = z.object({ feedback: z.array(feedbackItem).min(1) });

export type FeedbackItem = z.infer<typeof feedbackItem>;

export type FeedbackRecord = FeedbackItem & {
  serviceId: string;
  receivedAt: string;
  /** The authenticated client (`iss`), when auth is on. */
  client?: string;
  /** The card as issued (never its text): hook, indicator, protocol `url|version`, when. */
  issued: { hook: string; indicator: string; protocol: string; issuedAt: string };
  /** overridden with a reason: whether it is one the card offered (clients may add their own). */
  reasonOffered?: boolean;
};

export type FeedbackMatch = { ok: true; records: FeedbackRecord[] } | { ok: false; problems: { path: string; message: string }[] };

/**
 * Ties each feedback item to a card this service issued (same service, same client, within the
 * retention window) and its accepted suggestions to that card's suggestions. All or nothing: one
 * unmatched item refuses the request, so a batch is never half recorded.
 */
export async function matchFeedback(items: FeedbackItem[], context: { serviceId: string; client?: string; receivedAt: string; issued: IssuedCardStore }): Promise<FeedbackMatch> {
  const problems: { path: string; message: string }[] = [];
  const records: FeedbackRecord[] = [];
  const cards = await Promise.all(items.map((item) => context.issued.find(context.serviceId, item.card)));
  items.forEach((item, i) => {
    const card: IssuedCard | undefined = cards[i];
    // A card sent to another client is reported exactly like an unknown one.
    if (!card || (card.client ?? undefined) !== context.client) {
      problems.push({ path: `feedback[${i}].card`, message: `card ${item.card} was not issued by ${context.serviceId} (or is older than the feedback retention window)` });
      return;
    }
    const offered = new Set(card.suggestionUuids);
    (item.acceptedSuggestions ?? []).forEach((s, j) => {
      if (!offered.has(s.id)) problems.push({ path: `feedback[${i}].acceptedSuggestions[${j}].id`, message: `suggestion ${s.id} is not one of card ${item.card}'s suggestions` });
    });
    const record: FeedbackRecord = {
      ...item,
      serviceId: context.serviceId,
      receivedAt: context.receivedAt,
      ...(context.client ? { client: context.client } : {}),
      issued: { hook: card.hook, indicator: card.indicator, protocol: card.protocol, issuedAt: new Date(card.issuedAt).toISOString() },
    };
    const reason = item.overrideReason?.reason;
    if (reason) record.reasonOffered = card.overrideReasons.includes(`${reason.system}|${reason.code}`);
    records.push(record);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, records };
}

/** How many records the in-memory view keeps (the file, when configured, keeps all). */
const DEFAULT_IN_MEMORY = 10_000;

/** A Redis list every instance appends its feedback records to (newest last, the oldest trimmed). */
export interface SharedFeedbackList {
  redis: Redis;
  key: string;
  maxLength: number;
}

export class FeedbackStore {
  private readonly records: FeedbackRecord[] = [];
  private readonly file: string | undefined;
  private readonly inMemory: number;
  private readonly shared: SharedFeedbackList | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(file?: string, inMemory = DEFAULT_IN_MEMORY, shared?: SharedFeedbackList) {
    this.file = file;
    this.inMemory = inMemory;
    this.shared = shared;
  }

  /** Every instance's records, oldest first (the shared list; this instance's when there is none). */
  async allShared(): Promise<FeedbackRecord[]> {
    if (!this.shared) return [...this.records];
    const lines = await this.shared.redis.lrange(this.shared.key, 0, -1);
    return lines.map((line) => JSON.parse(line) as FeedbackRecord);
  }

  /** Appends to the file first, then keeps the records in memory; resolves once the lines are written. */
  async add(items: FeedbackRecord[]): Promise<void> {
    if (this.file) {
      const file = this.file;
      const lines = items.map((r) => `${JSON.stringify(r)}\n`).join('');
      // One writer at a time, so concurrent requests never interleave inside a line.
      const write = this.writing.then(() => appendFile(file, lines, 'utf8'));
      this.writing = write.catch(() => undefined);
      await write;
    }
    if (this.shared) {
      const { redis, key, maxLength } = this.shared;
      try {
        await redis
          .multi()
          .rpush(key, ...items.map((r) => JSON.stringify(r)))
          .ltrim(key, -maxLength, -1)
          .exec();
      } catch (err) {
        throw outcomeError('transient', `the shared feedback list (Redis) did not answer: ${(err as Error).message}`);
      }
    }
    this.records.push(...items);
    if (this.records.length > this.inMemory) this.records.splice(0, this.records.length - this.inMemory);
  }

  all(): readonly FeedbackRecord[] {
    return this.records;
  }

  forService(serviceId: string): FeedbackRecord[] {
    return this.records.filter((r) => r.serviceId === serviceId);
  }
}
