/**
 * The CDS Hooks feedback endpoint's body (cds-fb-1..3) and where outcomes are kept: in memory and,
 * when configured, appended as NDJSON lines. Only what feedback itself carries is stored.
 */
import { appendFile } from 'node:fs/promises';
import { z } from 'zod';

const coding = z.object({ system: z.string().min(1), code: z.string().min(1), display: z.string().optional() });

const feedbackItem = z
  .object({
    card: z.string().min(1),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(z.object({ id: z.string().min(1) })).min(1).optional(),
    overrideReason: z
      .object({ reason: coding.optional(), userComment: z.string().min(1).optional() })
      .refine((r) => r.reason || r.userComment, 'an overrideReason needs a reason, a userComment, or both (cds-fb-3)')
      .optional(),
    outcomeTimestamp: z.iso.datetime({ offset: true }),
  })
  .refine((f) => f.outcome !== 'accepted' || f.acceptedSuggestions, {
    message: "outcome 'accepted' needs acceptedSuggestions (cds-fb-2)",
    path: ['acceptedSuggestions'],
  })
  .refine((f) => f.outcome !== 'overridden' || !f.acceptedSuggestions, {
    message: "an 'overridden' card has no accepted suggestions",
    path: ['acceptedSuggestions'],
  });

export const feedbackRequestSchema = z.object({ feedback: z.array(feedbackItem).min(1) });

export type FeedbackItem = z.infer<typeof feedbackItem>;

export interface FeedbackRecord extends FeedbackItem {
  serviceId: string;
  receivedAt: string;
  /** The authenticated client (`iss`), when auth is on. */
  client?: string;
}

export class FeedbackStore {
  private readonly records: FeedbackRecord[] = [];
  private readonly file: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(file?: string) {
    this.file = file;
  }

  /** Records in memory, then appends to the file; resolves once the lines are written. */
  async add(items: FeedbackRecord[]): Promise<void> {
    this.records.push(...items);
    if (!this.file) return;
    const file = this.file;
    const lines = items.map((r) => `${JSON.stringify(r)}\n`).join('');
    // One writer at a time, so concurrent requests never interleave inside a line.
    const write = this.writing.then(() => appendFile(file, lines, 'utf8'));
    this.writing = write.catch(() => undefined);
    await write;
  }

  all(): readonly FeedbackRecord[] {
    return this.records;
  }

  forService(serviceId: string): FeedbackRecord[] {
    return this.records.filter((r) => r.serviceId === serviceId);
  }
}
