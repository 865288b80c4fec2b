import { MemoryProjectionStore } from '@gatehouse/projection-store';
import { describe, expect, it } from 'vitest';
import { afterApplied, FollowedCache } from './followed-cache.js';
import { positionKey } from './projection.js';

describe('FollowedCache', () => {
  const setup = async () => {
    const store = new MemoryProjectionStore();
    await store.set('rm:value', 'v1');
    let loads = 0;
    const cache = new FollowedCache(
      afterApplied(
        store,
        async () => {
          loads += 1;
          return store.get('rm:value');
        },
        { timeoutMs: 2000 },
      ),
    );
    return { store, cache, loads: () => loads };
  };
  const event = { topic: 'gatehouse.directory', partition: 0, offset: 5n };

  it('reads the store once, then from memory', async () => {
    const { cache, loads } = await setup();
    expect(await cache.get('k')).toBe('v1');
    expect(await cache.get('k')).toBe('v1');
    expect(loads()).toBe(1);
  });

  it('after an event, reads again once the read model has applied it, not before', async () => {
    const { store, cache } = await setup();
    expect(await cache.get('k')).toBe('v1');
    cache.saw('k', event);
    const reading = cache.get('k');
    // The projector applies the change and its position a little later.
    setTimeout(() => {
      void store.write([
        { op: 'set', key: 'rm:value', value: 'v2' },
        { op: 'set', key: positionKey(event.topic, event.partition), value: '5' },
      ]);
    }, 50);
    expect(await reading).toBe('v2');
  });

  it('waits for an event seen before the entry was ever read', async () => {
    const { store, cache } = await setup();
    cache.saw('k', event);
    const reading = cache.get('k');
    setTimeout(() => {
      void store.write([
        { op: 'set', key: 'rm:value', value: 'v2' },
        { op: 'set', key: positionKey(event.topic, event.partition), value: '5' },
      ]);
    }, 50);
    expect(await reading).toBe('v2');
  });

  it('does not keep a failed read', async () => {
    const store = new MemoryProjectionStore();
    let fail = true;
    const cache = new FollowedCache(async () => {
      if (fail) throw new Error('store down');
      return 'ok';
    });
    await expect(cache.get('k')).rejects.toThrow('store down');
    fail = false;
    expect(await cache.get('k')).toBe('ok');
    await store.close();
  });

  describe('bounds', () => {
    /** A cache over a read model where only `known` keys exist; the rest read as undefined. */
    const over = (known: Set<string>, bounds: { maxEntries?: number; maxMisses?: number }) => {
      const loads = new Map<string, number>();
      const cache = new FollowedCache<string | undefined>(async (key) => {
        loads.set(key, (loads.get(key) ?? 0) + 1);
        return known.has(key) ? `value of ${key}` : undefined;
      }, bounds);
      return { cache, loadsOf: (key: string) => loads.get(key) ?? 0 };
    };

    it('holds at most maxEntries however many distinct keys are read and seen', async () => {
      const known = new Set(Array.from({ length: 5_000 }, (_, i) => `k${i}`));
      const { cache } = over(known, { maxEntries: 1_000, maxMisses: 100 });
      for (let i = 0; i < 5_000; i++) {
        await cache.get(`k${i}`);
        cache.saw(`seen-${i}`, { ...event, offset: BigInt(i) });
        expect(cache.size).toBeLessThanOrEqual(1_000);
      }
      expect(cache.size).toBe(1_000);
    });

    it('drops the least recently used entry, not the oldest', async () => {
      const { cache, loadsOf } = over(new Set(['a', 'b', 'c', 'd']), { maxEntries: 3 });
      for (const key of ['a', 'b', 'c', 'a', 'd', 'a', 'c']) await cache.get(key);
      // 'b' was the least recently used when 'd' came; 'a' and 'c' stayed.
      expect([loadsOf('a'), loadsOf('b'), loadsOf('c'), loadsOf('d')]).toEqual([1, 1, 1, 1]);
      await cache.get('b');
      expect(loadsOf('b')).toBe(2);
    });

    it('keeps at most maxMisses made-up keys, so a flood of them leaves entries in use alone', async () => {
      const { cache, loadsOf } = over(new Set(['real']), { maxEntries: 10_000, maxMisses: 100 });
      expect(await cache.get('real')).toBe('value of real');
      for (let i = 0; i < 5_000; i++) {
        expect(await cache.get(`made-up-${i}`)).toBeUndefined();
        expect(cache.size).toBeLessThanOrEqual(101);
      }
      expect(await cache.get('real')).toBe('value of real');
      expect(loadsOf('real')).toBe(1);
      // A recent miss is still answered from memory.
      await cache.get('made-up-4999');
      expect(loadsOf('made-up-4999')).toBe(1);
    });

    it('an entry that now exists is no longer counted as a miss once its event is seen', async () => {
      const known = new Set<string>();
      const { cache } = over(known, { maxEntries: 10, maxMisses: 1 });
      expect(await cache.get('new-client')).toBeUndefined();
      known.add('new-client');
      cache.saw('new-client', event);
      expect(await cache.get('new-client')).toBe('value of new-client');
      // The only miss slot goes to another key; the found entry stays.
      expect(await cache.get('other')).toBeUndefined();
      expect(await cache.get('yet-another')).toBeUndefined();
      expect(cache.size).toBe(2);
      expect(await cache.get('new-client')).toBe('value of new-client');
    });
  });
});
