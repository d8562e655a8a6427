/**
 * What a run's workers need (stored in Redis by the coordinator, read by every worker) and the
 * result of one job. Both cross a trust boundary (Redis, written by another process, possibly
 * another version of this program), so both are read through zod.
 */
import { z } from 'zod';

export const RunMeta = z.object({
  // 2: with knowledgeDigest. A worker of version 1 cannot read it, so it never applies without the check.
  version: z.literal(2),
  runId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  planRefs: z.array(z.object({ url: z.string().optional(), version: z.string().optional(), id: z.string().optional() })),
  /** The coordinator's CompiledKnowledge.digest: a worker applies the run's jobs only with the same. */
  knowledgeDigest: z.string().regex(/^[0-9a-f]{64}$/),
  now: z.string(),
  mode: z.enum(['r4', 'cpg']),
  /** Input file names in the order their index appears in shard lines. */
  files: z.array(z.string()),
  shardCount: z.number().int().positive(),
  maxJobBytes: z.number().int().positive(),
  /** Job names in output order, set once every job is enqueued (a resume re-partitions otherwise). */
  jobs: z.array(z.string()).optional(),
  finished: z.boolean().optional(),
});
export type RunMeta = z.infer<typeof RunMeta>;

export const JobResult = z.object({
  patients: z.number().int().nonnegative(),
  /** `<patient id>\t<NDJSON>` lines (patient-id order). */
  output: z.array(z.string()),
  /** `<patient id>\t<OperationOutcome>` lines. */
  failures: z.array(z.string()),
  /** `<input order key>\t<OperationOutcome>` lines. */
  badLines: z.array(z.string()),
});
export type JobResult = z.infer<typeof JobResult>;

export function readJson<T extends z.ZodType>(schema: T, text: string | null, what: string): z.infer<T> {
  if (text === null) throw new Error(`${what} is not in Redis`);
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${what} in Redis is not what this version expects: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}
