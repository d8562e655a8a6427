/**
 * Back-pressure between the reader and the workers: every worker may hold at most `perWorker`
 * unacknowledged items, and `send` waits (the reader stops reading) until one is acknowledged.
 * So the bytes in flight are bounded by workers x perWorker x chunk size, however fast the file
 * is read and however slow the workers are.
 */
export class BoundedDispatcher<T> {
  private readonly deliver: (worker: number, item: T) => void;
  private readonly perWorker: number;
  private readonly inFlight: number[];
  private waiting: (() => void)[] = [];
  private highWater = 0;
  private failure: Error | undefined;

  constructor(workers: number, perWorker: number, deliver: (worker: number, item: T) => void) {
    if (workers < 1 || perWorker < 1) throw new RangeError('a dispatcher needs at least one worker and one slot');
    this.deliver = deliver;
    this.perWorker = perWorker;
    this.inFlight = new Array<number>(workers).fill(0);
  }

  /** Items delivered and not yet acknowledged. */
  get pending(): number {
    return this.inFlight.reduce((a, b) => a + b, 0);
  }

  /** The most items that were ever pending at once. */
  get maxPending(): number {
    return this.highWater;
  }

  /** Delivers `item` to the least-loaded worker with a free slot, waiting for one if all are full. */
  async send(item: T): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      let best = -1;
      for (let w = 0; w < this.inFlight.length; w++) {
        if (this.inFlight[w]! < this.perWorker && (best < 0 || this.inFlight[w]! < this.inFlight[best]!)) best = w;
      }
      if (best >= 0) {
        this.inFlight[best]!++;
        this.highWater = Math.max(this.highWater, this.pending);
        this.deliver(best, item);
        return;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Worker `worker` finished one item: frees its slot and wakes the sender. */
  acknowledge(worker: number): void {
    if (!(this.inFlight[worker]! > 0)) throw new Error(`worker ${worker} acknowledged an item it was not given`);
    this.inFlight[worker]!--;
    this.wake();
  }

  /** Resolves once every delivered item is acknowledged. */
  async drain(): Promise<void> {
    while (this.pending > 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** A worker is gone: whoever waits, and every later send, gets `error` instead of waiting forever. */
  abort(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
