// The projector's loop: one consumer group over the projections' topics. Each event's writes and the
// new position of its partition go to the store in one MULTI/EXEC, and an event at or below the
// stored position is skipped, so redelivery (at-least-once) never applies an event twice.
import type { DeliveredEvent, EventBus, Subscription } from '@gatehouse/event-bus';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type Projection, positionKey } from './projection.js';

export interface ProjectionRunnerOptions {
  bus: EventBus;
  store: ProjectionStore;
  projections: readonly Projection[];
  /** Consumer group of the projector; every replica shares it. Default `gatehouse.projector`. */
  groupId?: string;
  /** Told about every failed event before it is retried. */
  onError?: (error: unknown, event: DeliveredEvent) => void;
}

export class ProjectionRunner {
  private constructor(private readonly subscription: Subscription) {}

  static async start(options: ProjectionRunnerOptions): Promise<ProjectionRunner> {
    const { store, projections } = options;
    const topics = [...new Set(projections.flatMap((p) => p.topics))];
    const byTopic = new Map(
      topics.map((topic) => [topic, projections.filter((p) => p.topics.includes(topic))]),
    );
    // Positions this process has written or read; another replica may have moved a partition on
    // since, which at worst makes this one apply an event again, harmlessly.
    const applied = new Map<string, bigint>();
    const subscription = await options.bus.subscribe({
      groupId: options.groupId ?? 'gatehouse.projector',
      topics,
      start: 'earliest',
      onError: options.onError,
      handler: async (event) => {
        const key = positionKey(event.topic, event.partition);
        let position = applied.get(key);
        if (position === undefined) {
          const stored = await store.get(key);
          position = stored === null ? -1n : BigInt(stored);
        }
        if (event.offset <= position) return;
        const writes = byTopic.get(event.topic)!.flatMap((p) => p.project(event.envelope));
        await store.write([...writes, { op: 'set', key, value: event.offset.toString() }]);
        applied.set(key, event.offset);
      },
    });
    return new ProjectionRunner(subscription);
  }

  async stop(): Promise<void> {
    await this.subscription.close();
  }
}
