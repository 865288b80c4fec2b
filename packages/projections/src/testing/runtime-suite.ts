// The projection runtime's tests, run on the embedded bus + in-memory store and on Kafka + Redis.
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@gatehouse/contracts';
import type { EventBus } from '@gatehouse/event-bus';
import { newEnvelope } from '@gatehouse/events';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { afterEach, describe, expect, it } from 'vitest';
import type { Projection } from '../projection.js';
import { ProjectionsBehindError, waitForProjections } from '../read-your-writes.js';
import { rebuildProjections } from '../rebuild.js';
import { ProjectionRunner } from '../runner.js';

export interface RuntimeHarness {
  name: string;
  open(): Promise<{ bus: EventBus; store: ProjectionStore; close(): Promise<void> }>;
}

const event = (tenant: string, seq: number): Envelope =>
  newEnvelope({
    type: 'gatehouse.testing.v1.Counted',
    tenant,
    aggregateId: `${tenant}-${seq}`,
    data: new TextEncoder().encode(String(seq)),
  });

/** Deterministic, idempotent: what a real projection looks like. */
const catalogue = (topic: string, ns: string): Projection => ({
  name: 'catalogue',
  topics: [topic],
  keyPrefixes: [`rm:${ns}:`],
  project: (e) => [
    { op: 'set', key: `rm:${ns}:last:${e.tenant}`, value: e.aggregateId },
    { op: 'sadd', key: `rm:${ns}:all`, members: [e.id] },
    { op: 'hset', key: `rm:${ns}:by-tenant:${e.tenant}`, fields: { [e.aggregateId]: e.id } },
  ],
});

/** Adds a new member on every application: counts how often events were applied. */
const applications = (topic: string, ns: string): Projection => ({
  name: 'applications',
  topics: [topic],
  keyPrefixes: [`rm:${ns}:`],
  project: (e) => [
    { op: 'sadd', key: `rm:${ns}:applications`, members: [`${e.id}/${randomUUID()}`] },
  ],
});

export function describeProjectionRuntime(harness: RuntimeHarness): void {
  describe(`projection runtime: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const setup = async () => {
      const { bus, store, close } = await harness.open();
      const topic = `projections.${randomUUID()}`;
      await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      cleanups.push(close);
      return { bus, store, topic, ns: randomUUID() };
    };
    const run = async (options: Parameters<typeof ProjectionRunner.start>[0]) => {
      const runner = await ProjectionRunner.start(options);
      cleanups.push(() => runner.stop());
      return runner;
    };

    it('applies events and their positions together, so a writer can wait to read its writes', async () => {
      const { bus, store, topic, ns } = await setup();
      await run({ bus, store, projections: [catalogue(topic, ns)], groupId: `g-${ns}` });
      const positions = await bus.publish(topic, [
        event('acme', 1),
        event('globex', 1),
        event('acme', 2),
      ]);
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      expect(await store.mget([`rm:${ns}:last:acme`, `rm:${ns}:last:globex`])).toEqual([
        'acme-2',
        'globex-1',
      ]);
      expect(await store.smembers(`rm:${ns}:all`)).toHaveLength(3);
    });

    it('never applies an event twice, even when a new group reads the topic again from offset 0', async () => {
      const { bus, store, topic, ns } = await setup();
      const projection = applications(topic, ns);
      const first = await run({ bus, store, projections: [projection], groupId: `first-${ns}` });
      const positions = await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => event('acme', i)),
      );
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      await first.stop();
      // Every event is delivered again to this group; all must be skipped.
      await run({ bus, store, projections: [projection], groupId: `second-${ns}` });
      const [last] = await bus.publish(topic, [event('acme', 10)]); // same tenant: same partition, after the others
      await waitForProjections(store, [last!], { timeoutMs: 30_000 });
      expect(await store.smembers(`rm:${ns}:applications`)).toHaveLength(11);
    });

    it('rebuilds the read models from offset 0, identical to the original', async () => {
      const { bus, store, topic, ns } = await setup();
      const projection = catalogue(topic, ns);
      const runner = await run({ bus, store, projections: [projection], groupId: `g-${ns}` });
      const tenants = ['acme', 'globex', 'initech', 'umbrella'];
      const positions = [];
      for (let i = 0; i < 60; i += 1)
        positions.push(...(await bus.publish(topic, [event(tenants[i % 4]!, i)])));
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      await runner.stop();
      const snapshot = async () => [
        ...(await store.dump(`rm:${ns}:`)),
        ...(await store.dump(`pos:${topic}:`)),
      ];
      const original = await snapshot();
      expect(original.length).toBeGreaterThan(8);

      await store.deleteByPrefix(`rm:${ns}:`);
      expect(await store.dump(`rm:${ns}:`)).toEqual([]);
      const result = await rebuildProjections({
        bus,
        store,
        projections: [projection],
        batchSize: 25,
      });
      expect(result.events).toBe(60);
      expect(await snapshot()).toEqual(original);
    });

    it('gives up waiting for read-your-writes after the bound when no projector runs', async () => {
      const { bus, store, topic } = await setup();
      const positions = await bus.publish(topic, [event('acme', 1)]);
      const started = Date.now();
      await expect(waitForProjections(store, positions, { timeoutMs: 300 })).rejects.toBeInstanceOf(
        ProjectionsBehindError,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });
}
