import { MemoryProjectionStore } from './memory-projection-store.js';
import { describeProjectionStoreConformance } from './testing/conformance.js';
import { describeGenerations } from './testing/generations-suite.js';

describeProjectionStoreConformance({
  name: 'in-memory',
  open: async () => new MemoryProjectionStore(),
});

describeGenerations({ name: 'in-memory', open: async () => new MemoryProjectionStore() });
