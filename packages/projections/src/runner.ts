// The projector's loop: one consumer group over the projections' topics. Each event's writes and the
// new position of its partition go to the store in one MULTI/EXEC, and an event at or below the
// stored position is skipped, so redelivery (at-least-once) never applies an event twice.
import type { DeliveredEvent, EventBus, Subscription } from '@gatehouse/event-bus';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { caughtUpAtKey, type Projection, positionKey } from './projection.js';

export interface ProjectionRunnerOptions {
  bus: EventBus;
  store: ProjectionStore;
  projections: readonly Projection[];
  /** Consumer group of the projector; every replica shares it. Default `gatehouse.projector`. */
  groupId?: string;
  /** Told about every failed event before it is retried. */
  onError?: (error: unknown, event: DeliveredEvent) => void;
  /** How often the caught-up beacon (caughtUpAtKey) is brought forward. Default 100 ms. */
  beaconIntervalMs?: number;
  now?: () => number;
  /**
   * Fault injection for tests: awaited before each event is applied, so a test can hold the projector
   * back (a slow or stalled projector) at a chosen event.
   */
  beforeApply?: (event: DeliveredEvent) => Promise<void>;
}

export class ProjectionRunner {
  private constructor(
    private readonly subscription: Subscription,
    private readonly beacon: { stop(): Promise<void> },
  ) {}

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
        await options.beforeApply?.(event);
        const writes = byTopic.get(event.topic)!.flatMap((p) => p.project(event.envelope));
        await store.write([...writes, { op: 'set', key, value: event.offset.toString() }]);
        applied.set(key, event.offset);
      },
    });
    const beacon = startBeacon(options, topics);
    return new ProjectionRunner(subscription, beacon);
  }

  async stop(): Promise<void> {
    await this.beacon.stop();
    await this.subscription.close();
  }
}

/**
 * Brings caughtUpAtKey forward: it samples the end of every partition at a moment T, and once the
 * stored positions reach those ends, writes T. So the key's value is always a time before which
 * everything is applied; when the projector stops or falls behind, it stops moving. Every replica
 * may write it: the positions it compares are the shared ones in the store.
 */
function startBeacon(
  options: ProjectionRunnerOptions,
  topics: readonly string[],
): { stop(): Promise<void> } {
  const { bus, store } = options;
  const now = options.now ?? Date.now;
  const interval = options.beaconIntervalMs ?? 100;
  let sample: { at: number; ends: { key: string; offset: bigint }[] } | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const takeSample = async () => {
    const at = now();
    const ends: { key: string; offset: bigint }[] = [];
    for (const topic of topics)
      for (const [partition, end] of await bus.endOffsets(topic))
        if (end > 0n) ends.push({ key: positionKey(topic, partition), offset: end - 1n });
    return { at, ends };
  };
  // A tick takes a sample when it has none, and writes it once the positions reach it: when the
  // projector keeps up, in the same tick, so the beacon is about one interval old at most.
  const tick = async () => {
    sample ??= await takeSample();
    const stored = await store.mget(sample.ends.map((end) => end.key));
    const reached = sample.ends.every(
      (end, i) => stored[i] !== null && stored[i] !== undefined && BigInt(stored[i]!) >= end.offset,
    );
    if (!reached) return;
    await store.set(caughtUpAtKey, String(sample.at));
    sample = undefined;
  };
  let busy = false;
  const timer = setInterval(() => {
    // One tick at a time: under load a tick outlasts the interval, and the next one waits its turn
    // rather than queue up behind it.
    if (busy || stopped) return;
    busy = true;
    running = tick()
      .catch(() => {
        // Kafka or Redis away for a moment: the beacon stands still, and checks fail closed.
      })
      .finally(() => {
        busy = false;
      });
  }, interval);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
