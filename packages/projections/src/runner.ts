// The projector's loop: one consumer group over the projections' topics. Each event is admitted by
// the write models' ledger (a refused command's events change nothing), and its writes go to the
// store with the new position of its partition in one atomic step that holds only when the stored
// position is below the event's: redelivery (at-least-once), a rebalance that hands a partition to
// another replica half way, or several replicas at once never apply an event twice or out of order.
// Positions only grow, so a stored position below one this process wrote means the store lost
// writes (a Redis failover promoting a replica that had not received them, a restart from an older
// file): the partition is read again from the stored position, past the group's committed offset,
// and likewise at every assignment, so that what the store lost is applied again.
import type { Envelope } from '@gatehouse/contracts';
import type { DeliveredEvent, EventBus } from '@gatehouse/event-bus';
import { type GatehouseMetrics, processMetrics } from '@gatehouse/metrics';
import type {
  GenerationalStore,
  Generations,
  ProjectionStore,
  WriteOp,
} from '@gatehouse/projection-store';
import { traceApply } from '@gatehouse/tracing';
import { followGenerations } from './generations.js';
import { caughtUpAtKey, type Projection, positionKey, writeModelsOf } from './projection.js';
import { StreamLedger, storeLedgerSource } from './write-models.js';

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
  /**
   * Events to append again to another topic once admitted (the target topic, or undefined): the
   * public streams derived from a topic, such as gatehouse.client-lifecycle (SPEC section 7). Appended
   * before the event's writes, so at least once.
   */
  republish?: (envelope: Envelope, topic: string) => string | undefined;
  /**
   * With generations: the version of the read models these projections write, raised whenever
   * their shape changes (keys or indexes added, layouts changed). A current generation of an
   * older version is rebuilt beside it at start; one of a newer version is left to its projectors
   * (this one starts and waits). Undefined: versions are not looked at.
   */
  readModelVersion?: number;
  /**
   * Where applied events are counted and their age at applying is set, by topic
   * (gatehouse_projection_events_applied_total, gatehouse_projection_lag_seconds). Default the
   * process's.
   */
  metrics?: GatehouseMetrics;
  /**
   * How often the positions this process wrote are compared with the store's, to find writes the
   * store lost. Default 1000 ms; also done whenever the store says it reconnected.
   */
  healIntervalMs?: number;
}

/**
 * What one event writes: the ledger's record of it, and, when its command is admitted (or it has
 * none), the writes of every projection that reads it. Pure but for the ledger's reads.
 */
export async function writesOfEvent(
  event: DeliveredEvent,
  projections: readonly Projection[],
  ledger: StreamLedger,
): Promise<{ applied: boolean; writes: WriteOp[] }> {
  const { applied, writes } = ledger.covers(event.topic)
    ? await ledger.admit(event)
    : { applied: true, writes: [] as WriteOp[] };
  if (applied)
    for (const projection of projections)
      if (projection.accepts?.(event.topic, event.envelope) ?? true)
        writes.push(...projection.project(event.envelope));
  return { applied, writes };
}

export class ProjectionRunner {
  private constructor(private readonly stopRunning: () => Promise<void>) {}

  /**
   * Starts projecting. On a store with generations (a GenerationalStore), the runner projects into
   * the current generation, follows it when another replica switches it, and builds one when there
   * is none (a store lost or never built); see followGenerations. Resolves once it is projecting.
   */
  static async start(options: ProjectionRunnerOptions): Promise<ProjectionRunner> {
    const generations = generationsOf(options.store);
    if (generations) return new ProjectionRunner(await followGenerations(options, generations));
    const running = await startRunning(options);
    return new ProjectionRunner(() => running.stop());
  }

  async stop(): Promise<void> {
    await this.stopRunning();
  }
}

/** The generations of a store that has them. */
export function generationsOf(store: ProjectionStore): Generations | undefined {
  return (store as Partial<GenerationalStore>).generations;
}

/** One consumer group projecting into one store (or one generation's view of it). */
export async function startRunning(
  options: ProjectionRunnerOptions,
): Promise<{ stop(): Promise<void> }> {
  const { store, projections } = options;
  const models = writeModelsOf(projections);
  const ledger = new StreamLedger(models, storeLedgerSource(store));
  const topics = [...new Set([...projections, ...models].flatMap((p) => p.topics))];
  const byTopic = new Map(
    topics.map((topic) => [topic, projections.filter((p) => p.topics.includes(topic))]),
  );
  // Positions this process has written or read; another replica may have moved a partition on
  // since, which at worst makes this one apply an event again, harmlessly.
  const applied = new Map<string, bigint>();
  const metrics = options.metrics ?? processMetrics();
  const now = options.now ?? Date.now;
  // Events and the checks for lost writes take turns (kafkajs hands one event at a time anyway),
  // so that a check never reads a position while an event is between its read and its write.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const next = turn.then(work, work);
    turn = next.catch(() => {});
    return next;
  };
  const partitionOfKey = new Map<string, [string, number]>();
  const topicPartitionOf = (key: string) => partitionOfKey.get(key)!;
  /** Partitions sought back to an offset: events after it, fetched before the seek, are dropped. */
  const rewinding = new Map<string, bigint>();
  let seek: ((position: { topic: string; partition: number; offset: bigint }) => void) | undefined;
  /**
   * Positions of events that write nothing (a client-credentials TokensIssued: no read model needs
   * it), not yet stored. Such an event costs no store round trip of its own: its partition's
   * position is stored once for a run of them, when this turn of the event loop ends, or by the
   * next event of the partition that writes (its own position is later). Lost to a crash, they
   * are read again and again write nothing.
   */
  const deferred = new Map<string, bigint>();
  let flushScheduled = false;
  /** Stores the deferred positions; only ever in turn (rewinds and lost writes are looked at in turn). */
  const writeDeferred = async () => {
    const entries = [...deferred];
    deferred.clear();
    await Promise.all(
      entries.map(async ([key, offset]) => {
        try {
          if (await store.writeAtPosition(key, offset, [])) applied.set(key, offset);
          // Another replica got further: read its position again before the next event.
          else applied.delete(key);
        } catch (error) {
          // Redis away: kept for the next try, unless an event since has taken the partition on.
          if (!deferred.has(key) && (applied.get(key) ?? -1n) < offset) deferred.set(key, offset);
          throw error;
        }
      }),
    );
  };
  const storeDeferred = () => inTurn(writeDeferred);
  const scheduleStoreDeferred = (delayMs = 0) => {
    if (flushScheduled) return;
    flushScheduled = true;
    const run = () => {
      flushScheduled = false;
      // Until the store answers: the caught-up beacon waits on these positions.
      storeDeferred().catch(() => scheduleStoreDeferred(100));
    };
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs).unref();
  };
  const rewind = (topic: string, partition: number, stored: string | null | undefined) => {
    const key = positionKey(topic, partition);
    const offset = stored === null || stored === undefined ? 0n : BigInt(stored) + 1n;
    applied.delete(key);
    deferred.delete(key);
    rewinding.set(key, offset);
    seek?.({ topic, partition, offset });
  };
  /** Seeks back every partition whose stored position fell below what this process wrote. */
  const heal = () =>
    inTurn(async () => {
      const keys = [...applied.keys()];
      if (keys.length === 0) return;
      const stored = await store.mget(keys);
      keys.forEach((key, i) => {
        const wrote = applied.get(key)!;
        const current = stored[i];
        if (current !== null && current !== undefined && BigInt(current) >= wrote) return;
        const [topic, partition] = topicPartitionOf(key);
        options.onError?.(
          new Error(
            `store lost writes: ${key} at ${current ?? 'nothing'}, was ${wrote}; reading again`,
          ),
          { topic, partition, offset: wrote } as DeliveredEvent,
        );
        rewind(topic, partition, current);
      });
    }).catch(() => {
      // Redis away: the next check looks again.
    });
  const counted = (event: DeliveredEvent) => {
    metrics.projectionEventsApplied.inc({ topic: event.topic });
    const occurredAt = event.envelope.occurredAt?.getTime();
    if (occurredAt !== undefined)
      metrics.projectionLag.set({ topic: event.topic }, Math.max(0, now() - occurredAt) / 1000);
  };
  const applyEvent = async (event: DeliveredEvent): Promise<void> => {
    const key = positionKey(event.topic, event.partition);
    partitionOfKey.set(key, [event.topic, event.partition]);
    const rewoundTo = rewinding.get(key);
    if (rewoundTo !== undefined) {
      if (event.offset > rewoundTo) return; // fetched before the seek back: it comes again
      rewinding.delete(key);
    }
    let position = deferred.get(key) ?? applied.get(key);
    if (position === undefined) {
      const stored = await store.get(key);
      position = stored === null ? -1n : BigInt(stored);
    }
    if (event.offset <= position) return;
    if (options.beforeApply) {
      // A test holding the projector at this event: the positions before it are stored first, as a
      // projector that stalls on an event has stored those of the events before it.
      if (deferred.size > 0) await writeDeferred();
      await options.beforeApply(event);
    }
    const { applied: admitted, writes } = await writesOfEvent(
      event,
      byTopic.get(event.topic)!,
      ledger,
    );
    const target = admitted ? options.republish?.(event.envelope, event.topic) : undefined;
    if (target) await options.bus.publish(target, [event.envelope]);
    if (writes.length === 0 && !target) {
      deferred.set(key, event.offset);
      counted(event);
      scheduleStoreDeferred();
      return;
    }
    deferred.delete(key);
    if (await store.writeAtPosition(key, event.offset, writes)) {
      applied.set(key, event.offset);
      counted(event);
    }
    // Another replica got there first: read its position again before the next event.
    else applied.delete(key);
  };
  const subscription = await options.bus.subscribe({
    groupId: options.groupId ?? 'gatehouse.projector',
    topics,
    start: 'earliest',
    onError: options.onError,
    onAssigned: (partitions, seekTo) => {
      seek = seekTo;
      // Start each partition after the store's position, whatever the group committed: at least
      // once as ever, and what a store lost while no one was looking is read again.
      void inTurn(async () => {
        const keys = partitions.map(({ topic, partition }) => positionKey(topic, partition));
        const stored = await store.mget(keys);
        partitions.forEach(({ topic, partition }, i) => {
          partitionOfKey.set(keys[i]!, [topic, partition]);
          rewind(topic, partition, stored[i]);
        });
      }).catch(() => {
        // Redis away: events wait on it anyway, and the position guard keeps them in order.
      });
    },
    handler: traceApply('projector', (event) => inTurn(() => applyEvent(event))),
  });
  const healTimer = setInterval(heal, options.healIntervalMs ?? 1000);
  healTimer.unref();
  const stopListening = (
    store as { onReconnect?: (listener: () => void) => () => void }
  ).onReconnect?.(() => void heal());

  const beacon = startBeacon(options, topics);
  return {
    stop: async () => {
      clearInterval(healTimer);
      stopListening?.();
      await beacon.stop();
      await subscription.close();
      // What the last events wrote nothing for, so that the next start need not read them again.
      await storeDeferred().catch(() => {});
    },
  };
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
