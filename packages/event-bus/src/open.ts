// Opens the event bus a deployment is configured for.
import { EmbeddedEventBus, type EmbeddedEventBusOptions } from './embedded/embedded-event-bus.js';
import { KafkaEventBus, type KafkaEventBusOptions } from './kafka/kafka-event-bus.js';
import {
  type EventBus,
  TopicReplicationError,
  TopicRetentionError,
  type TopicSpec,
} from './port.js';

export type EventBusConfig =
  | ({ kind: 'kafka' } & KafkaEventBusOptions)
  | ({ kind: 'embedded' } & EmbeddedEventBusOptions);

export async function openEventBus(config: EventBusConfig): Promise<EventBus> {
  switch (config.kind) {
    case 'kafka':
      return new KafkaEventBus(config);
    case 'embedded':
      return EmbeddedEventBus.open(config);
  }
}

/**
 * `ensureTopics` at a service's start: a topic that would lose events (SPEC section 1), or that is
 * replicated less than configured (SPEC section 9), stops the service with the reason and the fix, as a configuration error (exit code 78, EX_CONFIG), rather
 * than let it run on a log that a rebuild could not trust.
 */
export async function ensureTopicsAtStart(
  bus: EventBus,
  topics: readonly TopicSpec[],
  service: string,
): Promise<void> {
  try {
    await bus.ensureTopics(topics);
  } catch (error) {
    if (!(error instanceof TopicRetentionError || error instanceof TopicReplicationError))
      throw error;
    process.stderr.write(`${service}: refusing to start: ${error.message}\n`);
    process.exit(78);
  }
}
