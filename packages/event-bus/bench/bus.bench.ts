// `pnpm bench:bus`: publish-to-consume latency and throughput of both event bus adapters, and the
// round-trip cost of the projection store's batched reads, each next to a baseline measured in the
// same run. Uses the same Kafka and Redis the integration tests get (testkit), bounded in time.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processMetrics } from '@gatehouse/metrics';
import {
  MemoryProjectionStore,
  type ProjectionStore,
  RedisProjectionStore,
} from '@gatehouse/projection-store';
import { acquireInfrastructure, cpuMsOf, pidListeningOn } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { EmbeddedEventBus } from '../src/embedded/embedded-event-bus.js';
import { KafkaEventBus, type KafkaEventBusOptions } from '../src/kafka/kafka-event-bus.js';
import type { EventBus } from '../src/port.js';
import { numberedEvent, sequenceOf } from '../src/testing/numbered-events.js';

const LATENCY_SAMPLES = 300;
const THROUGHPUT_EVENTS = 20_000;
const BATCH = 100;
const CONCURRENT_PUBLISHES = 8;
const STORE_SAMPLES = 3_000;
/** Group commit: single-event publishes in flight at once (the token service's load), per window. */
const GROUP_PUBLISHERS = 32;
const GROUP_EVENTS = 12_000;
const GROUP_ROUNDS = 2;
/** CPU-ms each publisher spends before each publish: none (all at once), and a token's worth. */
const GROUP_WORK_MS = [0, 0.3];

interface Row {
  what: string;
  p50: string;
  p99: string;
  rate: string;
  vsBaseline: string;
}
const rows: Row[] = [];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;
const us = (value: number) => `${(value * 1000).toFixed(0)} µs`;
const perSecond = (count: number, elapsedMs: number) =>
  `${Math.round((count / elapsedMs) * 1000).toLocaleString('en')}/s`;

/** Publish one event at a time and time until the subscriber has it (includes the ack). */
async function busLatency(bus: EventBus, topic: string): Promise<number[]> {
  const waiting = new Map<number, () => void>();
  const subscription = await bus.subscribe({
    groupId: `bench-${randomUUID()}`,
    topics: [topic],
    start: 'latest',
    handler: async (event) => waiting.get(sequenceOf(event.envelope))?.(),
  });
  const samples: number[] = [];
  for (let seq = 0; seq < LATENCY_SAMPLES + 20; seq += 1) {
    const delivered = new Promise<void>((resolve) => waiting.set(seq, resolve));
    const started = performance.now();
    await bus.publish(topic, [numberedEvent('bench', seq)]);
    await delivered;
    if (seq >= 20) samples.push(performance.now() - started); // the first ones warm up
  }
  await subscription.close();
  return samples;
}

/** Publish THROUGHPUT_EVENTS in batches, several publishes in flight, and consume them all. */
async function busThroughput(
  bus: EventBus,
  topic: string,
): Promise<{ publishMs: number; endToEndMs: number }> {
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((resolve) => {
    allConsumed = resolve;
  });
  const subscription = await bus.subscribe({
    groupId: `bench-${randomUUID()}`,
    topics: [topic],
    start: 'latest',
    handler: async () => {
      consumed += 1;
      if (consumed === THROUGHPUT_EVENTS) allConsumed();
    },
  });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_PUBLISHES }, async () => {
      while (next < THROUGHPUT_EVENTS) {
        const from = next;
        next += BATCH;
        await bus.publish(
          topic,
          Array.from({ length: BATCH }, (_, i) =>
            numberedEvent(`tenant-${(from + i) % 16}`, from + i),
          ),
        );
      }
    }),
  );
  const publishMs = performance.now() - started;
  await done;
  const endToEndMs = performance.now() - started;
  await subscription.close();
  return { publishMs, endToEndMs };
}

async function benchBus(name: string, bus: EventBus, baselineP50?: number): Promise<number> {
  const latencyTopic = `bench.latency.${randomUUID()}`;
  const throughputTopic = `bench.throughput.${randomUUID()}`;
  await bus.ensureTopics([
    { name: latencyTopic, partitions: 1 },
    { name: throughputTopic, partitions: 6 },
  ]);
  const latency = await busLatency(bus, latencyTopic);
  const p50 = percentile(latency, 50);
  rows.push({
    what: `${name}: publish -> consume, 1 event`,
    p50: ms(p50),
    p99: ms(percentile(latency, 99)),
    rate: perSecond(
      latency.length,
      latency.reduce((a, b) => a + b, 0),
    ),
    vsBaseline: baselineP50 ? `${(baselineP50 / p50).toFixed(1)}x faster` : 'baseline',
  });
  const { publishMs, endToEndMs } = await busThroughput(bus, throughputTopic);
  rows.push({
    what: `${name}: publish ${THROUGHPUT_EVENTS} (batches of ${BATCH})`,
    p50: '',
    p99: '',
    rate: perSecond(THROUGHPUT_EVENTS, publishMs),
    vsBaseline: '',
  });
  rows.push({
    what: `${name}: publish + consume ${THROUGHPUT_EVENTS}`,
    p50: '',
    p99: '',
    rate: perSecond(THROUGHPUT_EVENTS, endToEndMs),
    vsBaseline: '',
  });
  return p50;
}

/** Baseline: kafkajs with its default consumer settings (fetch wait 5 s), on the same broker. */
async function kafkajsDefaultsLatency(brokers: string[]): Promise<number[]> {
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers, logLevel: logLevel.NOTHING });
  const topic = `bench.baseline.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topics: [topic], fromBeginning: true }); // the topic is new and empty
  const waiting = new Map<string, () => void>();
  const joined = new Promise<void>((resolve) =>
    consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
  );
  await consumer.run({
    eachMessage: async ({ message }) => waiting.get(message.key!.toString())?.(),
  });
  await joined;
  const samples: number[] = [];
  for (let i = 0; i < 120; i += 1) {
    const key = String(i);
    const delivered = new Promise<void>((resolve) => waiting.set(key, resolve));
    const started = performance.now();
    await producer.send({ topic, acks: -1, messages: [{ key, value: 'x' }] });
    await delivered;
    if (i >= 20) samples.push(performance.now() - started);
  }
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  return samples;
}

// --- group commit: events per produce request and the broker's CPU per event --------------------

async function publishWrites(): Promise<{ count: number; sum: number }> {
  const { values } = await processMetrics().eventPublishBatchEvents.get();
  const value = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
  return {
    count: value('gatehouse_event_publish_batch_events_count'),
    sum: value('gatehouse_event_publish_batch_events_sum'),
  };
}

interface GroupCommitRun {
  events: number;
  requests: number;
  ms: number;
  brokerCpuMs: number;
  clientCpuMs: number;
  latencies: number[];
}

/**
 * GROUP_PUBLISHERS callers, each publishing one event at a time (a TokensIssued per token, keyed
 * by its grant, so spread over the topic's 6 partitions) until GROUP_EVENTS are acknowledged.
 */
async function groupCommitWindow(
  bus: EventBus,
  topic: string,
  events: number,
  brokerPid: number | undefined,
  idleBrokerMsPerMs: number,
  workMs: number,
): Promise<GroupCommitRun> {
  const before = await publishWrites();
  const brokerBefore = brokerPid ? cpuMsOf(brokerPid) : 0;
  const clientBefore = process.cpuUsage();
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: GROUP_PUBLISHERS }, async () => {
      while (next < events) {
        const seq = next++;
        // A request's own work before its event (a token service signs: ~0.3-0.5 CPU-ms), on this
        // one thread as in a service, so that publishes arrive spread out rather than all at once.
        if (workMs > 0) {
          await new Promise((resolve) => setImmediate(resolve));
          const until = performance.now() + workMs;
          while (performance.now() < until) {}
        }
        const at = performance.now();
        await bus.publish(topic, [numberedEvent(`grant-${randomUUID()}`, seq)]);
        latencies.push(performance.now() - at);
      }
    }),
  );
  const ms = performance.now() - started;
  const client = process.cpuUsage(clientBefore);
  const after = await publishWrites();
  return {
    events,
    requests: after.count - before.count,
    ms,
    brokerCpuMs: brokerPid
      ? cpuMsOf(brokerPid) - brokerBefore - idleBrokerMsPerMs * ms
      : Number.NaN,
    clientCpuMs: (client.user + client.system) / 1000,
    latencies,
  };
}

async function benchGroupCommit(brokers: string[], version: string): Promise<void> {
  const port = Number(brokers[0]!.split(':').at(-1));
  const brokerPid = pidListeningOn(port);
  if (brokerPid === undefined)
    console.error(`bench:bus: no process listens on ${brokers[0]} here: broker CPU not measured`);
  // The broker's own background work, measured over an idle second, is taken off each window.
  let idleBrokerMsPerMs = 0;
  if (brokerPid) {
    const cpu = cpuMsOf(brokerPid);
    const at = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    idleBrokerMsPerMs = (cpuMsOf(brokerPid) - cpu) / (performance.now() - at);
  }
  const variants: [string, Partial<KafkaEventBusOptions>][] = [
    ['linger 0 (before)', { lingerMs: 0 }],
    ['linger 1 ms (default)', { lingerMs: 1 }],
    ['linger 2 ms', { lingerMs: 2 }],
    ['linger 1 ms + gzip', { lingerMs: 1, compression: 'gzip' }],
  ];
  const buses = new Map<string, { bus: KafkaEventBus; topic: string }>();
  for (const [name, options] of variants) {
    const bus = new KafkaEventBus({ brokers, clientId: 'bench-group', log: () => {}, ...options });
    const topic = `bench.group.${randomUUID()}`;
    await bus.ensureTopics([{ name: topic, partitions: 6 }]);
    await groupCommitWindow(bus, topic, 2_000, undefined, 0, 0); // connections, JIT
    buses.set(name, { bus, topic });
  }
  for (const workMs of GROUP_WORK_MS) {
    const runs = new Map<string, GroupCommitRun[]>();
    const events = workMs > 0 ? GROUP_EVENTS / 4 : GROUP_EVENTS;
    // Variants take turns, so that a noisy moment of the machine does not fall on one of them only.
    for (let round = 0; round < GROUP_ROUNDS; round += 1)
      for (const [name] of variants) {
        const { bus, topic } = buses.get(name)!;
        const run = await groupCommitWindow(
          bus,
          topic,
          events,
          brokerPid,
          idleBrokerMsPerMs,
          workMs,
        );
        runs.set(name, [...(runs.get(name) ?? []), run]);
      }
    printGroupCommit(version, workMs, events, idleBrokerMsPerMs, variants, runs);
  }
  for (const { bus } of buses.values()) await bus.close();
}

function printGroupCommit(
  version: string,
  workMs: number,
  events: number,
  idleBrokerMsPerMs: number,
  variants: [string, unknown][],
  runs: Map<string, GroupCommitRun[]>,
): void {
  console.log(
    `\ngroup commit, kafka ${version}: ${GROUP_PUBLISHERS} concurrent single-event publishers, ${workMs > 0 ? `${workMs} CPU-ms of work before each publish (one thread, as a token service's signing)` : 'no work between publishes'}, ${GROUP_ROUNDS} x ${events} events per variant, 6 partitions (broker idle ${(idleBrokerMsPerMs * 1000).toFixed(0)} CPU-ms/s, subtracted; noisy on a shared machine)`,
  );
  console.log(
    '| variant               | events/request | broker CPU-ms/event | publisher CPU-ms/event | publishes/s | p50 ms | p99 ms |',
  );
  console.log(
    '|-----------------------|---------------:|--------------------:|-----------------------:|------------:|-------:|-------:|',
  );
  for (const [name] of variants) {
    const all = runs.get(name)!;
    const sum = (pick: (run: GroupCommitRun) => number) =>
      all.reduce((total, run) => total + pick(run), 0);
    const events = sum((r) => r.events);
    const latencies = all.flatMap((r) => r.latencies);
    console.log(
      `| ${name.padEnd(21)} | ${(events / sum((r) => r.requests)).toFixed(1).padStart(14)} | ${(sum((r) => r.brokerCpuMs) / events).toFixed(3).padStart(19)} | ${(sum((r) => r.clientCpuMs) / events).toFixed(3).padStart(22)} | ${Math.round(
        (events / sum((r) => r.ms)) * 1000,
      )
        .toLocaleString('en')
        .padStart(
          11,
        )} | ${percentile(latencies, 50).toFixed(2).padStart(6)} | ${percentile(latencies, 99).toFixed(2).padStart(6)} |`,
    );
  }
}

async function timeEach(samples: number, operation: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples + 200; i += 1) {
    const started = performance.now();
    await operation();
    if (i >= 200) times.push(performance.now() - started);
  }
  return times;
}

async function benchStore(
  name: string,
  store: ProjectionStore,
  baselineP50: number,
  baselineName: string,
): Promise<void> {
  const keys = Array.from({ length: 8 }, (_, i) => `bench:watermark:${i}`);
  await store.write(keys.map((key) => ({ op: 'set' as const, key, value: String(Date.now()) })));
  await store.sadd('bench:revoked', ['jti-1']);
  const cases: [string, () => Promise<unknown>][] = [
    ['mget 8 keys, one round trip', () => store.mget(keys)],
    [
      'read batch: 6 get + 2 sismember',
      () =>
        store.read([
          ...keys.slice(0, 6).map((key) => ({ op: 'get' as const, key })),
          { op: 'sismember', key: 'bench:revoked', member: 'jti-1' },
          { op: 'sismember', key: 'bench:revoked', member: 'jti-2' },
        ]),
    ],
    [
      '8 sequential gets',
      async () => {
        for (const key of keys) await store.get(key);
      },
    ],
  ];
  for (const [what, operation] of cases) {
    const times = await timeEach(STORE_SAMPLES, operation);
    const p50 = percentile(times, 50);
    rows.push({
      what: `${name}: ${what}`,
      p50: us(p50),
      p99: us(percentile(times, 99)),
      rate: perSecond(
        times.length,
        times.reduce((a, b) => a + b, 0),
      ),
      vsBaseline: `${(p50 / baselineP50).toFixed(2)}x ${baselineName}`,
    });
  }
  await store.deleteByPrefix('bench:');
}

const infrastructure = await acquireInfrastructure((line) => console.error(line));
const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
try {
  const deadline = setTimeout(() => {
    console.error('bench:bus: stopped after 5 minutes');
    process.exit(2);
  }, 5 * 60_000);
  deadline.unref();

  await benchGroupCommit(infrastructure.kafka.brokers, infrastructure.kafka.version);
  // BENCH_BUS_ONLY=group-commit: that table alone.
  if (process.env.BENCH_BUS_ONLY !== 'group-commit') {
    const baseline = await kafkajsDefaultsLatency(infrastructure.kafka.brokers);
    const baselineP50 = percentile(baseline, 50);
    rows.push({
      what: 'baseline: kafkajs defaults, publish -> consume',
      p50: ms(baselineP50),
      p99: ms(percentile(baseline, 99)),
      rate: perSecond(
        baseline.length,
        baseline.reduce((a, b) => a + b, 0),
      ),
      vsBaseline: 'baseline',
    });
    const kafka = new KafkaEventBus({
      brokers: infrastructure.kafka.brokers,
      clientId: 'bench',
      log: () => {},
    });
    await benchBus(`kafka ${infrastructure.kafka.version}`, kafka, baselineP50);
    await kafka.close();
    const embedded = await EmbeddedEventBus.open({ dir });
    await benchBus('embedded (fdatasync per batch)', embedded, baselineP50);
    await embedded.close();

    const raw = new Redis(infrastructure.redis.url);
    const ping = await timeEach(STORE_SAMPLES, () => raw.ping());
    const pingP50 = percentile(ping, 50);
    rows.push({
      what: `redis ${infrastructure.redis.version}: PING (one round trip)`,
      p50: us(pingP50),
      p99: us(percentile(ping, 99)),
      rate: perSecond(
        ping.length,
        ping.reduce((a, b) => a + b, 0),
      ),
      vsBaseline: 'baseline',
    });
    raw.disconnect();
    const redis = new RedisProjectionStore({
      url: infrastructure.redis.url,
      keyPrefix: `bench:${randomUUID()}:`,
    });
    await benchStore('redis store', redis, pingP50, 'PING');
    await redis.close();
    const memory = new MemoryProjectionStore();
    await benchStore('memory store', memory, pingP50, 'Redis PING');
    await memory.close();

    const headers: Row = {
      what: 'measure',
      p50: 'p50',
      p99: 'p99',
      rate: 'rate',
      vsBaseline: 'vs baseline',
    };
    const widths = Object.fromEntries(
      (Object.keys(headers) as (keyof Row)[]).map((key) => [
        key,
        Math.max(...[headers, ...rows].map((row) => row[key].length)),
      ]),
    ) as Record<keyof Row, number>;
    const line = (row: Row) =>
      `| ${row.what.padEnd(widths.what)} | ${row.p50.padStart(widths.p50)} | ${row.p99.padStart(widths.p99)} | ${row.rate.padStart(widths.rate)} | ${row.vsBaseline.padEnd(widths.vsBaseline)} |`;
    console.log(`\nbench:bus on ${process.version}, ${new Date().toISOString()}`);
    console.log(line(headers));
    console.log(
      `|${Object.values(widths)
        .map((w) => '-'.repeat(w + 2))
        .join('|')}|`,
    );
    for (const row of rows) console.log(line(row));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await infrastructure.stop();
}
