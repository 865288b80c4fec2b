import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDirectoryEvent, keys } from '@gatehouse/directory';
import { EmbeddedEventBus } from '@gatehouse/event-bus';
import { allTopics, newEnvelope, Topics } from '@gatehouse/events';
import { MemoryProjectionStore } from '@gatehouse/projection-store';
import { waitForProjections } from '@gatehouse/projections';
import { describe, expect, it } from 'vitest';
import { createProjector } from './app.js';

describe('projector', () => {
  it('maintains the directory read models, refuses to rebuild while running, and rebuilds when stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-projector-'));
    const bus = await EmbeddedEventBus.open({ dir });
    const store = new MemoryProjectionStore();
    try {
      await bus.ensureTopics(allTopics.map((name) => ({ name })));
      const projector = createProjector({ bus, store });
      await projector.start();
      const event = {
        type: 'gatehouse.events.v1.TenantCreated',
        data: {
          name: 'Acme',
          apiTokenSha256: 'c'.repeat(64),
          everyoneGroupId: '00g0000000000000000e',
        },
      } as const;
      const positions = await bus.publish(Topics.directory, [
        newEnvelope({
          type: event.type,
          tenant: 'acme',
          aggregateId: 'acme',
          data: encodeDirectoryEvent(event),
        }),
      ]);
      await waitForProjections(store, positions, { timeoutMs: 5000 });
      expect(await store.hget(keys.tenant('acme'), 'name')).toBe('Acme');
      await expect(projector.rebuild()).rejects.toThrow('stop the projector before rebuilding');
      await projector.stop();
      const before = await store.dump('');
      await store.deleteByPrefix('');
      expect((await projector.rebuild()).events).toBe(1);
      expect(await store.dump('')).toEqual(before);
    } finally {
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
