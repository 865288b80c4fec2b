export { followerGroupId, replicaId } from './consumer-identity.js';
export {
  EmbeddedEventBus,
  type EmbeddedEventBusOptions,
  tightenModes,
} from './embedded/embedded-event-bus.js';
export { type KafkaConnection, readKafkaConnection } from './kafka/kafka-connection.js';
export { KafkaEventBus, type KafkaEventBusOptions } from './kafka/kafka-event-bus.js';
export { type EventBusConfig, ensureTopicsAtStart, openEventBus } from './open.js';
export {
  type DeliveredEvent,
  defaultMaxPublishBytes,
  type EventBus,
  EventBusUnavailableError,
  type EventHandler,
  type EventPosition,
  EventTooLargeError,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
  TopicReplicationError,
  TopicRetentionError,
  type TopicSpec,
  UnknownTopicError,
} from './port.js';
