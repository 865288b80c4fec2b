export {
  MemoryProjectionStore,
  type MemoryProjectionStoreOptions,
} from './memory-projection-store.js';
export {
  type DumpedKey,
  type ProjectionStore,
  ProjectionStoreUnavailableError,
  type ReadQuery,
  type ReadResult,
  type TtlOption,
  versionKey,
  type WriteOp,
  WrongTypeError,
} from './port.js';
export {
  RedisProjectionStore,
  type RedisProjectionStoreOptions,
} from './redis-projection-store.js';
