// Optimistic concurrency decided in log order (SPEC section 1). The write side decides a command on
// the states of the streams it reads (an aggregate, a unique name) and appends its events with the
// version of each; the projector admits the command only when every one of those streams is still at
// that version when its first event comes up in the log, and otherwise refuses all of its events. The
// streams' states are kept by the same projector, evolved from the admitted events by the domain's
// evolve functions: what the write side reads is what the log says, in log order. A replay meets the
// events in the same order and reaches the same outcome for every command.
import type { Envelope } from '@gatehouse/contracts';
import type { DeliveredEvent } from '@gatehouse/event-bus';
import type { WriteOp } from '@gatehouse/projection-store';
import { positionKey } from './projection.js';

/** How one event changes one stream's state: pure, from the state before (undefined: none yet). */
export interface StreamChange {
  stream: string;
  evolve(state: unknown): unknown;
}

/** The write side's state of some topics: which streams each event changes, and how. */
export interface WriteModel {
  name: string;
  topics: readonly string[];
  /** Whether this model reads `envelope` from `topic`; all of them when absent. */
  accepts?(topic: string, envelope: Envelope): boolean;
  /** The streams (of the event's tenant) the event changes; pure. */
  changes(envelope: Envelope): readonly StreamChange[];
}

/** A stream's state as the write side reads it: how many events changed it, and what they made. */
export interface StreamSnapshot {
  version: number;
  state: unknown;
}

/** A stream's snapshot, JSON `{"v": version, "s": state}`. Under rm:, rebuilt with the read models. */
export const streamKey = (tenant: string, stream: string) => `rm:stream:${tenant}:${stream}`;

export type CommandOutcome = 'applied' | 'refused';

/**
 * A command attempt's outcome, for the writer waiting on it: written by the projector that decides
 * it, kept for a while by the projector's own clock (the writer's may differ), and never by a
 * rebuild, which has no writer waiting. Transient, like flow state: not part of what a replay
 * must reproduce; shared by every generation of the read models (the same log order gives every
 * generation's projector the same verdict).
 */
export const commandOutcomeKey = (tenant: string, commandId: string) =>
  `fs:command:${tenant}:${commandId}`;

/** Whether a key is a command outcome, which a rebuild does not reproduce (see above). */
export const isCommandOutcomeKey = (key: string) => key.startsWith('fs:command:');

/** How long an outcome is kept: far longer than a writer waits for it. */
export const commandOutcomeTtlMs = 10 * 60_000;

/**
 * The last command admitted or refused in a partition, JSON `{"id", "outcome"}`: a command's events
 * are contiguous in one partition, so its later events follow its first one's outcome, even when
 * another projector replica takes the partition over half way through.
 */
export const lastCommandKey = (topic: string, partition: number) =>
  `${positionKey(topic, partition)}:command`;

export function decodeSnapshot(raw: string | null | undefined): StreamSnapshot {
  if (!raw) return { version: 0, state: undefined };
  const { v, s } = JSON.parse(raw) as { v: number; s: unknown };
  return { version: v, state: s };
}

export const encodeSnapshot = (snapshot: StreamSnapshot) =>
  JSON.stringify({ v: snapshot.version, s: snapshot.state });

/** Where the ledger reads the snapshots and markers it decides on. */
export interface LedgerSource {
  /** Values of string keys, null where absent. */
  get(keys: readonly string[]): Promise<(string | null)[]>;
  /** Told about the writes of each event the ledger decided, before the next one is decided. */
  record?(writes: readonly WriteOp[]): void;
}

export interface Admission {
  /** Whether the event's projections apply. */
  applied: boolean;
  /** What records the decision: the changed streams' snapshots, the command's outcome. */
  writes: WriteOp[];
}

/**
 * Admits events of the write models' topics, one at a time in each partition's order. Stateless but
 * for its source: the projector reads the store, a rebuild its own memory.
 */
export class StreamLedger {
  private readonly byTopic = new Map<string, WriteModel[]>();

  constructor(
    models: readonly WriteModel[],
    private readonly source: LedgerSource,
    /** Whether to write each command's outcome for its writer (a live projector does). */
    private readonly recordOutcomes = true,
  ) {
    for (const model of models)
      for (const topic of model.topics)
        this.byTopic.set(topic, [...(this.byTopic.get(topic) ?? []), model]);
  }

  /** Whether any write model reads `topic`. */
  covers(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  async admit(event: DeliveredEvent): Promise<Admission> {
    const { envelope, topic, partition } = event;
    const models = (this.byTopic.get(topic) ?? []).filter(
      (model) => model.accepts?.(topic, envelope) ?? true,
    );
    // Not for these models (a copy on a derived topic): neither decided nor recorded here.
    if (models.length === 0) return { applied: true, writes: [] };
    const changes = models.flatMap((model) => model.changes(envelope));
    const commandId = envelope.commandId;
    const expected = envelope.expectedVersions;
    const streams = [
      ...new Set([...expected.map((e) => e.stream), ...changes.map((c) => c.stream)]),
    ];
    if (!commandId && changes.length === 0) return { applied: true, writes: [] };
    const marker = commandId ? lastCommandKey(topic, partition) : undefined;
    const values = await this.source.get([
      ...(marker ? [marker] : []),
      ...streams.map((stream) => streamKey(envelope.tenant, stream)),
    ]);
    const last =
      marker && values[0]
        ? (JSON.parse(values[0]) as { id: string; outcome: CommandOutcome | 'duplicate' })
        : undefined;
    const snapshots = new Map(
      streams.map((stream, i) => [stream, decodeSnapshot(values[i + (marker ? 1 : 0)])]),
    );
    const writes: WriteOp[] = [];
    let applied = true;
    if (commandId) {
      // A command's first event is the one with its expectations (every command has some).
      const first = expected.length > 0 || last?.id !== commandId;
      if (first && last?.id === commandId) {
        // The same command again, right after itself: a producer sent its events a second time
        // after a failure it could not tell from a loss. Already decided: this copy is ignored,
        // its later events with it, and the outcome its writer reads stays the first one's.
        applied = false;
        writes.push({
          op: 'set',
          key: marker!,
          value: JSON.stringify({ id: commandId, outcome: 'duplicate' }),
        });
      } else if (first) {
        applied = expected.every(
          ({ stream, version }) => snapshots.get(stream)!.version === Number(version),
        );
        const outcome: CommandOutcome = applied ? 'applied' : 'refused';
        writes.push({ op: 'set', key: marker!, value: JSON.stringify({ id: commandId, outcome }) });
        if (this.recordOutcomes)
          writes.push({
            op: 'set',
            key: commandOutcomeKey(envelope.tenant, commandId),
            value: outcome,
            ttlMs: commandOutcomeTtlMs,
          });
      } else {
        applied = last!.outcome === 'applied';
      }
    }
    if (applied) {
      for (const change of changes) {
        const before = snapshots.get(change.stream)!;
        const after = { version: before.version + 1, state: change.evolve(before.state) };
        snapshots.set(change.stream, after);
      }
      for (const stream of new Set(changes.map((c) => c.stream)))
        writes.push({
          op: 'set',
          key: streamKey(envelope.tenant, stream),
          value: encodeSnapshot(snapshots.get(stream)!),
        });
    }
    this.source.record?.(writes);
    return { applied, writes };
  }
}

/** A ledger source over a store: what the projector decides on. */
export const storeLedgerSource = (store: {
  mget(keys: readonly string[]): Promise<(string | null)[]>;
}): LedgerSource => ({ get: (keys) => store.mget(keys) });

/**
 * A ledger source in memory, for a rebuild: it starts from nothing and sees every write it decides,
 * so it needs no reads; the store gets the same writes in batches.
 */
export function memoryLedgerSource(): LedgerSource {
  const values = new Map<string, string>();
  return {
    get: async (keys) => keys.map((key) => values.get(key) ?? null),
    record: (writes) => {
      for (const write of writes) if (write.op === 'set') values.set(write.key, write.value);
    },
  };
}
