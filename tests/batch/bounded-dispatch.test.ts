import { describe, expect, it } from 'vitest';
import { BoundedDispatcher } from '../../src/batch/bounded-dispatch.ts';

/** Lets every already-runnable promise continuation run (no clock involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function tracked<T>(promise: Promise<T>): { done: () => boolean; promise: Promise<T> } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { done: () => done, promise };
}

describe('BoundedDispatcher (reader -> worker back-pressure)', () => {
  it('delivers at most workers x perWorker items until one is acknowledged', async () => {
    const delivered: [number, number][] = [];
    const dispatcher = new BoundedDispatcher<number>(2, 2, (worker, item) => delivered.push([worker, item]));
    for (let i = 0; i < 4; i++) await dispatcher.send(i);
    expect(delivered).toEqual([
      [0, 0],
      [1, 1],
      [0, 2],
      [1, 3],
    ]);

    const fifth = tracked(dispatcher.send(4));
    await settle();
    expect(fifth.done()).toBe(false);
    expect(delivered).toHaveLength(4);

    dispatcher.acknowledge(1);
    await fifth.promise;
    expect(delivered[4]).toEqual([1, 4]);
    expect(dispatcher.pending).toBe(4);
    expect(dispatcher.maxPending).toBe(4);
  });

  it('a producer much faster than the consumers never has more than the bound pending', async () => {
    let pendingSeen = 0;
    const queue: number[] = [];
    const dispatcher = new BoundedDispatcher<number>(3, 2, (worker) => {
      queue.push(worker);
      pendingSeen = Math.max(pendingSeen, dispatcher.pending);
    });
    const producer = (async () => {
      for (let i = 0; i < 100; i++) await dispatcher.send(i);
    })();
    // A slow consumer: acknowledges one item per turn of the event loop.
    let acknowledged = 0;
    while (acknowledged < 100) {
      await settle();
      const worker = queue.shift();
      if (worker === undefined) continue;
      dispatcher.acknowledge(worker);
      acknowledged++;
    }
    await producer;
    await dispatcher.drain();
    expect(pendingSeen).toBe(6);
    expect(dispatcher.maxPending).toBe(6);
    expect(dispatcher.pending).toBe(0);
  });

  it('drain waits for the last acknowledgement', async () => {
    const dispatcher = new BoundedDispatcher<string>(1, 2, () => {});
    await dispatcher.send('a');
    const drained = tracked(dispatcher.drain());
    await settle();
    expect(drained.done()).toBe(false);
    dispatcher.acknowledge(0);
    await drained.promise;
  });

  it('abort (a worker died) releases a waiting sender with the error instead of hanging', async () => {
    const dispatcher = new BoundedDispatcher<number>(1, 1, () => {});
    await dispatcher.send(1);
    const blocked = dispatcher.send(2);
    dispatcher.abort(new Error('worker gone'));
    await expect(blocked).rejects.toThrow('worker gone');
    await expect(dispatcher.send(3)).rejects.toThrow('worker gone');
    await expect(dispatcher.drain()).rejects.toThrow('worker gone');
  });

  it('rejects an acknowledgement for nothing delivered', () => {
    const dispatcher = new BoundedDispatcher<number>(1, 1, () => {});
    expect(() => {
      dispatcher.acknowledge(0);
    }).toThrow(/not given/);
  });
});
