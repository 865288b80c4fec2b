// Generations of the read models over each adapter: what readers see, what a live projector may
// write, and that an emptied store is never read as valid.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GenerationalStore,
  GenerationReplacedError,
  generationPointerKey,
  NoGenerationError,
} from '../generations.js';
import { type ProjectionStore, ProjectionStoreUnavailableError } from '../port.js';

export function describeGenerations(harness: {
  name: string;
  open(namespace: string): Promise<ProjectionStore>;
}): void {
  describe(`generations of the read models: ${harness.name}`, () => {
    const opened: ProjectionStore[] = [];
    afterEach(async () => {
      for (const base of opened.splice(0)) {
        await base.deleteByPrefix('');
        await base.close();
      }
    });
    const open = async () => {
      const base = await harness.open(randomUUID());
      opened.push(base);
      return { base, store: new GenerationalStore(base) };
    };

    it('refuses to read read models while no generation is current; shared keys are always there', async () => {
      const { store } = await open();
      expect(await store.generations.current()).toBeNull();
      for (const read of [
        () => store.get('rm:user:t:1'),
        () => store.hgetall('rm:user:t:1'),
        () =>
          store.read([
            { op: 'get', key: 'fs:code:t:1' },
            { op: 'exists', key: 'rm:x' },
          ]),
        () => store.set('rm:user:t:1', 'x'),
      ]) {
        await expect(read()).rejects.toBeInstanceOf(NoGenerationError);
        await expect(read()).rejects.toBeInstanceOf(ProjectionStoreUnavailableError);
      }
      await store.set('fs:code:t:1', 'a code', { ttlMs: 60_000 });
      expect(await store.get('fs:code:t:1')).toBe('a code');
      expect(await store.getDel('fs:code:t:1')).toBe('a code');
    });

    it('serves the generation the pointer names, and follows a switch with no stale read', async () => {
      const { store, base } = await open();
      const first = store.generations.newId();
      const building = store.generations.view(first, 'building');
      await building.write([
        { op: 'hset', key: 'rm:user:t:1', fields: { status: 'ACTIVE' } },
        { op: 'set', key: 'pos:topic:0', value: '7' },
        { op: 'set', key: 'fs:refresh:t:abc', value: 'shared' },
      ]);
      expect(await store.generations.switch(null, first)).toBe(true);
      expect(await store.hget('rm:user:t:1', 'status')).toBe('ACTIVE');
      expect(await store.get('fs:refresh:t:abc')).toBe('shared');
      // The keys sit under their generation, apart from the shared ones.
      expect(await base.get(`gen:${first}:pos:topic:0`)).toBe('7');
      expect(await base.get('fs:refresh:t:abc')).toBe('shared');

      const live = store.generations.view(first, 'live');
      const second = store.generations.newId();
      await store.generations
        .view(second, 'building')
        .write([{ op: 'hset', key: 'rm:user:t:1', fields: { status: 'SUSPENDED' } }]);
      await live.hset('rm:user:t:1', { status: 'DEPROVISIONED' });
      // Another process (its own store) switches: this reader sees the new one at its next read.
      const other = new GenerationalStore(base);
      expect(await other.generations.switch(first, second)).toBe(true);
      expect(await store.hget('rm:user:t:1', 'status')).toBe('SUSPENDED');
      // The old generation's projector can no longer write anything.
      const refused = live.write([{ op: 'set', key: 'rm:late', value: 'x' }]);
      await expect(refused).rejects.toBeInstanceOf(GenerationReplacedError);
      await expect(refused).rejects.toMatchObject({ generation: first, current: second });
      await expect(live.writeAtPosition('pos:topic:0', 8n, [])).rejects.toBeInstanceOf(
        GenerationReplacedError,
      );
      expect(await store.generations.switch(first, 'other')).toBe(false);
      expect(await store.generations.list()).toEqual([first, second].sort());
      await store.generations.drop(first);
      expect(await store.generations.list()).toEqual([second]);
      expect(await store.hget('rm:user:t:1', 'status')).toBe('SUSPENDED');
    });

    it('never reads an emptied store as valid, and no projector of the lost generation refills it', async () => {
      const { store, base } = await open();
      const generation = store.generations.newId();
      const live = store.generations.view(generation, 'live');
      await store.generations.view(generation, 'building').set('pos:caught-up-at', '1');
      await store.generations.switch(null, generation);
      await live.write([{ op: 'set', key: 'rm:revoked', value: 'yes' }]);
      expect(await store.get('pos:caught-up-at')).toBe('1');
      // Redis restarted empty (or flushed): every key is gone, the pointer too.
      await base.deleteByPrefix('');
      await expect(store.get('pos:caught-up-at')).rejects.toBeInstanceOf(NoGenerationError);
      await expect(live.writeAtPosition('pos:t:0', 1n, [])).rejects.toBeInstanceOf(
        GenerationReplacedError,
      );
      await expect(live.set('pos:caught-up-at', '2')).rejects.toBeInstanceOf(
        GenerationReplacedError,
      );
      expect(await base.dump('')).toEqual([]);
    });

    it('lists, dumps and deletes the current generation and the shared keys, by their own names', async () => {
      const { store } = await open();
      const generation = store.generations.newId();
      await store.generations.view(generation, 'building').write([
        { op: 'set', key: 'rm:a', value: '1' },
        { op: 'sadd', key: 'rm:b', members: ['x'] },
        { op: 'set', key: 'pos:t:0', value: '3' },
      ]);
      await store.set('fs:s', 'shared');
      await store.generations.switch(null, generation);
      expect((await store.dump('')).map((entry) => entry.key)).toEqual([
        'fs:s',
        'pos:t:0',
        'rm:a',
        'rm:b',
      ]);
      expect(await store.dump('rm:')).toEqual([
        { key: 'rm:a', type: 'string', value: '1', expires: false },
        { key: 'rm:b', type: 'set', value: ['x'], expires: false },
      ]);
      const keys: string[] = [];
      for await (const batch of store.scan('')) keys.push(...batch);
      expect(keys.sort()).toEqual(['fs:s', 'pos:t:0', 'rm:a', 'rm:b']);
      expect(await store.deleteByPrefix('rm:')).toBe(2);
      expect(await store.mget(['rm:a', 'pos:t:0', 'fs:s'])).toEqual([null, '3', 'shared']);
      expect(await store.get(generationPointerKey)).toBe(generation);
    });
  });
}
