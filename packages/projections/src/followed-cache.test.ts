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
});
