/**
 * Redis names of one distributed batch run. A run's id names everything it owns, so runs never
 * mix, a finished run is removed by its prefix, and a result is keyed by run and job (a job done
 * twice writes once: HSETNX).
 */

/** The BullMQ queue every coordinator and worker shares; a job's data names its run. */
export const BATCH_QUEUE = 'ip-batch';

export function runKeys(runId: string) {
  const base = `ip:run:${runId}`;
  return {
    /** JSON RunMeta (what the workers need to apply, and what a resume must match). */
    meta: `${base}:meta`,
    /** One shard's input (shard lines as written by the partition), per job name. */
    input: (job: string) => `${base}:in:${job}`,
    /** Hash job name -> JSON JobResult, written once. */
    results: `${base}:results`,
    /** Hash job name -> why the job failed for good (the dead-letter list). */
    dead: `${base}:dead`,
    /**
     * Set of jobs whose result the coordinator has on its disk (then their input and result leave
     * Redis): a worker given such a job again (a late redelivery) has nothing to do.
     */
    collected: `${base}:collected`,
    /** The coordinator's lock (run-lock.ts): its random token, expiring unless renewed. */
    lock: `${base}:lock`,
    /**
     * Hash knowledge digest -> how many times a worker with that knowledge, not the run's, gave a
     * job of the run back (queue-worker.ts); the coordinator reports it.
     */
    refusals: `${base}:refusals`,
  };
}

/** A job's BullMQ id: stable, so enqueuing a job again (a resume) is a no-op while it exists. */
export function jobId(runId: string, job: string): string {
  return `${runId}.${job}`;
}
