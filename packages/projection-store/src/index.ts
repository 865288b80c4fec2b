export {
  GenerationalStore,
  GenerationReplacedError,
  type Generations,
  generationPointerKey,
  isGenerational,
  NoGenerationError,
} from './generations.js';
export {
  MemoryProjectionStore,
  type MemoryProjectionStoreOptions,
} from './memory-projection-store.js';
export {
  compareMembers,
  type DumpedKey,
  type Guard,
  GuardFailedError,
  type IndexBound,
  indexEntry,
  indexMember,
  indexValuesKey,
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
  type RedisConnection,
  readRedisConnection,
  redisUrlForLogs,
} from './redis-connection.js';
export {
  RedisProjectionStore,
  type RedisProjectionStoreOptions,
} from './redis-projection-store.js';
