import { describe, expect, it } from 'vitest';
import { HashQueue, HashQueueFullError, hashQueueOptions } from './hash-queue.js';

/** A check that finishes when the test says so, and records that it started. */
function gate(name: string, started: string[]) {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    check: async () => {
      started.push(name);
      await opened;
      return name;
    },
    open,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('HashQueue', () => {
  it('leaves a core free and gives one source at most all turns but one, by default', () => {
    expect(hashQueueOptions({ concurrency: 4 })).toMatchObject({ maxRunningPerSource: 3 });
    expect(hashQueueOptions({ concurrency: 1 })).toMatchObject({ maxRunningPerSource: 1 });
    expect(hashQueueOptions().concurrency).toBeGreaterThanOrEqual(1);
  });

  it('runs at most `concurrency` checks at once and starts waiting ones as turns free', async () => {
    const started: string[] = [];
    const queue = new HashQueue({ concurrency: 2, maxRunningPerSource: 2, maxQueued: 10 });
    const gates = ['a', 'b', 'c'].map((name) => gate(name, started));
    const results = gates.map((g, i) => queue.run(`s${i}`, g.check));
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(queue.depth).toMatchObject({ running: 2, queued: 1 });
    gates[0]!.open();
    await results[0];
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    gates[1]!.open();
    gates[2]!.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(queue.depth).toMatchObject({ running: 0, queued: 0, refused: 0 });
  });

  it("gives another source the next turn, not the flooding source's backlog", async () => {
    const started: string[] = [];
    const queue = new HashQueue({ concurrency: 2, maxRunningPerSource: 1, maxPerSource: 8 });
    const flood = ['f1', 'f2', 'f3', 'f4'].map((name) => gate(name, started));
    const flooding = flood.map((g) => queue.run('flooder', g.check));
    await settle();
    // One turn for the flooder; the other stays free for anyone else.
    expect(started).toEqual(['f1']);
    const genuine = gate('genuine', started);
    const signedIn = queue.run('someone', genuine.check);
    await settle();
    expect(started).toEqual(['f1', 'genuine']);
    const other = gate('other', started);
    const otherRun = queue.run('another', other.check);
    flood[0]!.open();
    await settle();
    // Round robin: the source that waited, before the flooder's second check.
    expect(started).toEqual(['f1', 'genuine', 'other']);
    genuine.open();
    await signedIn;
    await settle();
    expect(started).toEqual(['f1', 'genuine', 'other', 'f2']);
    for (const g of [...flood, other]) g.open();
    await Promise.all([...flooding, otherRun]);
    expect(started).toEqual(['f1', 'genuine', 'other', 'f2', 'f3', 'f4']);
  });

  it('refuses at once when a source holds its share, and when the queue is full', async () => {
    const started: string[] = [];
    const queue = new HashQueue({
      concurrency: 1,
      maxRunningPerSource: 1,
      maxPerSource: 2,
      maxQueued: 2,
    });
    const gates = ['a1', 'a2', 'b1', 'c1', 'd1'].map((name) => gate(name, started));
    const a1 = queue.run('a', gates[0]!.check);
    const a2 = queue.run('a', gates[1]!.check);
    await expect(queue.run('a', gates[2]!.check)).rejects.toMatchObject({ reason: 'source' });
    const b1 = queue.run('b', gates[2]!.check);
    await expect(queue.run('c', gates[3]!.check)).rejects.toBeInstanceOf(HashQueueFullError);
    await expect(queue.run('d', gates[4]!.check)).rejects.toMatchObject({ reason: 'busy' });
    expect(queue.depth).toEqual({ running: 1, queued: 2, maxQueued: 2, refused: 3 });
    for (const g of gates) g.open();
    await Promise.all([a1, a2, b1]);
    // Places are given back, failures included.
    await expect(queue.run('a', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await queue.run('a', async () => 'again')).toBe('again');
    expect(queue.depth).toMatchObject({ running: 0, queued: 0 });
  });
});
