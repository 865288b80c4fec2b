// Drops the projections' read models (and the write models' streams) and builds them again from
// offset 0 of their topics. The write models' ledger decides every command again in log order, from
// memory, so it reaches the same outcomes; writes go out in large batches, with the same result as
// applying the events one by one. On a store with generations, it builds a new generation beside
// the live one and switches to it (buildGeneration), safe while projectors run; on one without, run
// it with the projector stopped.
import type { EventBus } from '@gatehouse/event-bus';
import type { ProjectionStore, WriteOp } from '@gatehouse/projection-store';
import { buildGeneration } from './generations.js';
import { type Projection, positionKey, topicPositionPrefix, writeModelsOf } from './projection.js';
import { generationsOf, type ProjectionRunnerOptions, writesOfEvent } from './runner.js';
import { memoryLedgerSource, StreamLedger } from './write-models.js';

export interface RebuildResult {
  events: number;
  writes: number;
  ms: number;
}

export async function rebuildProjections(options: {
  bus: EventBus;
  store: ProjectionStore;
  projections: readonly Projection[];
  /** Writes per batch. Default 2000. */
  batchSize?: number;
  /** The store holds nothing of these read models yet (a new generation): nothing to drop. */
  fresh?: boolean;
  /** With generations: what the new generation's projector republishes (see ProjectionRunnerOptions). */
  republish?: ProjectionRunnerOptions['republish'];
  /** With generations: the version the new generation is of (see ProjectionRunnerOptions). */
  readModelVersion?: number;
}): Promise<RebuildResult> {
  const { bus, store, projections } = options;
  const generations = generationsOf(store);
  if (generations && !options.fresh) {
    const built = await buildGeneration(
      {
        bus,
        store,
        projections,
        republish: options.republish,
        ...(options.readModelVersion === undefined
          ? {}
          : { readModelVersion: options.readModelVersion }),
      },
      generations,
    );
    if (!built) throw new Error('another projector is building a generation; try again later');
    return { events: built.events, writes: built.writes, ms: built.ms };
  }
  const batchSize = options.batchSize ?? 2000;
  const started = performance.now();
  const models = writeModelsOf(projections);
  // Outcomes are for writers waiting on a live projector; a rebuild has none (see commandOutcomeKey).
  const ledger = new StreamLedger(models, memoryLedgerSource(), false);
  if (!options.fresh)
    for (const prefix of new Set([
      ...projections.flatMap((p) => p.keyPrefixes),
      ...(models.length > 0 ? ['rm:stream:'] : []),
    ]))
      await store.deleteByPrefix(prefix);
  const topics = [...new Set([...projections, ...models].flatMap((p) => p.topics))];
  let events = 0;
  let writes = 0;
  let pending: WriteOp[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    writes += pending.length;
    await store.write(pending);
    pending = [];
  };
  for (const topic of topics) {
    const readers = projections.filter((p) => p.topics.includes(topic));
    if (!options.fresh) await store.deleteByPrefix(topicPositionPrefix(topic));
    const last = new Map<number, bigint>();
    await bus.replay(topic, async (event) => {
      events += 1;
      pending.push(...(await writesOfEvent(event, readers, ledger)).writes);
      last.set(event.partition, event.offset);
      if (pending.length >= batchSize) await flush();
    });
    for (const [partition, offset] of last)
      pending.push({ op: 'set', key: positionKey(topic, partition), value: offset.toString() });
    await flush();
  }
  return { events, writes, ms: performance.now() - started };
}
