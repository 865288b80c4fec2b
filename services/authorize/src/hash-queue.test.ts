import { describe, expect, it } from 'vitest';
import { HashQueue, HashQueueFullError } from './hash-queue.js';

/** A check that finishes when the test says so. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let started = false;
  return {
    check: async () => {
      started = true;
      await opened;
      return 'done';
    },
    open,
    get started() {
      return started;
    },
  };
}

describe('HashQueue', () => {
  it('runs at most `concurrency` checks at once and the rest in order as places free', async () => {
    const queue = new HashQueue({ concurrency: 2, maxQueued: 10, maxPerSource: 10 });
    const gates = [gate(), gate(), gate()];
    const results = gates.map((g, i) => queue.run(`s${i}`, g.check));
    await Promise.resolve();
    expect(gates.map((g) => g.started)).toEqual([true, true, false]);
    expect(queue.depth).toMatchObject({ running: 2, queued: 1 });
    gates[0]!.open();
    await results[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(gates[2]!.started).toBe(true);
    gates[1]!.open();
    gates[2]!.open();
    expect(await Promise.all(results)).toEqual(['done', 'done', 'done']);
    expect(queue.depth).toMatchObject({ running: 0, queued: 0, refused: 0 });
  });

  it('refuses at once when the queue is full, and when one source holds its share', async () => {
    const queue = new HashQueue({ concurrency: 1, maxQueued: 2, maxPerSource: 2 });
    const gates = Array.from({ length: 4 }, gate);
    const a1 = queue.run('a', gates[0]!.check);
    const a2 = queue.run('a', gates[1]!.check);
    await expect(queue.run('a', gates[2]!.check)).rejects.toMatchObject({ reason: 'source' });
    const b1 = queue.run('b', gates[2]!.check);
    await expect(queue.run('c', gates[3]!.check)).rejects.toBeInstanceOf(HashQueueFullError);
    await expect(queue.run('c', gates[3]!.check)).rejects.toMatchObject({ reason: 'busy' });
    expect(queue.depth).toEqual({ running: 1, queued: 2, maxQueued: 2, refused: 3 });
    for (const g of gates) g.open();
    await Promise.all([a1, a2, b1]);
    // Places are given back, failures included.
    await expect(queue.run('a', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await queue.run('a', async () => 'again')).toBe('again');
    expect(queue.depth).toMatchObject({ running: 0, queued: 0 });
  });
});
