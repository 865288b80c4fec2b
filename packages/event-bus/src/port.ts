// The event bus port. Events are the source of truth (SPEC sections 1 and 7): a publish resolves
// only once the log has durably acknowledged the events, and consumers are at-least-once.
import type { Envelope } from '@gatehouse/contracts';

export interface TopicSpec {
  name: string;
  /** Partitions of a topic created by `ensureTopics`; the adapter's default when absent. */
  partitions?: number;
  /**
   * How long the topic must keep its events, in ms; absent: for ever (SPEC section 1: the log is
   * the source of truth, and a rebuild reads it from offset 0). `ensureTopics` creates topics so,
   * and refuses existing ones that would delete events sooner or compact them.
   */
  retentionMs?: number;
}

/** Where an event sits in its topic. Offsets are per partition and only grow. */
export interface EventPosition {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface DeliveredEvent extends EventPosition {
  envelope: Envelope;
  /** The publisher's trace context (W3C traceparent, tracestate), when both ends trace. */
  traceHeaders?: Readonly<Record<string, string>> | undefined;
}

export type EventHandler = (event: DeliveredEvent) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: each event reaches one member of each group; offsets are kept per group. */
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. Default `earliest`. */
  start?: 'earliest' | 'latest';
  /**
   * Handles one event. Events of one partition (hence of one key) arrive one at a time, in
   * order. An event's offset is committed only after its handler resolved; when the handler
   * throws, the event is delivered again.
   */
  handler: EventHandler;
  /** Told about every handler failure before the event is retried. */
  onError?: (error: unknown, event: DeliveredEvent) => void;
  /**
   * The group is this subscription's alone, for a process that follows every event from now on
   * (its caches): it starts at the end of every partition as of the call, whatever the group
   * committed in an earlier life; nothing of it is kept after `close` (Kafka: the group is deleted,
   * so restarts leak no groups); and a member that finds another process in its group (it is not
   * given every partition) reports it, through the bus's probe, rather than miss half the events.
   */
  ephemeral?: boolean;
  /**
   * Told the partitions this member was handed, at every assignment (the first and each
   * rebalance), before their events are delivered, with `seek` to move a partition it holds: its
   * events are then delivered again from that offset (an event already being handled still
   * finishes). How a consumer whose own record of where it is (a projector's stored positions) fell
   * behind the group's committed offsets reads again what it lost. Adapters with one partition and
   * no such loss may never call it.
   */
  onAssigned?: (
    partitions: readonly { topic: string; partition: number }[],
    seek: (position: EventPosition) => void,
  ) => void;
}

export interface Subscription {
  /** Stops delivering, commits what was handled, and leaves the group. */
  close(): Promise<void>;
}

export interface ReplayResult {
  /** Events handed to the handler. */
  events: number;
}

export interface EventBus {
  /**
   * Creates the topics that do not exist yet, and checks that every one keeps its events as long
   * as its spec says: TopicRetentionError otherwise (nothing is altered behind an operator's back).
   */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /**
   * Appends events to a topic, partitioned by their key (`partitionKeyOf` of @gatehouse/events: the
   * tenant, or the grant for grant and revocation events), and resolves with their
   * positions once they are durably acknowledged (Kafka: acks=all on an idempotent producer;
   * embedded: written and fsynced). Rejects with `EventBusUnavailableError` when the log cannot
   * acknowledge in time; its `mayHaveBeenAppended` says whether the events may be in the log anyway.
   * A publish that failed is never tried again behind its caller's back. Rejects at once, appending
   * nothing, with `EventTooLargeError` when its events are more than one write to the log may carry.
   * Concurrent publishes may share a write (group commit); a write that fails fails only the
   * publishes in it, and none of them is told its events were acknowledged.
   */
  publish(topic: string, envelopes: readonly Envelope[]): Promise<EventPosition[]>;
  /** Joins a consumer group; resolves once the member is consuming. */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Reads a topic from offset 0 up to its end as of the call, without a consumer group and
   * without committing anything; partitions one at a time or interleaved, each in order.
   */
  replay(topic: string, handler: EventHandler): Promise<ReplayResult>;
  /** Per partition, the offset the next appended event will get. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

/** The log did not acknowledge in time, or is closed. Retryable; maps to 503 at HTTP edges. */
export class EventBusUnavailableError extends Error {
  override readonly name = 'EventBusUnavailableError';
  /**
   * Whether the events may still be in the log (a request carrying them may have reached it).
   * False: nothing was appended, and nothing will be, so "nothing changed" is a true answer.
   */
  readonly mayHaveBeenAppended: boolean;

  constructor(message: string, options: { mayHaveBeenAppended?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.mayHaveBeenAppended = options.mayHaveBeenAppended ?? true;
  }
}

/** A topic would lose events a rebuild needs: it deletes them too soon, or compacts them. */
export class TopicRetentionError extends Error {
  override readonly name = 'TopicRetentionError';
  constructor(
    readonly topic: string,
    readonly problem: string,
  ) {
    super(
      `topic ${topic} ${problem}: a rebuild from offset 0 would lose events. Keep its events for ever (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config retention.ms=-1,retention.bytes=-1,cleanup.policy=delete), or, for gatehouse.grants, at least as long as GATEHOUSE_GRANTS_RETENTION_DAYS says`,
    );
  }
}

/**
 * A cluster or topic that keeps fewer copies of each event than the deployment requires (SPEC
 * section 9: replication factor 3, min.insync.replicas 2): losing one broker could lose events
 * already acknowledged, or stop publishing. `ensureTopics` never alters an existing topic's
 * replication; the operator does, as the message says.
 */
export class TopicReplicationError extends Error {
  override readonly name = 'TopicReplicationError';
  constructor(
    /** The topic, or undefined when the cluster itself is too small. */
    readonly topic: string | undefined,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${topic === undefined ? 'the cluster' : `topic ${topic}`} ${problem}. ${fix}`);
  }
}

/**
 * The most one publish may carry, in bytes of its encoded events, unless an adapter is told
 * otherwise: below Kafka's default limit on one partition's batch in one request (message.max.bytes,
 * 1,048,588 bytes), with room for record and batch framing.
 */
export const defaultMaxPublishBytes = 1_000_000;

/**
 * A publish larger than the log takes in one write (`defaultMaxPublishBytes` unless configured).
 * Refused before anything is sent, so nothing of it is appended, and sending it again will not
 * help: not an EventBusUnavailableError.
 */
export class EventTooLargeError extends RangeError {
  override readonly name = 'EventTooLargeError';
  readonly mayHaveBeenAppended = false;
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `publish to ${topic} refused: its events take ${bytes} bytes, more than the ${maxBytes} bytes one write to the log may carry; nothing was appended`,
    );
  }
}

/** A topic that `ensureTopics` never created. */
export class UnknownTopicError extends Error {
  override readonly name = 'UnknownTopicError';
  constructor(readonly topic: string) {
    super(`unknown topic ${topic}`);
  }
}
