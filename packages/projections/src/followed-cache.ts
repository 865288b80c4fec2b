// A process's local copy of read-model entries it reads on every request (a client, a server's
// configuration), kept correct by following the events that change them: an event for an entry drops
// it, and the next read loads it again once the read model has applied that event. So a hot path reads
// memory, and a change is seen as soon as its event reaches this process.
import { randomUUID } from 'node:crypto';
import type { DeliveredEvent, EventBus, EventPosition, Subscription } from '@gatehouse/event-bus';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { waitForProjections } from './read-your-writes.js';

interface Entry<V> {
  /** The latest event seen per partition for this entry since it was last loaded. */
  after: EventPosition[];
  value?: Promise<V>;
}

export class FollowedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  /**
   * `load` reads an entry, including at least the events at `after` (see `afterApplied` for a read
   * model in a store); `maxEntries` bounds memory (the oldest entries go first).
   */
  constructor(
    private readonly load: (key: string, after: readonly EventPosition[]) => Promise<V>,
    private readonly options: { maxEntries?: number } = {},
  ) {}

  get(key: string): Promise<V> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { after: [] };
      this.entries.set(key, entry);
      this.evictOverflow();
    }
    if (!entry.value) {
      const current = entry;
      current.value = this.load(key, current.after).catch((error: unknown) => {
        // Not kept: the next read tries again.
        if (this.entries.get(key) === current) current.value = undefined;
        throw error;
      });
    }
    return entry.value!;
  }

  /** An event for `key`: its copy is dropped, and the next read includes the event. */
  saw(key: string, position: EventPosition): void {
    // Recorded even for an entry not held: a read that starts now must still wait for this event.
    const after = (this.entries.get(key)?.after ?? []).filter(
      (seen) => seen.topic !== position.topic || seen.partition !== position.partition,
    );
    after.push({ topic: position.topic, partition: position.partition, offset: position.offset });
    this.entries.delete(key);
    this.entries.set(key, { after });
    this.evictOverflow();
  }

  private evictOverflow(): void {
    const max = this.options.maxEntries ?? 10_000;
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * A loader that reads `read` from a store once its projector has applied the events at `after`
 * (a bounded wait: ProjectionsBehindError past `timeoutMs`, default 2 s).
 */
export function afterApplied<V>(
  store: ProjectionStore,
  read: (key: string) => Promise<V>,
  options: { timeoutMs?: number } = {},
): (key: string, after: readonly EventPosition[]) => Promise<V> {
  return async (key, after) => {
    await waitForProjections(store, after, { timeoutMs: options.timeoutMs ?? 2000 });
    return read(key);
  };
}

/**
 * Follows `topics` from now on, in a consumer group of this process's own (every process needs every
 * event), handing each event to `onEvent`. Resolves once the subscription is in place.
 */
export function followTopics(
  bus: EventBus,
  topics: readonly string[],
  name: string,
  onEvent: (event: DeliveredEvent) => void,
): Promise<Subscription> {
  return bus.subscribe({
    groupId: `${name}.${randomUUID()}`,
    topics,
    start: 'latest',
    handler: async (event) => onEvent(event),
  });
}
