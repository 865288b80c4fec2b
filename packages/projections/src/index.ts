export {
  CommandConflictError,
  type CommandEvent,
  CommandHandler,
  type CommandHandlerOptions,
  CommandNotAppendedError,
  CommandOutcomeUnknownError,
  CommandReads,
  type CommandStats,
  type Decision,
} from './commands.js';
export {
  afterApplied,
  FollowedCache,
  type FollowedCacheBounds,
  followTopics,
} from './followed-cache.js';
export {
  type BuildResult,
  buildGeneration,
  buildLockKey,
  readModelVersionKey,
} from './generations.js';
export {
  caughtUpAtKey,
  type Projection,
  positionKey,
  positionPrefix,
  topicPositionPrefix,
  writeModelsOf,
} from './projection.js';
export {
  ProjectionsBehindError,
  readModelsLagMs,
  waitForProjections,
} from './read-your-writes.js';
export { type RebuildResult, rebuildProjections } from './rebuild.js';
export {
  generationsOf,
  ProjectionRunner,
  type ProjectionRunnerOptions,
  writesOfEvent,
} from './runner.js';
export {
  type Admission,
  type CommandOutcome,
  commandOutcomeKey,
  decodeSnapshot,
  encodeSnapshot,
  isCommandOutcomeKey,
  type LedgerSource,
  lastCommandKey,
  memoryLedgerSource,
  type StreamChange,
  StreamLedger,
  type StreamSnapshot,
  storeLedgerSource,
  streamKey,
  type WriteModel,
} from './write-models.js';
