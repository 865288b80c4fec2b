// The embedded bus with the in-memory store: the all-in-one composition the API suites also run on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventBus } from '@gatehouse/event-bus';
import { MemoryProjectionStore } from '@gatehouse/projection-store';
import type { AdminHarness } from './admin-harness.js';

export const embeddedStack: AdminHarness = {
  name: 'embedded bus + in-memory store',
  open: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-'));
    const bus = await EmbeddedEventBus.open({ dir });
    const store = new MemoryProjectionStore();
    return {
      bus,
      store,
      close: async () => {
        await bus.close();
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};
