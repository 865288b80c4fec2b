// The projector reads again what the store lost. A Redis failover can promote a replica that lacks
// the last writes the old primary acknowledged, while Kafka keeps the group's offsets past those
// events: here the loss is made by hand (the last events' writes and their position taken back, as
// the promoted replica would have them), once under a running projector (its check of positions
// finds it) and once while no projector runs (the next one seeks back at assignment). Either way
// the read models and the caught-up beacon come back without anyone restarting anything.
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@gatehouse/contracts';
import { KafkaEventBus } from '@gatehouse/event-bus';
import { newEnvelope } from '@gatehouse/events';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { testKafka, testRedis } from '@gatehouse/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { caughtUpAtKey, type Projection, positionKey } from './projection.js';
import { ProjectionRunner } from './runner.js';

const kafka = testKafka();
const redis = testRedis();

const event = (seq: number): Envelope =>
  newEnvelope({
    type: 'gatehouse.testing.v1.Counted',
    tenant: 'acme',
    aggregateId: `acme-${seq}`,
    data: new TextEncoder().encode(String(seq)),
  });

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('projector after the store lost writes', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const setup = async () => {
    const bus = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'heal-test', log: () => {} });
    const store = new RedisProjectionStore({ url: redis.url, keyPrefix: `test:${randomUUID()}:` });
    cleanups.push(async () => {
      await bus.close();
      await store.deleteByPrefix('');
      await store.close();
    });
    const topic = `projections.heal.${randomUUID()}`;
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const ns = randomUUID();
    const projection: Projection = {
      name: 'catalogue',
      topics: [topic],
      keyPrefixes: [`rm:${ns}:`],
      project: (e) => [{ op: 'sadd', key: `rm:${ns}:all`, members: [e.aggregateId] }],
    };
    const all = `rm:${ns}:all`;
    const position = positionKey(topic, 0);
    const start = async () => {
      const runner = await ProjectionRunner.start({
        bus,
        store,
        projections: [projection],
        groupId: `heal-${ns}`,
        healIntervalMs: 200,
        beaconIntervalMs: 100,
      });
      cleanups.push(() => runner.stop());
      return runner;
    };
    /** Takes back the writes of the events after `keep`, and the position with them. */
    const lose = async (keep: number, total: number) => {
      const lost = Array.from({ length: total - keep - 1 }, (_, i) => `acme-${keep + 1 + i}`);
      await store.write([
        { op: 'srem', key: all, members: lost },
        { op: 'set', key: position, value: String(keep) },
      ]);
      return Date.now();
    };
    const healed = async (total: number, since: number) =>
      (await store.smembers(all)).length === total &&
      (await store.get(position)) === String(total - 1) &&
      Number(await store.get(caughtUpAtKey)) > since;
    return { bus, store, topic, all, start, lose, healed };
  };

  it('finds the loss under a running projector and applies the lost events again', async () => {
    const { bus, store, topic, all, start, lose, healed } = await setup();
    await start();
    await bus.publish(
      topic,
      Array.from({ length: 20 }, (_, i) => event(i)),
    );
    await waitFor('the 20 events', async () => (await store.smembers(all)).length === 20);
    const lostAt = await lose(11, 20);
    await waitFor('the lost events applied again', () => healed(20, lostAt));
    console.log(`projector healed a loss of 8 events in ${Date.now() - lostAt} ms (running)`);
    await bus.publish(topic, [event(20)]);
    await waitFor('the next event', async () => (await store.smembers(all)).length === 21);
    expect(await store.get(positionKey(topic, 0))).toBe('20');
  }, 60_000);

  it('seeks back at assignment when the loss happened while no projector ran', async () => {
    const { bus, store, topic, all, start, lose, healed } = await setup();
    const first = await start();
    await bus.publish(
      topic,
      Array.from({ length: 20 }, (_, i) => event(i)),
    );
    await waitFor('the 20 events', async () => (await store.smembers(all)).length === 20);
    await first.stop(); // commits offset 20: Kafka will not hand the group these events again
    const lostAt = await lose(4, 20);
    await start();
    await waitFor('the lost events applied again', () => healed(20, lostAt));
    console.log(`projector healed a loss of 15 events in ${Date.now() - lostAt} ms (restarted)`);
  }, 60_000);
});
