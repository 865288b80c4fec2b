// The Kafka event bus (kafkajs). Producer: idempotent, acks=all, one request in flight, murmur2
// partitioning (the Java client's) by each event's key (`partitionKeyOf`: the tenant, or for grant
// and revocation events the grant), so the events of one key keep their order. Consumers:
// offsets are resolved after the handler returns and committed after each batch (at-least-once);
// fetches return as soon as one byte is there and never wait longer than `maxWaitMs`.
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Envelope } from '@gatehouse/contracts';
import { decodeEnvelope, encodeEnvelope, partitionKeyOf } from '@gatehouse/events';
import { processMetrics } from '@gatehouse/metrics';
import { receivedTraceHeaders, traceHeaders } from '@gatehouse/tracing';
import {
  type Admin,
  type Consumer,
  Kafka,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type PartitionMetadata,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import {
  type DeliveredEvent,
  defaultMaxPublishBytes,
  type EventBus,
  EventBusUnavailableError,
  type EventHandler,
  type EventPosition,
  EventTooLargeError,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
  TopicReplicationError,
  TopicRetentionError,
  type TopicSpec,
  UnknownTopicError,
} from '../port.js';
import { timedPublish } from '../publish-metrics.js';

export interface KafkaEventBusOptions {
  /** Bootstrap brokers, `host:port` (GATEHOUSE_KAFKA_BROKERS, comma-separated). */
  brokers: readonly string[];
  /** TLS to the brokers (GATEHOUSE_KAFKA_SSL, GATEHOUSE_KAFKA_SSL_CA; see `readKafkaConnection`). */
  ssl?: ConnectionOptions;
  /** SASL credentials (GATEHOUSE_KAFKA_SASL_*; see `readKafkaConnection`). */
  sasl?: SASLOptions;
  /** Client id sent to the brokers and used in replay group names. Default `gatehouse`. */
  clientId?: string;
  /** Partitions of topics created by `ensureTopics` when the spec gives none. Default 6. */
  defaultPartitions?: number;
  /**
   * Replication factor of created topics; -1 takes the broker's default. Default -1 (services pass
   * GATEHOUSE_KAFKA_REPLICATION_FACTOR, default 3). When set, `ensureTopics` refuses a cluster with
   * fewer brokers (when it must create a topic) and an existing topic with fewer replicas.
   */
  replicationFactor?: number;
  /**
   * `min.insync.replicas` of created topics; unset takes the broker's default. Default unset
   * (services pass GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS, default 2). When set, `ensureTopics`
   * refuses an existing topic whose effective value is lower.
   */
  minInsyncReplicas?: number;
  /**
   * Longest wait of a consumer fetch on an empty partition. The broker answers a fetch as soon as
   * there is one byte, so this is not the delivery latency; it bounds how long a consumer takes to
   * notice new assignments and stop. Default 100 ms.
   */
  maxWaitMs?: number;
  /** Consumer session timeout: how long a crashed member keeps its partitions. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval. Default 1 s. */
  heartbeatIntervalMs?: number;
  /**
   * How often a consumer commits the offsets of the events it has handled. kafkajs would commit
   * after every fetched batch of every partition (one OffsetCommit request, and one append to
   * __consumer_offsets, per batch: with small fetches, as many as the events); at-least-once
   * either way, a crash redelivers at most this much, and a clean close, a failing handler and a
   * lost assignment commit what was handled first. Default 1 s.
   */
  commitIntervalMs?: number;
  /**
   * How long a publish may wait for the acknowledgement before failing (SPEC section 9: an outage
   * fails fast). A publish that fails is never tried again later: its caller is told whether its
   * events may still have been appended. Default 2 s (GATEHOUSE_PUBLISH_TIMEOUT_MS).
   */
  publishTimeoutMs?: number;
  /** Events waiting for Kafka beyond which a publish fails at once (Kafka down). Default 10,000. */
  maxQueuedEvents?: number;
  /**
   * Bounded linger (GATEHOUSE_KAFKA_LINGER_MS, 0..5, default 1): before a produce request goes out
   * with less than a full batch queued, it waits at most this long for more publishes to join it;
   * only under load (the request before carried more than one event), so an idle bus adds no delay.
   * Fewer, bigger requests cost the broker less per event; each publish still resolves only once
   * its own events are acknowledged. 0 sends at once.
   */
  lingerMs?: number;
  /** Most events in one produce request (GATEHOUSE_KAFKA_MAX_BATCH_EVENTS). Default 1,000. */
  maxBatchEvents?: number;
  /**
   * Most bytes of events in one produce request (GATEHOUSE_KAFKA_MAX_BATCH_BYTES), and so the most
   * one publish may carry (EventTooLargeError beyond, before anything is sent). It must stay under
   * the broker's message.max.bytes (1,048,588 by default) and the topics' max.message.bytes, which
   * bound each partition's batch in a request. Default 1,000,000.
   */
  maxBatchBytes?: number;
  /**
   * Compression of produce requests. Default none: for events of a few hundred bytes, gzip costs
   * the publisher more CPU than it saves the broker (`pnpm bench:bus` measures both).
   */
  compression?: 'none' | 'gzip';
  /** Where kafkajs's warnings and errors go. Default: stderr, as JSON lines. */
  log?: (entry: {
    level: 'error' | 'warn' | 'info' | 'debug';
    message: string;
    [key: string]: unknown;
  }) => void;
}

interface PendingPublish {
  topic: string;
  partitions: number[];
  messages: Message[];
  /** Bytes its messages add to a request (keys, values, headers and per-record framing). */
  bytes: number;
  /** Epoch ms after which its caller is told it failed, and nothing more is tried for it. */
  deadline: number;
  /** Whether a request carrying it may have reached a broker. */
  sent: boolean;
  settled: boolean;
  resolve: (positions: EventPosition[]) => void;
  reject: (error: EventBusUnavailableError) => void;
}

/**
 * kafkajs's ConfigResourceTypes.TOPIC. Node's ESM loader cannot see that name among the CommonJS
 * module's exports (vitest can, so tests alone would not tell), hence the number itself.
 */
const topicResource = 2;
/** kafkajs's CompressionTypes.GZIP, by number for the same reason. */
const gzip = 1;

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * Runs an admin request again while the broker it reached does not know a topic yet: in a cluster,
 * a topic just created reaches each broker's metadata a moment apart.
 */
async function whileTopicsUnknown<T>(request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const levels = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
  [logLevel.NOTHING]: 'debug',
} as const;

export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private readonly producerKafka: Kafka;
  private producer: Producer;
  private producerReady: Promise<void> | null = null;
  private readonly admin: Admin;
  private readonly consumers = new Set<Consumer>();
  /** Consumers kafkajs gave up on (a crash it does not restart from): they deliver nothing more. */
  private readonly crashedConsumers = new Set<Consumer>();
  /** Ephemeral groups found shared with another process (see SubscribeOptions.ephemeral). */
  private readonly sharedGroups = new Set<string>();
  private connecting: Promise<void> | null = null;
  private closed = false;
  private readonly config: Required<
    Omit<KafkaEventBusOptions, 'log' | 'ssl' | 'sasl' | 'minInsyncReplicas'>
  >;
  private readonly minInsyncReplicas: number | undefined;
  private readonly log: NonNullable<KafkaEventBusOptions['log']>;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private queue: PendingPublish[] = [];
  private queuedEvents = 0;
  private sending: Promise<void> | null = null;
  /** Events of the last request sent: more than one means publishes are queueing (load). */
  private lastRequestEvents = 0;
  /** The most events recent requests carried (decaying 10% a request): what a request waits for. */
  private recentRequestEvents = 0;
  /** While a request lingers: what is queued, and how to end the wait once a batch is full. */
  private lingering: { events: number; bytes: number; enough: number; full: () => void } | null =
    null;
  private readonly partitionsByTopic = new Map<string, PartitionMetadata[]>();
  private readonly knownTopics = new Set<string>();

  constructor({ minInsyncReplicas, ...options }: KafkaEventBusOptions) {
    this.minInsyncReplicas = minInsyncReplicas;
    this.config = {
      clientId: 'gatehouse',
      defaultPartitions: 6,
      replicationFactor: -1,
      maxWaitMs: 100,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      commitIntervalMs: 1_000,
      publishTimeoutMs: 2_000,
      maxQueuedEvents: 10_000,
      lingerMs: 1,
      maxBatchEvents: 1_000,
      maxBatchBytes: defaultMaxPublishBytes,
      compression: 'none',
      ...options,
      brokers: [...options.brokers],
    };
    const log = options.log ?? ((entry) => process.stderr.write(`${JSON.stringify(entry)}\n`));
    this.log = log;
    const client = {
      clientId: this.config.clientId,
      brokers: [...this.config.brokers],
      ...(options.ssl ? { ssl: options.ssl } : {}),
      ...(options.sasl ? { sasl: options.sasl } : {}),
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          log({ level: levels[level], message, ...rest });
        },
    };
    this.kafka = new Kafka({ ...client, retry: { initialRetryTime: 100, retries: 8 } });
    // The producer's own client: kafkajs retries a request at most once, within the publish
    // timeout (its retry loop would otherwise reconnect and send a failed request again long after
    // its caller was told it failed); `sendQueued` tries again while its callers still wait.
    //
    // kafkajs starts every new client's first connection at the first broker listed, and the
    // producer's client, which tries nothing twice, is new after every failure: with that broker
    // down, no publish would get through again. Each connection starts at a broker drawn at random.
    const brokers = this.config.brokers;
    this.producerKafka = new Kafka({
      ...client,
      brokers: () => shuffled(brokers),
      connectionTimeout: Math.min(1_000, this.config.publishTimeoutMs),
      requestTimeout: this.config.publishTimeoutMs,
      retry: { retries: 0 },
    });
    this.producer = this.newProducer();
    this.admin = this.kafka.admin();
  }

  private newProducer(): Producer {
    return this.producerKafka.producer({
      idempotent: true, // implies acks=all (-1)
      // The fewest kafkajs allows an idempotent producer: one quick retry within the same
      // producer (deduplicated by the broker); after that, `sendQueued` decides.
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  /**
   * A batch that failed may still have been appended (the broker wrote it, then the connection
   * broke). kafkajs then reuses its sequence numbers for the next batch, which the broker takes
   * for a retry of the one it has and acknowledges with the old batch's offsets without storing
   * anything: an acknowledged event lost. A new producer gets a new producer id whose sequence
   * numbers start afresh, so nothing sent after a failure can be mistaken for what came before.
   */
  private async replaceProducer(): Promise<void> {
    const failed = this.producer;
    this.producer = this.newProducer();
    this.producerReady = null;
    await failed.disconnect().catch(() => {});
  }

  private producerConnected(): Promise<void> {
    const producer = this.producer;
    this.producerReady ??= producer.connect().catch((error: unknown) => {
      if (this.producer === producer) this.producerReady = null;
      throw error;
    });
    return this.producerReady;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    await this.connect();
    const specs = [...new Map(topics.map((topic) => [topic.name, topic])).values()];
    const existing = new Set(await this.admin.listTopics());
    const missing = specs.filter((topic) => !existing.has(topic.name));
    const replicationFactor = this.config.replicationFactor;
    if (missing.length > 0) {
      // Only when creating: a broker that is down for a while must not stop services restarting
      // against topics that already have their replicas (the broker would refuse the creation
      // anyway, in words that name no setting).
      if (replicationFactor > 0) {
        const { brokers } = await this.admin.describeCluster();
        if (brokers.length < replicationFactor)
          throw new TopicReplicationError(
            undefined,
            `has ${brokers.length} broker(s) up, fewer than the replication factor ${replicationFactor} required to create ${missing.map((t) => t.name).join(', ')}`,
            `Start the missing brokers, or set GATEHOUSE_KAFKA_REPLICATION_FACTOR (and GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS) to what the cluster holds: 1 and 1 for a single broker`,
          );
      }
      // kafkajs's waitForLeaders asks the broker it sent the creation to, and gives up on the
      // first "unknown topic" a broker still catching up with the controller answers in a
      // cluster; `topicsLed` waits for that too.
      await this.admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic: topic.name,
          numPartitions: topic.partitions ?? this.config.defaultPartitions,
          replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(topic.retentionMs ?? -1) },
            { name: 'retention.bytes', value: '-1' },
            { name: 'cleanup.policy', value: 'delete' },
            ...(this.minInsyncReplicas === undefined
              ? []
              : [{ name: 'min.insync.replicas', value: String(this.minInsyncReplicas) }]),
          ],
        })),
      });
    }
    if (missing.length > 0) await this.topicsLed(missing.map((topic) => topic.name));
    await this.checkReplication(specs);
    // Every topic, created now or long ago: a topic created by hand, or by an older version, with
    // the broker's default retention (7 days) would quietly lose what a rebuild reads.
    const described = await whileTopicsUnknown(() =>
      this.admin.describeConfigs({
        includeSynonyms: false,
        resources: specs.map((topic) => ({
          type: topicResource,
          name: topic.name,
          configNames: ['retention.ms', 'retention.bytes', 'cleanup.policy', 'min.insync.replicas'],
        })),
      }),
    );
    for (const resource of described.resources) {
      const spec = specs.find((topic) => topic.name === resource.resourceName)!;
      const config = new Map(resource.configEntries.map((e) => [e.configName, e.configValue]));
      const retentionMs = Number(config.get('retention.ms') ?? '-1');
      const required = spec.retentionMs ?? -1;
      if (retentionMs >= 0 && (required < 0 || retentionMs < required))
        throw new TopicRetentionError(
          spec.name,
          `deletes events after ${retentionMs} ms (retention.ms)${required < 0 ? '' : `, below the ${required} ms required`}`,
        );
      if (Number(config.get('retention.bytes') ?? '-1') >= 0)
        throw new TopicRetentionError(
          spec.name,
          `deletes events beyond ${config.get('retention.bytes')} bytes (retention.bytes)`,
        );
      if ((config.get('cleanup.policy') ?? 'delete').includes('compact'))
        throw new TopicRetentionError(spec.name, 'compacts events (cleanup.policy=compact)');
      // The effective value: the topic's own, or else the broker's default.
      const minInsync = Number(config.get('min.insync.replicas') ?? '1');
      if (this.minInsyncReplicas !== undefined && minInsync < this.minInsyncReplicas)
        throw new TopicReplicationError(
          spec.name,
          `acknowledges an event once ${minInsync} broker(s) hold it (min.insync.replicas=${minInsync}), fewer than the ${this.minInsyncReplicas} required: one broker lost could lose acknowledged events`,
          `Raise it (kafka-configs.sh --alter --entity-type topics --entity-name ${spec.name} --add-config min.insync.replicas=${this.minInsyncReplicas}), or lower GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS`,
        );
    }
  }

  /** Until every partition of the topics has a leader, as far as the broker asked knows. */
  private async topicsLed(names: readonly string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics } = await this.admin.fetchTopicMetadata({ topics: [...names] });
        if (
          topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
        )
          return;
      } catch (error) {
        const type = (error as { type?: string }).type;
        if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
      }
      if (Date.now() > deadline)
        throw new Error(`topics ${names.join(', ')} have no leader 30 s after their creation`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Replicas per partition as the topic was created: a broker that is down still counts, so a
   * restart during an outage is not refused. Fewer partitions than configured is only reported:
   * adding partitions moves tenants to other partitions (their order with them), which only an
   * operator may decide, and a topic with fewer partitions loses nothing.
   */
  private async checkReplication(specs: readonly TopicSpec[]): Promise<void> {
    const { topics } = await whileTopicsUnknown(() =>
      this.admin.fetchTopicMetadata({ topics: specs.map((t) => t.name) }),
    );
    for (const topic of topics) {
      const spec = specs.find((s) => s.name === topic.name)!;
      const replicas = Math.min(...topic.partitions.map((p) => p.replicas.length));
      if (this.config.replicationFactor > 0 && replicas < this.config.replicationFactor)
        throw new TopicReplicationError(
          topic.name,
          `keeps ${replicas} copy(ies) of some partitions, fewer than the replication factor ${this.config.replicationFactor} required: one broker lost could lose acknowledged events`,
          `Reassign its partitions to ${this.config.replicationFactor} brokers each (kafka-reassign-partitions.sh --execute with a plan listing them), or lower GATEHOUSE_KAFKA_REPLICATION_FACTOR`,
        );
      const wanted = spec.partitions ?? this.config.defaultPartitions;
      if (topic.partitions.length < wanted)
        this.log({
          level: 'warn',
          message: `topic ${topic.name} has ${topic.partitions.length} partitions, fewer than the ${wanted} configured (GATEHOUSE_KAFKA_PARTITIONS); they are not added automatically, since that moves tenants to other partitions`,
          topic: topic.name,
          partitions: topic.partitions.length,
          configured: wanted,
        });
    }
  }

  publish(topic: string, envelopes: readonly Envelope[]): Promise<EventPosition[]> {
    return timedPublish(topic, () => this.append(topic, envelopes));
  }

  private async append(topic: string, envelopes: readonly Envelope[]): Promise<EventPosition[]> {
    if (envelopes.length === 0) return [];
    const deadline = Date.now() + this.config.publishTimeoutMs;
    // Before anything is queued, a failure (no broker to ask for the partitions) appended nothing.
    let partitionMetadata: PartitionMetadata[];
    try {
      partitionMetadata =
        this.partitionsByTopic.get(topic) ??
        (await Promise.race([
          this.connect().then(() => this.partitionsOf(topic)),
          rejectAfter(this.config.publishTimeoutMs, `publish to ${topic}`),
        ]));
    } catch (error) {
      if (error instanceof UnknownTopicError) throw error;
      throw new EventBusUnavailableError(`publish to ${topic} failed: ${String(error)}`, {
        mayHaveBeenAppended: false,
      });
    }
    // The partition is chosen here (murmur2 of the key, as the Java client does) rather than
    // inside kafkajs, so that each event's offset can be told from its partition's base offset.
    const keys = envelopes.map((envelope) => partitionKeyOf(topic, envelope));
    const partitions = keys.map((key) =>
      this.partitioner({ topic, partitionMetadata, message: { key, value: null } }),
    );
    if (this.queuedEvents + envelopes.length > this.config.maxQueuedEvents) {
      throw new EventBusUnavailableError(
        `more than ${this.config.maxQueuedEvents} events are waiting for Kafka`,
        { mayHaveBeenAppended: false },
      );
    }
    const headers = traceHeaders(); // the caller's trace, when tracing
    const messages: Message[] = envelopes.map((envelope, index) => ({
      key: keys[index]!,
      value: Buffer.from(encodeEnvelope(envelope)),
      partition: partitions[index]!,
      ...(headers ? { headers } : {}),
    }));
    const bytes = messages.reduce((sum, message) => sum + messageBytes(message), 0);
    // Refused here, never in a request with other callers' events: a partition's batch over the
    // broker's limit fails the whole request in kafkajs, though the broker appended the other
    // partitions' batches (see sendQueued).
    if (bytes > this.config.maxBatchBytes)
      throw new EventTooLargeError(topic, bytes, this.config.maxBatchBytes);
    return new Promise<EventPosition[]>((resolve, reject) => {
      const pending: PendingPublish = {
        topic,
        partitions,
        messages,
        bytes,
        deadline,
        sent: false,
        settled: false,
        resolve: (positions) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(timer);
          resolve(positions);
        },
        reject: (error) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(timer);
          this.queuedEvents -= pending.messages.length;
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        // Still queued: it leaves the queue and is never sent. In a request: that request may have
        // been appended, but it is not sent again.
        const queued = this.queue.indexOf(pending);
        if (queued >= 0) this.queue.splice(queued, 1);
        pending.reject(
          new EventBusUnavailableError(
            `publish to ${topic} was not acknowledged within ${this.config.publishTimeoutMs} ms`,
            { mayHaveBeenAppended: pending.sent },
          ),
        );
      }, this.config.publishTimeoutMs);
      this.queue.push(pending);
      this.queuedEvents += envelopes.length;
      const lingering = this.lingering;
      if (lingering) {
        lingering.events += envelopes.length;
        lingering.bytes += bytes;
        if (lingering.events >= lingering.enough || lingering.bytes >= this.config.maxBatchBytes)
          lingering.full();
      }
      this.sending ??= this.sendQueued();
    });
  }

  /**
   * Group commit: the idempotent producer has one request in flight, so publishes that arrive
   * meanwhile wait here and go out together in the next request (at most `maxBatchEvents` events
   * and `maxBatchBytes` bytes; what does not fit waits for the one after), each still told its own
   * offsets. Before a request that is not full, under load, it lingers up to `lingerMs` for more
   * (see linger).
   *
   * A request that fails is settled partition by partition where the brokers answered (see
   * settleAnswered): Kafka answers each partition on its own, so a request can be appended in part,
   * and sending the appended part again would append it twice and report the second copy's
   * offsets. What was not appended, and was refused only for a while or not answered at all (a
   * connection lost, a timeout), is tried again, with a new producer, for the callers still waiting
   * and only for them; a caller whose time is up is told so and left out of every later request.
   */
  private async sendQueued(): Promise<void> {
    let batch: PendingPublish[] = [];
    while (this.queue.length > 0 || batch.length > 0) {
      if (batch.length === 0 && this.config.lingerMs > 0) await this.linger();
      batch = this.takeBatch(batch.filter((p) => !p.settled));
      if (batch.length === 0) continue;
      const byTopic = new Map<string, Message[]>();
      let events = 0;
      for (const pending of batch) {
        byTopic.set(pending.topic, [...(byTopic.get(pending.topic) ?? []), ...pending.messages]);
        events += pending.messages.length;
      }
      try {
        await this.producerConnected();
        for (const pending of batch) pending.sent = true;
        processMetrics().eventPublishBatchEvents.observe(events);
        this.lastRequestEvents = events;
        this.recentRequestEvents = Math.max(events, Math.floor(this.recentRequestEvents * 0.9));
        const results = await this.producer.sendBatch({
          acks: -1,
          ...(this.config.compression === 'gzip' ? { compression: gzip } : {}),
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        // Within a partition the messages were appended in the order given, from its base offset.
        const next = new Map(
          results.map((r) => [`${r.topicName}:${r.partition}`, BigInt(r.baseOffset ?? '0')]),
        );
        for (const pending of batch) {
          this.queuedEvents -= pending.settled ? 0 : pending.messages.length;
          pending.resolve(
            pending.partitions.map((partition) => {
              const key = `${pending.topic}:${partition}`;
              const offset = next.get(key)!;
              next.set(key, offset + 1n);
              return { topic: pending.topic, partition, offset };
            }),
          );
        }
        batch = [];
      } catch (error) {
        // The request may have been appended (the broker wrote it, then the answer was lost): a
        // new producer, so that a retry is never taken for a duplicate of it (see replaceProducer).
        await this.replaceProducer();
        batch = this.settleAnswered(batch, error);
        const now = Date.now();
        for (const pending of batch)
          if (pending.deadline - now < 50)
            pending.reject(
              new EventBusUnavailableError(`publish to ${pending.topic} failed: ${String(error)}`, {
                mayHaveBeenAppended: pending.sent,
              }),
            );
        batch = batch.filter((pending) => !pending.settled);
        if (batch.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    this.sending = null;
  }

  /**
   * After a failed request, what the brokers answered for each partition (infra/patches: kafkajs
   * reports it with the error). A partition answered without an error was appended: its callers
   * are told their offsets, as after a success, and it is never sent again. A caller with an event
   * in a partition refused for good (MESSAGE_TOO_LARGE, ...) fails; so does one whose events were
   * appended in part. Returns the callers of which nothing was appended and whose partitions were
   * refused only for a while or not answered: they may be tried again.
   */
  private settleAnswered(batch: PendingPublish[], error: unknown): PendingPublish[] {
    const answered = partitionResultsOf(error);
    if (answered.size === 0) return batch;
    const next = new Map<string, bigint>();
    for (const [key, result] of answered) if (result.appended) next.set(key, result.baseOffset);
    const retry: PendingPublish[] = [];
    for (const pending of batch) {
      // Within an appended partition, the request's messages in order from its base offset, the
      // messages of callers that fail included.
      const results = pending.partitions.map((partition) => {
        const key = `${pending.topic}:${partition}`;
        const result = answered.get(key);
        let offset: bigint | undefined;
        if (result?.appended) {
          offset = next.get(key)!;
          next.set(key, offset + 1n);
        }
        return { partition, result, offset };
      });
      if (results.every(({ result }) => result?.appended)) {
        this.queuedEvents -= pending.settled ? 0 : pending.messages.length;
        pending.resolve(
          results.map(({ partition, offset }) => ({
            topic: pending.topic,
            partition,
            offset: offset!,
          })),
        );
        continue;
      }
      const appended = results.some(({ result }) => result?.appended);
      const unanswered = results.some(({ result }) => result === undefined);
      const refused = results.find(({ result }) => result && !result.appended && !result.retriable);
      if (refused || appended) {
        const why = refused
          ? `refused by Kafka (${refused.result!.type} for partition ${refused.partition})`
          : 'appended in part only';
        pending.reject(
          new EventBusUnavailableError(`publish to ${pending.topic} ${why}: ${String(error)}`, {
            mayHaveBeenAppended: appended || (unanswered && pending.sent),
            cause: error,
          }),
        );
        continue;
      }
      retry.push(pending);
    }
    return retry;
  }

  /**
   * Lets what is being published join the next request: first whatever this turn of the event loop
   * publishes (callers answered by the last request publish again in the same turn), at no cost in
   * latency; then, only under load (the last request carried more than one event, so publishes are
   * queueing: a publish on an idle bus waits for no one), at most `lingerMs` more, or until as many
   * events are queued as recent requests carried (no wait for arrivals the load does not bring) or
   * a full request.
   */
  private async linger(): Promise<void> {
    const { lingerMs, maxBatchEvents, maxBatchBytes } = this.config;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.lastRequestEvents <= 1) return;
    const enough = Math.min(maxBatchEvents, Math.max(2, this.recentRequestEvents));
    let events = 0;
    let bytes = 0;
    for (const pending of this.queue) {
      events += pending.messages.length;
      bytes += pending.bytes;
    }
    if (events >= enough || bytes >= maxBatchBytes) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.lingering = null;
        resolve();
      }, lingerMs);
      this.lingering = {
        events,
        bytes,
        enough,
        full: () => {
          clearTimeout(timer);
          this.lingering = null;
          resolve();
        },
      };
    });
  }

  /**
   * The next request's publishes: those being tried again first, then the queue's in order, up to
   * `maxBatchEvents` and `maxBatchBytes` (one publish at least, which `append` keeps within them).
   */
  private takeBatch(retried: PendingPublish[]): PendingPublish[] {
    const batch = [...retried];
    let events = 0;
    let bytes = 0;
    for (const pending of batch) {
      events += pending.messages.length;
      bytes += pending.bytes;
    }
    let taken = 0;
    for (const pending of this.queue) {
      if (pending.settled) {
        taken += 1;
        continue;
      }
      const fits =
        events + pending.messages.length <= this.config.maxBatchEvents &&
        bytes + pending.bytes <= this.config.maxBatchBytes;
      if (!fits && batch.length > 0) break;
      batch.push(pending);
      events += pending.messages.length;
      bytes += pending.bytes;
      taken += 1;
    }
    this.queue.splice(0, taken);
    return batch;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    await this.connect();
    await this.assertTopicsExist(options.topics);
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: this.config.heartbeatIntervalMs,
      maxWaitTimeInMs: this.config.maxWaitMs,
      minBytes: 1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    this.consumers.add(consumer);
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, () => resolve());
    });
    const crashed = new Promise<never>((_, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
    });
    crashed.catch(() => {}); // only observed while joining
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.crashedConsumers.add(consumer);
    });
    // The next offset to read of each partition whose events were handled since the last commit.
    const handled = new Map<string, { topic: string; partition: number; offset: string }>();
    let committing: Promise<void> = Promise.resolve();
    const commitHandled = (): Promise<void> => {
      if (handled.size === 0) return committing;
      const offsets = [...handled.values()];
      handled.clear();
      committing = committing
        .then(() => consumer.commitOffsets(offsets))
        .catch(() => {
          // No longer a member (a rebalance, a lost session): whoever reads these partitions next
          // starts at the last commit and handles the events since again (at least once).
        });
      return committing;
    };
    const commitTimer = setInterval(() => void commitHandled(), this.config.commitIntervalMs);
    commitTimer.unref();
    /** The handler running now (kafkajs hands over one event at a time). */
    let inHand: Promise<unknown> = Promise.resolve();
    try {
      const startAt = options.ephemeral
        ? await this.ends(options.topics)
        : options.start === 'latest'
          ? await this.uncommittedEnds(options.groupId, options.topics)
          : new Map<string, bigint>();
      let firstAssignment = true;
      if (options.ephemeral)
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          // Alone in its group, a member is given every partition; fewer means another process
          // joined with the same group id, and each would see only part of the events.
          const assigned = Object.values(payload.memberAssignment).flat().length;
          const all = options.topics.reduce(
            (sum, topic) => sum + (this.partitionsByTopic.get(topic)?.length ?? 0),
            0,
          );
          if (assigned < all) this.sharedGroups.add(options.groupId);
          else this.sharedGroups.delete(options.groupId);
        });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // Emitted after the assignment and before the first fetch; later rebalances must not seek.
        if (!firstAssignment) return;
        firstAssignment = false;
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const offset = startAt.get(`${topic}:${partition}`);
            if (offset !== undefined)
              consumer.seek({ topic, partition, offset: offset.toString() });
          }
        }
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // Partitions now another member's: their offsets are that member's to commit.
        const assigned = new Set(
          Object.entries(payload.memberAssignment).flatMap(([topic, numbers]) =>
            numbers.map((partition) => `${topic}:${partition}`),
          ),
        );
        for (const key of handled.keys()) if (!assigned.has(key)) handled.delete(key);
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        if (!options.onAssigned) return;
        const partitions = Object.entries(payload.memberAssignment).flatMap(([topic, numbers]) =>
          numbers.map((partition) => ({ topic, partition })),
        );
        options.onAssigned(partitions, ({ topic, partition, offset }) => {
          try {
            consumer.seek({ topic, partition, offset: offset.toString() });
          } catch {
            // No longer assigned here: its next owner starts from the store's position itself.
          }
        });
      });
      await consumer.connect();
      await consumer.subscribe({
        topics: [...options.topics],
        fromBeginning: options.start !== 'latest',
      });
      await consumer.run({
        // Committed by this adapter, every commitIntervalMs (see there).
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const event: DeliveredEvent = {
            topic,
            partition,
            offset: BigInt(message.offset),
            envelope: decodeEnvelope(message.value ?? new Uint8Array()),
            traceHeaders: receivedTraceHeaders(message.headers),
          };
          const handling = options.handler(event);
          inHand = handling.catch(() => {});
          try {
            await handling;
          } catch (error) {
            options.onError?.(error, event);
            // kafkajs delivers the event again, from the last commit when it restarts the
            // consumer: what was handled before it is committed first, so it is not handled again.
            await commitHandled();
            throw error;
          }
          handled.set(`${topic}:${partition}`, {
            topic,
            partition,
            offset: String(event.offset + 1n),
          });
        },
      });
      await Promise.race([
        joined,
        crashed,
        rejectAfter(this.config.sessionTimeoutMs * 3, `joining group ${options.groupId}`),
      ]);
    } catch (error) {
      clearInterval(commitTimer);
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    return {
      close: async () => {
        this.crashedConsumers.delete(consumer);
        this.sharedGroups.delete(options.groupId);
        if (!this.consumers.delete(consumer)) return;
        clearInterval(commitTimer);
        // No event after the one in hand; it finishes, and what was handled is committed while
        // this member still holds its partitions, so that the next one starts right after.
        consumer.pause(options.topics.map((topic) => ({ topic })));
        await inHand;
        await commitHandled();
        await consumer.disconnect();
        // Its member has left: the empty group can go, so that restarts leave none behind.
        if (options.ephemeral) await this.admin.deleteGroups([options.groupId]).catch(() => {});
      },
    };
  }

  /** The end offset, as of now, of every partition of `topics` (their metadata cached on the way). */
  private async ends(topics: readonly string[]): Promise<Map<string, bigint>> {
    const ends = new Map<string, bigint>();
    for (const topic of topics) {
      await this.partitionsOf(topic);
      for (const end of await retryRetriable(() => this.admin.fetchTopicOffsets(topic)))
        ends.set(`${topic}:${end.partition}`, BigInt(end.high));
    }
    return ends;
  }

  /**
   * The end offset, as of now, of every partition of `topics` that the group has no committed
   * offset for. kafkajs would resolve "latest" only at the member's first fetch, and so skip what is
   * published between `subscribe` resolving and that fetch; seeking to these offsets instead makes
   * `latest` mean "everything from this call on".
   */
  private async uncommittedEnds(
    groupId: string,
    topics: readonly string[],
  ): Promise<Map<string, bigint>> {
    const ends = new Map<string, bigint>();
    const committed = await retryRetriable(() =>
      this.admin.fetchOffsets({ groupId, topics: [...topics] }),
    );
    for (const { topic, partitions } of committed) {
      const unset = new Set(partitions.filter((p) => Number(p.offset) < 0).map((p) => p.partition));
      if (unset.size === 0) continue;
      for (const end of await retryRetriable(() => this.admin.fetchTopicOffsets(topic))) {
        if (unset.has(end.partition)) ends.set(`${topic}:${end.partition}`, BigInt(end.high));
      }
    }
    return ends;
  }

  async replay(topic: string, handler: EventHandler): Promise<ReplayResult> {
    await this.connect();
    await this.assertTopicsExist([topic]);
    const offsets = await retryRetriable(() => this.admin.fetchTopicOffsets(topic));
    // Per partition, the end as of now; partitions with nothing to read are done already.
    const remaining = new Map(
      offsets
        .filter((o) => BigInt(o.high) > BigInt(o.low))
        .map((o) => [o.partition, BigInt(o.high)]),
    );
    if (remaining.size === 0) return { events: 0 };
    const groupId = `${this.config.clientId}.replay.${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId,
      maxWaitTimeInMs: this.config.maxWaitMs,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: this.config.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
    this.consumers.add(consumer);
    let events = 0;
    let failed = false;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        // kafkajs restarts the consumer itself after a retriable crash (a coordinator still
        // loading after a broker restart); only a crash it gives up on ends the replay.
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (!payload.restart) reject(payload.error);
        });
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = remaining.get(partition);
              const offset = BigInt(message.offset);
              if (failed || end === undefined || offset >= end) return;
              try {
                await handler({
                  topic,
                  partition,
                  offset,
                  envelope: decodeEnvelope(message.value ?? new Uint8Array()),
                });
              } catch (error) {
                // A replay stops at the first failure rather than retrying: the caller decides.
                failed = true;
                reject(error);
                return;
              }
              events += 1;
              if (offset + 1n >= end) {
                remaining.delete(partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => {});
      await this.admin.deleteGroups([groupId]).catch(() => {});
    }
    return { events };
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    await this.connect();
    await this.assertTopicsExist([topic]);
    const offsets = await retryRetriable(() => this.admin.fetchTopicOffsets(topic));
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  /**
   * Whether this process's Kafka side works now, for readiness: a broker answers a metadata request
   * within `timeoutMs`, and no consumer has stopped for good. Never throws.
   */
  async probe(timeoutMs = 1_000): Promise<{
    ok: boolean;
    reason?: string;
    brokers?: number;
    consumers: number;
  }> {
    const consumers = this.consumers.size;
    if (this.closed) return { ok: false, reason: 'the event bus is closed', consumers };
    if (this.crashedConsumers.size > 0)
      return {
        ok: false,
        reason: `${this.crashedConsumers.size} Kafka consumer(s) stopped after an error`,
        consumers,
      };
    if (this.sharedGroups.size > 0)
      return {
        ok: false,
        reason: `consumer group ${[...this.sharedGroups].join(', ')} is shared with another process, which takes part of its events: give each process its own GATEHOUSE_REPLICA_ID`,
        consumers,
      };
    try {
      const cluster = await Promise.race([
        this.connect().then(() => this.admin.describeCluster()),
        rejectAfter(timeoutMs, `Kafka metadata from ${this.config.brokers.join(',')}`),
      ]);
      return { ok: true, brokers: cluster.brokers.length, consumers };
    } catch (error) {
      return {
        ok: false,
        reason: error instanceof Error ? error.message : String(error),
        consumers,
      };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.disconnect().catch(() => {})));
    this.consumers.clear();
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]).catch(() => {});
  }

  private connect(): Promise<void> {
    if (this.closed) return Promise.reject(new EventBusUnavailableError('event bus is closed'));
    this.connecting ??= Promise.all([this.producerConnected(), this.admin.connect()]).then(
      () => undefined,
      (error: unknown) => {
        this.connecting = null;
        throw new EventBusUnavailableError(
          `cannot reach Kafka at ${this.config.brokers.join(',')}: ${String(error)}`,
        );
      },
    );
    return this.connecting;
  }

  /**
   * Fails at once with UnknownTopicError for a topic that does not exist; kafkajs would retry
   * UNKNOWN_TOPIC_OR_PARTITION for half a minute and then report something vaguer.
   */
  private async assertTopicsExist(topics: readonly string[]): Promise<void> {
    // Topics are never deleted: one seen to exist is not asked about again (endOffsets is polled).
    if (topics.every((topic) => this.knownTopics.has(topic))) return;
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.find((topic) => !existing.has(topic));
    if (missing !== undefined) throw new UnknownTopicError(missing);
    for (const topic of topics) this.knownTopics.add(topic);
  }

  private async partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    let partitions = this.partitionsByTopic.get(topic);
    if (!partitions) {
      await this.assertTopicsExist([topic]);
      const { topics } = await this.admin
        .fetchTopicMetadata({ topics: [topic] })
        .catch((error: unknown) => {
          throw new EventBusUnavailableError(`no metadata for topic ${topic}: ${String(error)}`);
        });
      partitions = topics[0]?.partitions ?? [];
      if (partitions.length === 0)
        throw new EventBusUnavailableError(`topic ${topic} has no partitions`);
      this.partitionsByTopic.set(topic, partitions);
    }
    return partitions;
  }
}

/**
 * Retries a metadata read while Kafka answers with a retriable error, as it does for a moment
 * after a topic was created or a leader moved (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE).
 */
async function retryRetriable<T>(read: () => Promise<T>, forMs = 10_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await read();
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || Date.now() + delay > deadline)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function rejectAfter(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(
      () => reject(new EventBusUnavailableError(`${what} took longer than ${ms} ms`)),
      ms,
    ).unref();
  });
}

/** Per-record framing of Kafka's record batch format (v2): length, attributes, deltas (varints). */
const recordOverhead = 24;

/** Bytes a message adds to a produce request. */
function messageBytes(message: Message): number {
  let bytes = recordOverhead + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {}))
    bytes += Buffer.byteLength(name) + byteLength(value as string | Buffer | undefined) + 4;
  return bytes;
}

function byteLength(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}

interface PartitionResult {
  /** Answered without an error: appended, the request's messages of it from `baseOffset` on. */
  appended: boolean;
  baseOffset: bigint;
  /** Why it was refused, and whether the broker may take it later (NOT_LEADER_OR_FOLLOWER...). */
  type?: string;
  retriable?: boolean;
}

/**
 * Per `topic:partition`, what the brokers answered for a request that failed (`partitionResults`,
 * added to kafkajs's errors by infra/patches/kafkajs@2.2.4.patch): a partly refused request's
 * partitions, and those of the other brokers that answered. Empty when nothing was answered (a
 * connection lost, a timeout). An appended answer wins over a refusal of an earlier attempt.
 */
function partitionResultsOf(error: unknown): Map<string, PartitionResult> {
  const answered = new Map<string, PartitionResult>();
  const seen = new Set<unknown>();
  for (
    let at = error as { cause?: unknown; partitionResults?: unknown } | undefined;
    at && typeof at === 'object' && !seen.has(at);
    at = at.cause as typeof at
  ) {
    seen.add(at);
    if (!Array.isArray(at.partitionResults)) continue;
    for (const entry of at.partitionResults as {
      topicName: string;
      partition: number;
      errorCode: number;
      baseOffset?: string;
      type?: string;
      retriable?: boolean;
    }[]) {
      const key = `${entry.topicName}:${entry.partition}`;
      if (answered.get(key)?.appended) continue;
      answered.set(key, {
        appended: entry.errorCode === 0,
        baseOffset: BigInt(entry.baseOffset ?? '-1'),
        ...(entry.errorCode === 0
          ? {}
          : {
              type: entry.type ?? `error ${entry.errorCode}`,
              retriable: entry.retriable ?? false,
            }),
      });
    }
  }
  return answered;
}
