// The Kafka event bus (kafkajs). Producer: idempotent, acks=all, one request in flight, murmur2
// partitioning (the Java client's) by each event's key (`partitionKeyOf`: the tenant, or for grant
// and revocation events the grant), so the events of one key keep their order. Consumers:
// offsets are resolved after the handler returns and committed after each batch (at-least-once);
// fetches return as soon as one byte is there and never wait longer than `maxWaitMs`.
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Envelope } from '@gatehouse/contracts';
import { decodeEnvelope, encodeEnvelope, partitionKeyOf } from '@gatehouse/events';
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
  type EventBus,
  EventBusUnavailableError,
  type EventHandler,
  type EventPosition,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
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
  /** Replication factor of created topics; -1 takes the broker's default. Default -1. */
  replicationFactor?: number;
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
   * How long a publish may wait for the acknowledgement before failing (SPEC section 9: an outage
   * fails fast). A publish that fails is never tried again later: its caller is told whether its
   * events may still have been appended. Default 2 s (GATEHOUSE_PUBLISH_TIMEOUT_MS).
   */
  publishTimeoutMs?: number;
  /** Events waiting for Kafka beyond which a publish fails at once (Kafka down). Default 10,000. */
  maxQueuedEvents?: number;
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
  private readonly config: Required<Omit<KafkaEventBusOptions, 'log' | 'ssl' | 'sasl'>>;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private queue: PendingPublish[] = [];
  private queuedEvents = 0;
  private sending: Promise<void> | null = null;
  private readonly partitionsByTopic = new Map<string, PartitionMetadata[]>();
  private readonly knownTopics = new Set<string>();

  constructor(options: KafkaEventBusOptions) {
    this.config = {
      clientId: 'gatehouse',
      defaultPartitions: 6,
      replicationFactor: -1,
      maxWaitMs: 100,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      publishTimeoutMs: 2_000,
      maxQueuedEvents: 10_000,
      ...options,
      brokers: [...options.brokers],
    };
    const log = options.log ?? ((entry) => process.stderr.write(`${JSON.stringify(entry)}\n`));
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
    this.producerKafka = new Kafka({
      ...client,
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
    if (missing.length > 0) {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic: topic.name,
          numPartitions: topic.partitions ?? this.config.defaultPartitions,
          replicationFactor: this.config.replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(topic.retentionMs ?? -1) },
            { name: 'retention.bytes', value: '-1' },
            { name: 'cleanup.policy', value: 'delete' },
          ],
        })),
      });
    }
    // Every topic, created now or long ago: a topic created by hand, or by an older version, with
    // the broker's default retention (7 days) would quietly lose what a rebuild reads.
    const described = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((topic) => ({
        type: topicResource,
        name: topic.name,
        configNames: ['retention.ms', 'retention.bytes', 'cleanup.policy'],
      })),
    });
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
    return new Promise<EventPosition[]>((resolve, reject) => {
      const pending: PendingPublish = {
        topic,
        partitions,
        messages: envelopes.map((envelope, index) => ({
          key: keys[index]!,
          value: Buffer.from(encodeEnvelope(envelope)),
          partition: partitions[index]!,
          ...(headers ? { headers } : {}),
        })),
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
      this.sending ??= this.sendQueued();
    });
  }

  /**
   * Group commit: the idempotent producer has one request in flight, so publishes that arrive
   * meanwhile wait here and go out together in the next request, each still told its own offsets.
   * A request that fails is tried again, with a new producer, for the callers still waiting and
   * only for them; a caller whose time is up is told so and left out of every later request.
   */
  private async sendQueued(): Promise<void> {
    let batch: PendingPublish[] = [];
    while (this.queue.length > 0 || batch.length > 0) {
      batch = [...batch, ...this.queue.splice(0, this.queue.length)].filter((p) => !p.settled);
      if (batch.length === 0) continue;
      const byTopic = new Map<string, Message[]>();
      for (const pending of batch)
        byTopic.set(pending.topic, [...(byTopic.get(pending.topic) ?? []), ...pending.messages]);
      try {
        await this.producerConnected();
        for (const pending of batch) pending.sent = true;
        const results = await this.producer.sendBatch({
          acks: -1,
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
      await consumer.connect();
      await consumer.subscribe({
        topics: [...options.topics],
        fromBeginning: options.start !== 'latest',
      });
      await consumer.run({
        autoCommit: true,
        eachMessage: async ({ topic, partition, message }) => {
          const event: DeliveredEvent = {
            topic,
            partition,
            offset: BigInt(message.offset),
            envelope: decodeEnvelope(message.value ?? new Uint8Array()),
            traceHeaders: receivedTraceHeaders(message.headers),
          };
          try {
            await options.handler(event);
          } catch (error) {
            options.onError?.(error, event);
            throw error; // kafkajs does not resolve the offset and delivers the event again
          }
        },
      });
      await Promise.race([
        joined,
        crashed,
        rejectAfter(this.config.sessionTimeoutMs * 3, `joining group ${options.groupId}`),
      ]);
    } catch (error) {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    return {
      close: async () => {
        this.crashedConsumers.delete(consumer);
        this.sharedGroups.delete(options.groupId);
        if (!this.consumers.delete(consumer)) return;
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
