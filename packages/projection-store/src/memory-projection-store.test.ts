import { MemoryProjectionStore } from './memory-projection-store.js';
import { describeProjectionStoreConformance } from './testing/conformance.js';

describeProjectionStoreConformance({
  name: 'in-memory',
  open: async () => new MemoryProjectionStore(),
});
