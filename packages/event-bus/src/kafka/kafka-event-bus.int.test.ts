import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Envelope } from '@gatehouse/contracts';
import { allTopics, Topics } from '@gatehouse/events';
import { brokerControllable, restartKafka, testKafka } from '@gatehouse/testkit';
import { describe, expect, it, vi } from 'vitest';
import { openEventBus } from '../open.js';
import { EventBusUnavailableError, TopicRetentionError } from '../port.js';
import { describeEventBusConformance } from '../testing/conformance.js';
import { numberedEvent, sequenceOf } from '../testing/numbered-events.js';

const kafka = testKafka();
const clientId = `conformance-${randomUUID().slice(0, 8)}`;

const withAdmin = async <T>(use: (admin: import('kafkajs').Admin) => Promise<T>) => {
  const { Kafka } = await import('kafkajs');
  const admin = new Kafka({ clientId, brokers: [...kafka.brokers], logLevel: 0 }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
};

describeEventBusConformance({
  name: `kafka ${kafka.version}`,
  config: () => ({
    kind: 'kafka',
    brokers: kafka.brokers,
    clientId,
    // The broker's minimum: a killed member's partitions move on after at most this long.
    sessionTimeoutMs: 6_000,
    log: () => {}, // the suite provokes connection errors on purpose
  }),
  disrupt: brokerControllable(kafka)
    ? async () => {
        await restartKafka(kafka);
        return { publisherKilled: false };
      }
    : undefined,
  takeoverMs: 6_000,
});

// kafkajs commits after every fetched batch of every partition: with small fetches, an OffsetCommit
// request (and an append to __consumer_offsets) per event or two. The adapter commits what was
// handled every commitIntervalMs instead, and at a clean close.
describe(`KafkaEventBus on kafka ${kafka.version}: commits`, () => {
  it('commits handled offsets once per interval, not after every fetched batch, and all of them at close', async () => {
    const bus = await openEventBus({
      kind: 'kafka',
      brokers: kafka.brokers,
      clientId,
      // Longer than the test: every commit before close would be kafkajs's own, per batch.
      commitIntervalMs: 10 * 60_000,
      log: () => {},
    });
    try {
      const topic = `commits.${randomUUID()}`;
      await bus.ensureTopics([{ name: topic, partitions: 2 }]);
      const groupId = `commits-${randomUUID()}`;
      let handled = 0;
      const subscription = await bus.subscribe({
        groupId,
        topics: [topic],
        handler: async () => {
          handled++;
        },
      });
      // 40 publishes one after the other, each delivered in a fetch of its own.
      for (let i = 0; i < 40; i++) {
        await bus.publish(topic, [numberedEvent(`t${i % 2}`, i)]);
        await vi.waitFor(() => expect(handled).toBe(i + 1), { timeout: 10_000, interval: 5 });
      }
      const committed = () =>
        withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] })).then(([offsets]) =>
          offsets!.partitions.map((p) => Number(p.offset)),
        );
      // Nothing committed yet (-1: no offset), although every event was handled.
      expect(await committed()).toEqual([-1, -1]);
      await subscription.close();
      const ends = await bus.endOffsets(topic);
      expect((await committed()).sort()).toEqual([...ends.values()].map(Number).sort());
    } finally {
      await bus.close();
    }
  });
});

// kafkajs 2.2.4 re-armed a timer on every broker connection whenever it checked its queue, even
// with nothing queued: hundreds of timer callbacks a second per connection, and an idle service
// spent about 6% of a core on them (tulios/kafkajs#1556). infra/patches/kafkajs@2.2.4.patch checks the queue only when
// something waits in it; this counts the checks of an idle subscriber to show the patch is applied.
describe(`KafkaEventBus on kafka ${kafka.version}: idle connections`, () => {
  it('leaves an idle subscriber’s connections quiet (the kafkajs idle-loop patch)', async () => {
    const RequestQueue = createRequire(import.meta.url)(
      'kafkajs/src/network/requestQueue/index.js',
    ) as { prototype: { checkPendingRequests: (...args: unknown[]) => unknown } };
    const original = RequestQueue.prototype.checkPendingRequests;
    let checks = 0;
    RequestQueue.prototype.checkPendingRequests = function (this: unknown, ...args: unknown[]) {
      checks++;
      return original.apply(this, args);
    };
    const bus = await openEventBus({
      kind: 'kafka',
      brokers: kafka.brokers,
      clientId,
      log: () => {},
    });
    try {
      const topic = `idle.${randomUUID()}`;
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
      const subscription = await bus.subscribe({
        groupId: `idle-${randomUUID()}`,
        topics: [topic],
        handler: async () => {},
      });
      await sleep(500);
      checks = 0;
      await sleep(2_000);
      const idleChecks = checks;
      await subscription.close();
      // Patched: one check per answered request (a fetch every maxWaitMs, 100 ms, and heartbeats):
      // about 20 in 2 s. Unpatched: about 800.
      expect(idleChecks).toBeGreaterThan(0);
      expect(idleChecks).toBeLessThan(200);
    } finally {
      RequestQueue.prototype.checkPendingRequests = original;
      await bus.close();
    }
  });
});

// SPEC section 1: the log is the source of truth and a rebuild reads it from offset 0, so a topic
// must never delete or compact what it holds (gatehouse.grants only after its configured days).
describe(`KafkaEventBus on kafka ${kafka.version}: topics keep their events`, () => {
  const configOf = (topic: string) =>
    withAdmin(async (admin) => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic }], // ConfigResourceTypes.TOPIC
      });
      return Object.fromEntries(
        resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]),
      );
    });

  it('creates topics that keep their events for ever, or as long as their spec says', async () => {
    const bus = await openEventBus({
      kind: 'kafka',
      brokers: kafka.brokers,
      clientId,
      log: () => {},
    });
    try {
      const forever = `kept.${randomUUID()}`;
      const days = `days.${randomUUID()}`;
      await bus.ensureTopics([
        { name: forever, partitions: 1 },
        { name: days, partitions: 1, retentionMs: 2000 * 86_400_000 },
      ]);
      expect(await configOf(forever)).toMatchObject({
        'retention.ms': '-1',
        'retention.bytes': '-1',
        'cleanup.policy': 'delete',
      });
      expect((await configOf(days))['retention.ms']).toBe(String(2000 * 86_400_000));
      // Asked again (every service at its start): accepted as it is.
      await bus.ensureTopics([{ name: forever }, { name: days, retentionMs: 1900 * 86_400_000 }]);
    } finally {
      await bus.close();
    }
  });

  it("refuses existing topics that would lose events: the broker's default retention, a byte limit, compaction", async () => {
    const bus = await openEventBus({
      kind: 'kafka',
      brokers: kafka.brokers,
      clientId,
      log: () => {},
    });
    try {
      const cases: [Record<string, string>, RegExp][] = [
        [{}, /deletes events after 604800000 ms/],
        [{ 'retention.ms': '-1', 'retention.bytes': '1073741824' }, /beyond 1073741824 bytes/],
        [{ 'retention.ms': '-1', 'cleanup.policy': 'compact' }, /compacts events/],
      ];
      for (const [config, message] of cases) {
        const topic = `lossy.${randomUUID()}`;
        await withAdmin((admin) =>
          admin.createTopics({
            waitForLeaders: true,
            topics: [
              {
                topic,
                numPartitions: 1,
                configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
              },
            ],
          }),
        );
        const refused = bus.ensureTopics([{ name: topic }]);
        await expect(refused).rejects.toBeInstanceOf(TopicRetentionError);
        await expect(refused).rejects.toThrow(message);
        await expect(refused).rejects.toThrow(`retention.ms=-1`);
      }
      // A finite retention below what the spec requires, too.
      const short = `short.${randomUUID()}`;
      await bus.ensureTopics([{ name: short, retentionMs: 30 * 86_400_000 }]);
      await expect(
        bus.ensureTopics([{ name: short, retentionMs: 1900 * 86_400_000 }]),
      ).rejects.toThrow(/below the 164160000000 ms required/);
    } finally {
      await bus.close();
    }
  });
});

// SPEC section 7: grant and revocation events are keyed by their grant, so one busy tenant spreads
// over every partition (and every projector replica), while one grant's events keep their order.
describe(`KafkaEventBus on kafka ${kafka.version}: partition keys`, () => {
  it("spreads one tenant's grants over every partition, keeps each grant in one, and its directory in one", async () => {
    const bus = await openEventBus({
      kind: 'kafka',
      brokers: kafka.brokers,
      clientId,
      log: () => {},
    });
    try {
      await bus.ensureTopics(allTopics.map((name) => ({ name })));
      const tenant = `hot-${randomUUID().slice(0, 8)}`;
      const partitionCount = (await bus.endOffsets(Topics.grants)).size;
      expect(partitionCount).toBeGreaterThan(1);
      const grantEvent = (grant: string, seq: number) => ({
        ...numberedEvent(tenant, seq),
        aggregateId: grant,
      });
      // 200 grants of one tenant: with 6 partitions, one left out would happen once in 10^15 runs.
      const grants = Array.from({ length: 200 }, () => randomUUID());
      const issued = await bus.publish(
        Topics.grants,
        grants.map((grant, i) => grantEvent(grant, i)),
      );
      expect(new Set(issued.map((p) => p.partition)).size).toBe(partitionCount);
      // One grant's later events (rotated, revoked) land in its partition, after its first.
      const [grant] = grants;
      const later = [
        ...(await bus.publish(Topics.grants, [grantEvent(grant!, 1000)])),
        ...(await bus.publish(Topics.revocations, [grantEvent(grant!, 1001)])),
        ...(await bus.publish(Topics.revocations, [grantEvent(grant!, 1002)])),
      ];
      expect(later[0]!.partition).toBe(issued[0]!.partition);
      expect(later[0]!.offset).toBeGreaterThan(issued[0]!.offset);
      expect(later[2]!.partition).toBe(later[1]!.partition);
      expect(later[2]!.offset).toBeGreaterThan(later[1]!.offset);
      // The tenant's directory stays in one partition: totally ordered.
      const directory = await bus.publish(
        Topics.directory,
        grants.slice(0, 50).map((grant, i) => grantEvent(grant, i)),
      );
      expect(new Set(directory.map((p) => p.partition)).size).toBe(1);
    } finally {
      await bus.close();
    }
  });
});

// Issue 21: a random group per process and restart left 24 groups behind after a few restarts.
describe(`KafkaEventBus on kafka ${kafka.version}: a process's own followers`, () => {
  const groups = () =>
    withAdmin(async (admin) => (await admin.listGroups()).groups.map((g) => g.groupId));
  const open = () =>
    openEventBus({ kind: 'kafka', brokers: kafka.brokers, clientId, log: () => {} }) as Promise<
      import('./kafka-event-bus.js').KafkaEventBus
    >;

  it('starts an ephemeral group at the end whatever it committed before, and leaves no group when closed', async () => {
    const topic = `follow.${randomUUID()}`;
    const groupId = `follower.${randomUUID().slice(0, 8)}`;
    const bus = await open();
    try {
      await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      // An earlier life of the group (a crash, before groups were deleted) committed offset 0..4.
      await bus.publish(
        topic,
        [0, 1, 2, 3, 4].map((i) => numberedEvent(`t${i}`, i)),
      );
      const earlier: number[] = [];
      const first = await bus.subscribe({
        groupId,
        topics: [topic],
        handler: async ({ envelope }) => void earlier.push(sequenceOf(envelope)),
      });
      await vi.waitFor(() => expect(earlier).toHaveLength(5), { timeout: 20_000 });
      await first.close();
      await bus.publish(topic, [numberedEvent('t9', 5)]); // while nobody follows
      // Three restarts of a follower with the same id: each sees only what comes after it.
      for (const round of [6, 7, 8]) {
        const seen: number[] = [];
        const follower = await bus.subscribe({
          groupId,
          topics: [topic],
          ephemeral: true,
          handler: async ({ envelope }) => void seen.push(sequenceOf(envelope)),
        });
        await bus.publish(topic, [numberedEvent('t0', round)]);
        await vi.waitFor(() => expect(seen).toEqual([round]), { timeout: 20_000 });
        expect((await bus.probe()).ok).toBe(true);
        await follower.close();
        expect(await groups()).not.toContain(groupId);
      }
    } finally {
      await bus.close();
    }
  });

  it('reports a follower group that another process joined with the same id', async () => {
    const topic = `follow.${randomUUID()}`;
    const groupId = `follower.${randomUUID().slice(0, 8)}`;
    const [one, two] = [await open(), await open()];
    try {
      await one.ensureTopics([{ name: topic, partitions: 4 }]);
      const follow = (bus: typeof one) =>
        bus.subscribe({ groupId, topics: [topic], ephemeral: true, handler: async () => {} });
      const first = await follow(one);
      expect((await one.probe()).ok).toBe(true);
      await follow(two);
      await vi.waitFor(
        async () => {
          const probe = await one.probe();
          expect(probe.ok).toBe(false);
          expect(probe.reason).toContain('GATEHOUSE_REPLICA_ID');
        },
        { timeout: 20_000 },
      );
      await first.close();
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe(`KafkaEventBus on kafka ${kafka.version}: a request the broker refuses in part`, () => {
  it('answers the callers of the partitions a request appended, fails those of the partition the broker refused, and appends nothing twice', async () => {
    // A topic whose own max.message.bytes is below what the bus lets one publish carry: the
    // broker refuses the big event's partition and appends the other partitions of the request,
    // while kafkajs throws for the whole request without saying which.
    const topic = `refused.${randomUUID()}`;
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: 6,
            replicationFactor: 1,
            configEntries: [{ name: 'max.message.bytes', value: '4096' }],
          },
        ],
      }),
    );
    const bus = await openEventBus({
      kind: 'kafka',
      brokers: kafka.brokers,
      clientId,
      log: () => {},
    });
    try {
      await bus.publish(topic, [numberedEvent('warm-up', -1)]);
      const big = numberedEvent('big', 1_000);
      const oversized = {
        ...big,
        data: Buffer.from(JSON.stringify({ seq: 1_000, pad: 'x'.repeat(20_000) })),
      };
      const small = Array.from({ length: 30 }, (_, i) => numberedEvent(`t${i}`, i));
      const calls = [...small.slice(0, 15), oversized, ...small.slice(15)];
      // Started together, they go out in one request (the linger gathers them).
      const settled = await Promise.allSettled(calls.map((event) => bus.publish(topic, [event])));
      const stored = new Map<string, string[]>();
      await bus.replay(topic, async (event) => {
        stored.set(event.envelope.id, [
          ...(stored.get(event.envelope.id) ?? []),
          `${event.partition}:${event.offset}`,
        ]);
      });
      // Nothing twice, nothing of the refused event.
      expect([...stored.values()].filter((at) => at.length > 1)).toEqual([]);
      expect(stored.has(oversized.id)).toBe(false);
      const failed: Envelope[] = [];
      const acknowledgedPartitions = new Set<number>();
      for (const [i, result] of settled.entries()) {
        if (result.status === 'fulfilled') {
          const [position] = result.value;
          expect(stored.get(calls[i]!.id)).toEqual([`${position!.partition}:${position!.offset}`]);
          acknowledgedPartitions.add(position!.partition);
        } else {
          // Its partition was refused, and it had no event elsewhere: nothing of it is in the log.
          expect(result.reason).toBeInstanceOf(EventBusUnavailableError);
          expect(String(result.reason.message)).toContain('MESSAGE_TOO_LARGE');
          expect(result.reason.mayHaveBeenAppended).toBe(false);
          failed.push(calls[i]!);
        }
      }
      expect(failed.map((e) => e.id)).toContain(oversized.id);
      // Exactly the callers of the refused partition failed: the other partitions' callers of the
      // same request were told where the broker appended their events.
      const [bigPartition] = await bus.publish(topic, [numberedEvent('big', 1_001)]);
      for (const event of failed.filter((e) => e.id !== oversized.id)) {
        const [again] = await bus.publish(topic, [{ ...event, id: randomUUID() }]);
        expect(again!.partition).toBe(bigPartition!.partition);
      }
      expect(acknowledgedPartitions.has(bigPartition!.partition)).toBe(false);
      expect(acknowledgedPartitions.size).toBeGreaterThan(1);
      // The bus goes on: the next publishes are acknowledged and stored once.
      const after = await Promise.all(
        small.slice(0, 5).map((e) => bus.publish(topic, [{ ...e, id: randomUUID() }])),
      );
      expect(after.flat()).toHaveLength(5);
    } finally {
      await bus.close();
    }
  });
});
