// A process's local copy of read-model entries it reads on every request (a client, a server's
// configuration), kept correct by following the events that change them: an event for an entry drops
// it, and the next read loads it again once the read model has applied that event. So a hot path reads
// memory, and a change is seen as soon as its event reaches this process.
import {
  type DeliveredEvent,
  type EventBus,
  type EventPosition,
  followerGroupId,
  type Subscription,
} from '@gatehouse/event-bus';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { waitForProjections } from './read-your-writes.js';

interface Entry<V> {
  /** The latest event seen per partition for this entry since it was last loaded. */
  after: EventPosition[];
  value?: Promise<V>;
}

/** How much a FollowedCache holds. */
export interface FollowedCacheBounds<V> {
  /**
   * Entries held at most (read, or only seen in an event); past it the least recently used goes.
   * Default 10,000: a few MiB (an entry is a key, a promise and a small object, plus its value).
   */
  maxEntries?: number;
  /**
   * Of those, entries whose value is a miss (nothing under that key in the read model: a made-up
   * or deleted id); past it the least recently used miss goes. Requests can name any id, so misses
   * have a bound of their own and a flood of them never pushes out entries in use. Default 1,000.
   */
  maxMisses?: number;
  /** Which values are misses. Default: undefined and null. */
  isMiss?: (value: V) => boolean;
}

export class FollowedCache<V> {
  /** In use order: the least recently used first. */
  private readonly entries = new Map<string, Entry<V>>();
  /** The keys of entries loaded as misses, in use order too. */
  private readonly misses = new Set<string>();
  private readonly maxEntries: number;
  private readonly maxMisses: number;
  private readonly isMiss: (value: V) => boolean;

  /**
   * `load` reads an entry, including at least the events at `after` (see `afterApplied` for a read
   * model in a store).
   */
  constructor(
    private readonly load: (key: string, after: readonly EventPosition[]) => Promise<V>,
    bounds: FollowedCacheBounds<V> = {},
  ) {
    this.maxEntries = bounds.maxEntries ?? 10_000;
    this.maxMisses = bounds.maxMisses ?? 1_000;
    this.isMiss = bounds.isMiss ?? ((value) => value === undefined || value === null);
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): Promise<V> {
    let entry = this.entries.get(key);
    if (entry) {
      // Used now: to the end of the order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      if (this.misses.delete(key)) this.misses.add(key);
    } else {
      entry = { after: [] };
      this.entries.set(key, entry);
      this.evictOverflow();
    }
    if (!entry.value) {
      const current = entry;
      current.value = this.load(key, current.after).then(
        (value) => {
          if (this.entries.get(key) === current && this.isMiss(value)) this.addMiss(key);
          return value;
        },
        (error: unknown) => {
          // Not kept: the next read tries again.
          if (this.entries.get(key) === current) current.value = undefined;
          throw error;
        },
      );
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
    this.misses.delete(key);
    this.entries.set(key, { after });
    this.evictOverflow();
  }

  private addMiss(key: string): void {
    this.misses.add(key);
    // A miss's load has completed, so its events are applied: dropping it loses nothing.
    while (this.misses.size > this.maxMisses) {
      const oldest = this.misses.values().next().value!;
      this.misses.delete(oldest);
      this.entries.delete(oldest);
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.misses.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
    this.misses.clear();
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
 * Follows `topics` from now on, in an ephemeral consumer group of this process's own (every process
 * needs every event; see followerGroupId for its stable name), handing each event to `onEvent`.
 * Resolves once the subscription is in place.
 */
export function followTopics(
  bus: EventBus,
  topics: readonly string[],
  name: string,
  onEvent: (event: DeliveredEvent) => void,
): Promise<Subscription> {
  return bus.subscribe({
    groupId: followerGroupId(name),
    topics,
    start: 'latest',
    ephemeral: true,
    handler: async (event) => onEvent(event),
  });
}
