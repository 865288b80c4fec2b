// Opens the event bus a deployment is configured for.
import { EmbeddedEventBus, type EmbeddedEventBusOptions } from './embedded/embedded-event-bus.js';
import { KafkaEventBus, type KafkaEventBusOptions } from './kafka/kafka-event-bus.js';
import type { EventBus } from './port.js';

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
