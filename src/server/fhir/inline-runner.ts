/**
 * Runs $apply of an inline definition (one posted in the request, not one of the server's
 * artifacts) within a time budget, off the request thread.
 *
 * Why a worker thread: the engine is synchronous (FHIRPath evaluation cannot yield), so a budget
 * checked on the request thread can only notice an overrun after it has blocked every other
 * request for as long as the evaluation took (27 s in the measurement). A worker can be
 * stopped when its budget runs out, and the event loop serving the other requests never waits on
 * it. The size check (inline-budget.ts) runs first, on the request thread, and bounds what is
 * parsed there; the worker then bounds the time of compiling and evaluating.
 *
 * One worker, created on first use (compiling the server's artifacts takes about a second, not
 * counted in any budget) and kept; jobs run one at a time in arrival order; a job over budget
 * terminates the worker (the next job starts a new one) and is answered too-costly. The worker
 * runs the project's engine on the server's artifacts: an engine injected into the server (tests,
 * embedding) is not used for inline definitions.
 */
import { Worker } from 'node:worker_threads';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { ApplyContext, ApplyOptions, ApplyResult } from '../../engine/types.ts';
import { OperationOutcomeError, outcomeError } from '../../errors/operation-outcome.ts';

export interface InlineJob {
  definition: Resource;
  /** The subject's record (the worker indexes it). */
  record: Resource[];
  context: Omit<ApplyContext, 'data'>;
  options: ApplyOptions;
}

export type InlineReply = { ok: true; plan: ApplyResult } | { ok: true; activity: { resource: Resource; outcome: OperationOutcome } } | { ok: false; outcome: OperationOutcome };

export interface InlineRunnerOptions {
  /** The server's artifacts, compiled once in the worker. */
  artifacts: Resource[];
  /** Most time one job may take once the worker is ready, ms. */
  budgetMs: number;
  /** Most jobs waiting (more: refused as transient, 503). */
  maxQueued?: number;
}

interface Ready {
  worker: Worker;
  ready: Promise<void>;
}

// The worker is a sibling module: inline-worker.ts when run from source, inline-worker.js in the built package (dist/).
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './inline-worker.ts' : './inline-worker.js', import.meta.url);

export class InlineApplyRunner {
  private current: Ready | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private readonly options: InlineRunnerOptions;

  constructor(options: InlineRunnerOptions) {
    this.options = options;
  }

  private start(): Ready {
    const worker = new Worker(WORKER_URL, { workerData: { artifacts: this.options.artifacts } });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => {
        resolve();
      });
      worker.once('error', reject);
      worker.once('exit', () => {
        reject(new Error('the inline $apply worker stopped'));
      });
    });
    // A worker that died is replaced on the next job.
    worker.once('exit', () => {
      if (this.current?.worker === worker) this.current = undefined;
    });
    worker.once('error', () => {
      if (this.current?.worker === worker) this.current = undefined;
    });
    ready.catch(() => undefined);
    return { worker, ready };
  }

  /** Applies the job in the worker; too-costly when it runs over the budget. */
  run(job: InlineJob): Promise<InlineReply> {
    if (this.waiting >= (this.options.maxQueued ?? 16)) {
      return Promise.reject(outcomeError('transient', 'too many inline definitions are being applied; retry later'));
    }
    this.waiting++;
    const result = this.queue.then(() => this.runNow(job));
    this.queue = result.catch(() => undefined).finally(() => this.waiting--);
    return result;
  }

  private async runNow(job: InlineJob): Promise<InlineReply> {
    this.current ??= this.start();
    const { worker, ready } = this.current;
    await ready.catch((err: unknown) => {
      throw new OperationOutcomeError(outcomeError('exception', 'the inline $apply worker could not start').outcome, { cause: err });
    });
    return new Promise<InlineReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.current = undefined;
        void worker.terminate();
        reject(outcomeError('too-costly', `applying the inline definition took longer than this server's budget of ${this.options.budgetMs} ms; it was stopped`));
      }, this.options.budgetMs);
      const onMessage = (reply: InlineReply) => {
        cleanup();
        resolve(reply);
      };
      const onExit = () => {
        cleanup();
        reject(outcomeError('exception', 'the inline $apply worker stopped while applying'));
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.postMessage(job);
    });
  }

  /** Stops the worker (server shutdown). */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current) await current.worker.terminate();
  }
}
