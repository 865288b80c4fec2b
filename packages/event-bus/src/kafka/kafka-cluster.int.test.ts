// The event bus on a 3-broker KRaft cluster (SPEC section 9: replication factor 3,
// min.insync.replicas 2): topics get those settings, a topic replicated less is refused, and a
// partition's leader killed mid-stream (listed first to the publisher, where kafkajs starts) neither
// stops publishing for long nor loses an acknowledged event. The cluster is the testkit's
// `kafkaBrokers: 3`: GATEHOUSE_KAFKA_CLUSTER_DIR (`infra/local/kafka.sh start --brokers 3 --dir DIR`,
// reused), else three containers when a container runtime answers, else infra/local (a fresh cluster
// takes 35-60 s to start on a busy 2-core machine).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  acquireInfrastructure,
  type KafkaHandle,
  kafkaPartitionLeader,
  startKafkaNode,
  stopKafkaNode,
  type TestInfrastructure,
} from '@gatehouse/testkit';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicReplicationError } from '../port.js';
import { numberedEvent } from '../testing/numbered-events.js';
import { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.js';

const topicResource = 2; // kafkajs's ConfigResourceTypes.TOPIC
let infrastructure: TestInfrastructure;
let kafka: KafkaHandle;
let admin: Admin;

beforeAll(async () => {
  infrastructure = await acquireInfrastructure((line) => console.info(line), { kafkaBrokers: 3 });
  kafka = infrastructure.kafka;
  admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  await admin?.disconnect();
  await infrastructure?.stop();
}, 60_000);

function bus(options: Partial<KafkaEventBusOptions> = {}): KafkaEventBus {
  return new KafkaEventBus({
    brokers: kafka.brokers,
    clientId: `cluster-${randomUUID().slice(0, 8)}`,
    replicationFactor: 3,
    minInsyncReplicas: 2,
    log: () => {}, // a killed broker makes kafkajs complain on purpose
    ...options,
  });
}

/** Metadata from any broker: one may not know a topic the controller created a moment ago. */
async function replication(topic: string): Promise<{ replicas: number[]; isr: number[] }> {
  let metadata: Awaited<ReturnType<Admin['fetchTopicMetadata']>> | undefined;
  for (let tries = 0; !metadata; tries++) {
    try {
      metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    } catch (error) {
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || tries > 50)
        throw error;
      await sleep(100);
    }
  }
  const { topics } = metadata;
  const partitions = topics[0]!.partitions;
  return {
    replicas: partitions.map((p) => p.replicas.length),
    isr: partitions.map((p) => p.isr.length),
  };
}

async function minInsync(topic: string): Promise<string | undefined> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: topicResource, name: topic, configNames: ['min.insync.replicas'] }],
  });
  return resources[0]!.configEntries[0]?.configValue;
}

describe('KafkaEventBus on a 3-broker cluster', () => {
  it('creates topics replicated 3 times with 2 in sync, and refuses topics or clusters below that', async () => {
    const replicated = bus();
    const thin = bus({ replicationFactor: 1, minInsyncReplicas: 1 });
    const created: string[] = [];
    try {
      const topic = `replicated.${randomUUID()}`;
      await replicated.ensureTopics([{ name: topic, partitions: 3 }]);
      expect(await replication(topic)).toEqual({ replicas: [3, 3, 3], isr: [3, 3, 3] });
      expect(await minInsync(topic)).toBe('2');
      await replicated.ensureTopics([{ name: topic, partitions: 3 }]); // every start asks again

      // Created by a deployment set for one broker, then started with the cluster's settings.
      const single = `single.${randomUUID()}`;
      created.push(single);
      await thin.ensureTopics([{ name: single, partitions: 1 }]);
      const refused = replicated.ensureTopics([{ name: single, partitions: 1 }]);
      await expect(refused).rejects.toBeInstanceOf(TopicReplicationError);
      await expect(refused).rejects.toThrow(
        /keeps 1 copy\(ies\) of some partitions, fewer than the replication factor 3/,
      );

      // Three copies, but acknowledged once one has it.
      const lax = `lax.${randomUUID()}`;
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic: lax,
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [
              { name: 'retention.ms', value: '-1' },
              { name: 'min.insync.replicas', value: '1' },
            ],
          },
        ],
      });
      await replication(lax);
      await expect(replicated.ensureTopics([{ name: lax, partitions: 1 }])).rejects.toThrow(
        /min.insync.replicas=1\), fewer than the 2 required.*--add-config min.insync.replicas=2/,
      );

      // More copies than brokers: said before the broker's own refusal, naming the setting.
      const wide = bus({ replicationFactor: 4 });
      try {
        await expect(wide.ensureTopics([{ name: `wide.${randomUUID()}` }])).rejects.toThrow(
          /the cluster has 3 broker\(s\) up, fewer than the replication factor 4.*GATEHOUSE_KAFKA_REPLICATION_FACTOR/,
        );
      } finally {
        await wide.close();
      }
    } finally {
      await replicated.close();
      await thin.close();
      // A topic of one copy is leaderless while its broker is down, and kafkajs's idempotent
      // producer, on connecting, reads the metadata of every topic and fails on any partition
      // without a leader: left here, it would stop the next test's publisher when that broker is
      // the one killed. (With every topic replicated 3 times, as services create them, no
      // partition is leaderless with one broker down.)
      await admin.deleteTopics({ topics: created.filter((t) => t.startsWith('single.')) });
    }
  });

  it('keeps publishing when the leader of a partition is killed, loses no acknowledged event, and takes the node back', async () => {
    const reader = bus();
    const topic = `failover.${randomUUID()}`;
    // One partition: its leader is the only node every publish needs.
    await reader.ensureTopics([{ name: topic, partitions: 1 }]);
    let killed: number | undefined = await kafkaPartitionLeader(kafka, topic, 0);
    // The node to be killed listed first: kafkajs starts a new client's connections there.
    const doomed = kafka.brokers[killed - 1]!;
    const clientLog: string[] = []; // kafkajs's complaints, said when the test fails
    const publisher = bus({
      brokers: [doomed, ...kafka.brokers.filter((b) => b !== doomed)],
      publishTimeoutMs: 2_000,
      log: (entry) =>
        void clientLog.push(
          `${entry.level} ${entry.message} ${JSON.stringify(entry).slice(0, 300)}`,
        ),
    });
    try {
      const acknowledged = new Set<string>();
      let failed = 0;
      const reasons = new Map<string, number>(); // why publishes failed: said when the test fails
      let running = true;
      const publishing = (async () => {
        for (let seq = 0; running; seq++) {
          const event = numberedEvent('tenant-a', seq);
          try {
            await publisher.publish(topic, [event]);
            acknowledged.add(event.id);
          } catch (error) {
            failed++; // told it failed: not acknowledged, so not counted
            const reason = String((error as Error).message).slice(0, 200);
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
            await sleep(50);
          }
        }
      })();
      const until = async (what: string, done: () => boolean | Promise<boolean>, ms: number) => {
        const deadline = Date.now() + ms;
        while (!(await done())) {
          if (Date.now() > deadline)
            throw new Error(
              `not within ${ms} ms: ${what} (${acknowledged.size} acknowledged; failures: ${JSON.stringify([...reasons])}; last client log: ${clientLog.slice(-8).join(' | ')})`,
            );
          await sleep(100);
        }
      };
      try {
        await until('50 events acknowledged', () => acknowledged.size >= 50, 20_000);
        await stopKafkaNode(kafka, killed); // SIGKILL: no controlled shutdown, no leadership handed over
        const beforeKill = acknowledged.size;
        const killedAt = Date.now();
        await until(
          '50 more acknowledged with the leader dead',
          () => acknowledged.size >= beforeKill + 50,
          30_000,
        );
        const failoverMs = Date.now() - killedAt;
        const leader = await kafkaPartitionLeader(kafka, topic, 0);
        expect(leader).not.toBe(killed);
        // Two in sync (min.insync.replicas 2) is enough to acknowledge.
        expect((await replication(topic)).isr).toEqual([2]);
        console.info(
          `cluster: node ${killed} (leader) killed; publishing again within ${failoverMs} ms on node ${leader}; ${failed} publishes told they failed`,
        );

        const restartedAt = Date.now();
        await startKafkaNode(kafka, killed);
        await until(
          'the restarted node back in sync',
          async () => (await replication(topic)).isr[0] === 3,
          60_000,
        );
        console.info(
          `cluster: node ${killed} back in sync ${Date.now() - restartedAt} ms after its start`,
        );
        killed = undefined;
      } finally {
        running = false;
        await publishing;
      }

      const read = new Set<string>();
      await reader.replay(topic, async (event) => {
        read.add(event.envelope.id);
      });
      const lost = [...acknowledged].filter((id) => !read.has(id));
      expect(lost).toEqual([]);
      expect(acknowledged.size).toBeGreaterThanOrEqual(100);
    } finally {
      // A failed assertion must not leave the shared cluster one node short.
      if (killed !== undefined) await startKafkaNode(kafka, killed).catch(() => {});
      await publisher.close();
      await reader.close();
    }
  }, 150_000);
});
