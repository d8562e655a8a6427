/**
 * `worker --queue redis://host:port`: applies distributed batch jobs (src/queue/queue-worker.ts)
 * until SIGTERM/SIGINT (or, with --idle-exit, until the queue has been empty for that long after
 * its first job), then finishes the job in hand and exits 0. Run one per core, on any machine
 * that reaches the Redis; each loads the protocols from its own --knowledge, and applies a run only
 * when that knowledge's digest is the run's (else it gives the run's jobs back and says so).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge } from '../../knowledge/load-artifacts.ts';
import { startQueueWorker } from '../../queue/queue-worker.ts';
import { parseRedisUrl } from '../../queue/redis-connection.ts';
import { EXIT, type CliIo, type ExitCode } from '../io.ts';
import { addKnowledgeOption, parseOptions } from '../options.ts';
import { fastPathOption } from '../../fhirpath/fast-path/switch.ts';

const WorkerArgs = z.object({
  queue: z.string().min(1),
  knowledge: z.array(z.string().min(1)).optional(),
  lockMs: z.coerce.number().int().min(200).max(600_000).optional(),
  idleExit: z.coerce.number().positive().max(86_400).optional(),
});
type WorkerArgs = z.input<typeof WorkerArgs>;

export async function runWorkerCommand(raw: WorkerArgs, io: CliIo, stop: Promise<unknown>): Promise<ExitCode> {
  const args = parseOptions(WorkerArgs, raw);
  const url = parseRedisUrl(args.queue);
  const knowledge = loadKnowledge(args.knowledge ?? DEFAULT_ARTIFACT_DIRS, fastPathOption(process.env['FHIRPATH_FAST_PATH']));
  let jobs = 0;
  let patients = 0;
  const worker = startQueueWorker({
    url,
    knowledge,
    ...(args.lockMs ? { lockMs: args.lockMs } : {}),
    onJob: (event) => {
      jobs++;
      patients += event.patients;
    },
    onMismatch: (event) => {
      io.stderr(
        `worker: run ${event.runId} was started with knowledge ${event.runDigest}, this worker has ${event.workerDigest}: its jobs are given back unapplied (start this worker with the run's --knowledge)\n`,
      );
    },
  });
  io.stderr(`worker: knowledge ${knowledge.digest}; waiting for batch jobs on ${new URL(url).host} (stop with SIGTERM or Ctrl-C)\n`);
  // --idle-exit: also stop once the run is over (a job done, then the queue empty for that long).
  await (args.idleExit ? Promise.race([stop, worker.idle(args.idleExit * 1000)]) : stop);
  await worker.close();
  const refused = worker.refused > 0 ? `; gave ${worker.refused} job(s) back (a run's knowledge was not this worker's)` : '';
  io.stderr(`worker: stopped after ${jobs} job(s), ${patients} patient(s)${refused}\n`);
  return EXIT.ok;
}

function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

export function registerWorker(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  addKnowledgeOption(
    program
      .command('worker')
      .description('apply distributed batch jobs from a Redis queue (see batch --queue) until stopped; run one per core, on any machine')
      .requiredOption('--queue <redis-url>', 'the Redis the coordinator uses, e.g. redis://10.0.0.5:6379')
      .option('--lock-ms <ms>', "how long a job's lock lives unrenewed: a dead worker's job is taken again after about this (default 10000)")
      .option('--idle-exit <s>', 'exit 0 once this worker has done a job and then no job has waited or run on the queue for this many seconds (default: run until stopped)'),
  ).action((options: WorkerArgs) => {
    done(runWorkerCommand(options, io, signalled()));
  });
}
