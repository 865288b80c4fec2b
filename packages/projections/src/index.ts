export { afterApplied, FollowedCache, followTopics } from './followed-cache.js';
export {
  caughtUpAtKey,
  type Projection,
  positionKey,
  positionPrefix,
  topicPositionPrefix,
} from './projection.js';
export {
  ProjectionsBehindError,
  readModelsLagMs,
  waitForProjections,
} from './read-your-writes.js';
export { type RebuildResult, rebuildProjections } from './rebuild.js';
export { ProjectionRunner, type ProjectionRunnerOptions } from './runner.js';
