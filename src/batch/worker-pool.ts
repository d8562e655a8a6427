/**
 * The batch worker threads: started once per run (they load the knowledge while the reader is
 * already reading), asked one request at a time each, and stopped together. Chunk
 * acknowledgements go to a callback (the reader's back-pressure); any other reply answers the
 * worker's one open request. A worker that dies fails the whole run - nothing is half-written,
 * because the outputs are only committed after every worker is done.
 */
import { Worker } from 'node:worker_threads';
import { OperationOutcomeError, issue, outcome } from '../errors/operation-outcome.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './shard-worker.ts';

// The worker is a sibling module: shard-worker.ts when run from source, shard-worker.js in the built package (dist/).
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './shard-worker.ts' : './shard-worker.js', import.meta.url);

interface Pending {
  resolve(reply: FromWorker): void;
  reject(error: Error): void;
}

export class WorkerPool {
  private readonly workers: Worker[];
  private readonly pending: (Pending | undefined)[];
  private failure: OperationOutcomeError | undefined;
  private readonly onFailure: (error: Error) => void;

  constructor(setups: WorkerSetup[], onChunkDone: (worker: number) => void, onFailure: (error: Error) => void) {
    this.onFailure = onFailure;
    this.pending = new Array<Pending | undefined>(setups.length).fill(undefined);
    this.workers = setups.map((setup, index) => {
      const worker = new Worker(WORKER_URL, { workerData: setup });
      worker.on('message', (reply: FromWorker) => {
        if (reply.type === 'chunk-done') {
          onChunkDone(index);
          return;
        }
        const waiting = this.pending[index];
        this.pending[index] = undefined;
        waiting?.resolve(reply);
      });
      worker.on('error', (err: Error) => {
        this.fail(`batch worker failed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(`batch worker stopped (exit code ${code})`);
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Posts without waiting for an answer (partition chunks; `transfer` hands the buffers over). */
  post(worker: number, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.workers[worker]!.postMessage(message, transfer);
  }

  /** Posts and waits for the worker's answer. */
  request(worker: number, message: ToWorker): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending[worker] = { resolve, reject };
      this.workers[worker]!.postMessage(message);
    });
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = new OperationOutcomeError(outcome(issue('error', 'exception', message)));
    for (const waiting of this.pending) waiting?.reject(this.failure);
    this.pending.fill(undefined);
    this.onFailure(this.failure);
  }

  async terminate(): Promise<void> {
    // Terminating is not a failure of the run.
    this.failure ??= new OperationOutcomeError(outcome(issue('error', 'exception', 'the batch workers were stopped')));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
