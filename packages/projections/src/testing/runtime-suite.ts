// The projection runtime's tests, run on the embedded bus + in-memory store and on Kafka + Redis.
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@gatehouse/contracts';
import type { DeliveredEvent, EventBus } from '@gatehouse/event-bus';
import { newEnvelope } from '@gatehouse/events';
import {
  GenerationalStore,
  NoGenerationError,
  type ProjectionStore,
} from '@gatehouse/projection-store';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../commands.js';
import { type Projection, positionKey, topicPositionPrefix } from '../projection.js';
import { ProjectionsBehindError, waitForProjections } from '../read-your-writes.js';
import { rebuildProjections } from '../rebuild.js';
import { ProjectionRunner } from '../runner.js';
import { commandOutcomeKey, decodeSnapshot, streamKey, type WriteModel } from '../write-models.js';

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

/** A write model of counters: each `Counted` event adds one to the stream it names in its data. */
const counters = (topic: string): WriteModel => ({
  name: 'counters',
  topics: [topic],
  changes: (e) => [
    {
      stream: `counter/${new TextDecoder().decode(e.data)}`,
      evolve: (state) => ((state as number | undefined) ?? 0) + 1,
    },
  ],
});

/** Records which events were applied, decided by the counters' commands. */
const counted = (topic: string, ns: string): Projection => ({
  name: 'counted',
  topics: [topic],
  keyPrefixes: [`rm:${ns}:`],
  project: (e) => [{ op: 'sadd', key: `rm:${ns}:applied`, members: [e.id] }],
  writeModel: counters(topic),
});

/** A command's events by hand: `counter` named in each, `expected` on the first. */
const command = (tenant: string, counter: string, count: number, expected: number) => {
  const commandId = randomUUID();
  return Array.from({ length: count }, (_, i) =>
    newEnvelope({
      type: 'gatehouse.testing.v1.Counted',
      tenant,
      aggregateId: counter,
      data: new TextEncoder().encode(counter),
      commandId,
      ...(i === 0
        ? { expectedVersions: [{ stream: `counter/${counter}`, version: expected }] }
        : {}),
    }),
  );
};

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

    it('admits a command only on the versions it decided on; a refused one changes nothing, in a rebuild too', async () => {
      const { bus, store, topic, ns } = await setup();
      const projection = counted(topic, ns);
      const runner = await run({ bus, store, projections: [projection], groupId: `g-${ns}` });
      const tenant = `t-${ns}`;
      // Two commands decided on version 0 of counter/x: the first in the log applies, both events.
      const first = command(tenant, 'x', 2, 0);
      const second = command(tenant, 'x', 1, 0);
      const third = command(tenant, 'x', 1, 2);
      const positions = await bus.publish(topic, [...first, ...second, ...third]);
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      const outcome = (events: Envelope[]) =>
        store.get(commandOutcomeKey(tenant, events[0]!.commandId));
      expect(await outcome(first)).toBe('applied');
      expect(await outcome(second)).toBe('refused');
      expect(await outcome(third)).toBe('applied');
      const stateNow = async () => ({
        counter: decodeSnapshot(await store.get(streamKey(tenant, 'counter/x'))),
        applied: (await store.smembers(`rm:${ns}:applied`)).sort(),
      });
      const live = await stateNow();
      expect(live.counter).toEqual({ version: 3, state: 3 });
      expect(live.applied).toEqual([...first, ...third].map((e) => e.id).sort());
      await runner.stop();
      await store.deleteByPrefix('rm:');
      await rebuildProjections({ bus, store, projections: [projection] });
      expect(await stateNow()).toEqual(live);
    });

    it('ignores a copy of a command appended again right after it (a producer retry)', async () => {
      const { bus, store, topic, ns } = await setup();
      await run({ bus, store, projections: [counted(topic, ns)], groupId: `g-${ns}` });
      const tenant = `t-${ns}`;
      const once = command(tenant, 'w', 2, 0);
      // The same events twice in a row, as a producer that could not tell a lost answer from a
      // lost request sends them again; then the next command, decided after the first.
      const next = command(tenant, 'w', 1, 2);
      const positions = await bus.publish(topic, [...once, ...once, ...next]);
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      expect(await store.get(commandOutcomeKey(tenant, once[0]!.commandId))).toBe('applied');
      expect(await store.get(commandOutcomeKey(tenant, next[0]!.commandId))).toBe('applied');
      expect(decodeSnapshot(await store.get(streamKey(tenant, 'counter/w')))).toEqual({
        version: 3,
        state: 3,
      });
    });

    it("applies a command's later events as its first was decided, across a change of projector", async () => {
      const { bus, store, topic, ns } = await setup();
      const projection = counted(topic, ns);
      const tenant = `t-${ns}`;
      // The first runner stops right after the refused command's first event.
      let stopAt: ((event: DeliveredEvent) => boolean) | undefined;
      let reached!: () => void;
      const stopped = new Promise<void>((resolve) => {
        reached = resolve;
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const firstRunner = await run({
        bus,
        store,
        projections: [projection],
        groupId: `first-${ns}`,
        beforeApply: async (event) => {
          if (stopAt?.(event)) {
            reached();
            await released; // held until the test is over: this projector is gone meanwhile
            throw new Error('this projector was replaced');
          }
        },
      });
      cleanups.push(async () => release());
      await waitForProjections(store, await bus.publish(topic, command(tenant, 'y', 1, 0)), {
        timeoutMs: 20_000,
      });
      const refused = command(tenant, 'y', 3, 0); // decided on version 0, which no longer holds
      stopAt = (event) => event.envelope.id === refused[1]!.id;
      const positions = await bus.publish(topic, refused);
      await stopped;
      void firstRunner.stop().catch(() => {});
      // Another projector takes over at the command's second event: it must follow the first.
      await run({ bus, store, projections: [projection], groupId: `second-${ns}` });
      await waitForProjections(store, positions, { timeoutMs: 30_000 });
      expect(await store.get(commandOutcomeKey(tenant, refused[0]!.commandId))).toBe('refused');
      expect(decodeSnapshot(await store.get(streamKey(tenant, 'counter/y')))).toEqual({
        version: 1,
        state: 1,
      });
      const applied = await store.smembers(`rm:${ns}:applied`);
      for (const event of refused) expect(applied).not.toContain(event.id);
    });

    it('decides a command again until it is admitted: concurrent writers lose no update', async () => {
      const { bus, store, topic, ns } = await setup();
      await run({ bus, store, projections: [counted(topic, ns)], groupId: `g-${ns}` });
      const tenant = `t-${ns}`;
      // Two handlers, as two replicas: each in-process lock holds nothing back from the other.
      const handlers = [0, 1].map(
        () => new CommandHandler({ bus, store, topic, readYourWritesMs: 20_000, maxAttempts: 50 }),
      );
      const increment = (handler: CommandHandler) =>
        handler.handle(
          tenant,
          'test',
          async (reads) => {
            const current = ((await reads.state('counter/z')) as number | undefined) ?? 0;
            return {
              events: [
                {
                  aggregateId: 'z',
                  type: 'gatehouse.testing.v1.Counted',
                  data: new TextEncoder().encode('z'),
                },
              ],
              result: current + 1,
            };
          },
          'counter/z',
        );
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => increment(handlers[i % 2]!)),
      );
      expect([...results].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      expect(decodeSnapshot(await store.get(streamKey(tenant, 'counter/z')))).toEqual({
        version: 16,
        state: 16,
      });
      expect(handlers[0]!.stats.retries + handlers[1]!.stats.retries).toBeGreaterThan(0);
      expect(handlers[0]!.stats.conflicts + handlers[1]!.stats.conflicts).toBe(0);
    });

    it('applies each event once when two projectors read the same partitions at once', async () => {
      const { bus, store, topic, ns } = await setup();
      const projection = applications(topic, ns);
      const positions = await bus.publish(
        topic,
        Array.from({ length: 40 }, (_, i) => event(i % 2 ? 'acme' : 'globex', i)),
      );
      const runners = await Promise.all([
        run({ bus, store, projections: [projection], groupId: `a-${ns}` }),
        run({ bus, store, projections: [projection], groupId: `b-${ns}` }),
      ]);
      await waitForProjections(store, positions, { timeoutMs: 30_000 });
      // Both had every event delivered (stopping waits for what each was applying); the position
      // guard let each event be applied once.
      await Promise.all(runners.map((runner) => runner.stop()));
      expect(await store.smembers(`rm:${ns}:applications`)).toHaveLength(40);
    });

    it('builds a generation when the store has none, and heals one emptied under it, by itself', async () => {
      const { bus, store: base, topic, ns } = await setup();
      const store = new GenerationalStore(base);
      const projection = catalogue(topic, ns);
      const first = await bus.publish(topic, [event('acme', 1), event('globex', 1)]);
      await run({ bus, store, projections: [projection], groupId: `g-${ns}` });
      await waitForProjections(store, first, { timeoutMs: 20_000 });
      const before = await store.dump(`rm:${ns}:`);
      expect(before).toHaveLength(5);
      // Redis comes back empty: every read fails closed, and nothing refills the lost generation...
      await base.deleteByPrefix('');
      await expect(store.get(`rm:${ns}:last:acme`)).rejects.toBeInstanceOf(NoGenerationError);
      // ...until the projector, having noticed, has built a new one from offset 0.
      const later = await bus.publish(topic, [event('acme', 2)]);
      for (let waited = 0; ; waited += 50) {
        const healed = await store.get(`rm:${ns}:last:acme`).catch(() => null);
        if (healed === 'acme-2') break;
        if (waited > 30_000) throw new Error('the read models did not heal within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await waitForProjections(store, later, { timeoutMs: 20_000 });
      expect((await store.dump(`rm:${ns}:`)).filter((k) => k.key.includes('globex'))).toEqual(
        before.filter((k) => k.key.includes('globex')),
      );
      expect(await store.smembers(`rm:${ns}:all`)).toHaveLength(3);
    });

    it('rebuilds beside the live generation while a projector serves: no reader ever sees a partial one', async () => {
      const { bus, store: base, topic, ns } = await setup();
      const store = new GenerationalStore(base);
      const projection = applications(topic, ns);
      await run({ bus, store, projections: [projection], groupId: `g-${ns}` });
      const positions = await bus.publish(
        topic,
        Array.from({ length: 200 }, (_, i) => event('acme', i)),
      );
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      const live = await store.generations.current();
      // A reader that reads all the while: every answer is a whole read model, never fewer.
      let reading = true;
      const seen: number[] = [];
      const reader = (async () => {
        while (reading) {
          seen.push((await store.smembers(`rm:${ns}:applications`)).length);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      const more = bus.publish(
        topic,
        Array.from({ length: 50 }, (_, i) => event('acme', 200 + i)),
      );
      const rebuilt = await rebuildProjections({ bus, store, projections: [projection] });
      const last = await more;
      await waitForProjections(store, last, { timeoutMs: 20_000 });
      reading = false;
      await reader;
      expect(rebuilt.events).toBeGreaterThanOrEqual(200);
      expect(await store.generations.current()).not.toBe(live);
      expect(Math.min(...seen)).toBeGreaterThanOrEqual(200);
      // Every event applied once in the new generation (applications count each application).
      expect(await store.smembers(`rm:${ns}:applications`)).toHaveLength(250);
      expect(await store.generations.list()).toEqual([await store.generations.current()]);
    });

    it('rebuilds at start a generation an older version of the projections built, and never writes a newer one', async () => {
      const { bus, store: base, topic, ns } = await setup();
      const store = new GenerationalStore(base);
      // Version 1 keeps one key per event; version 2 added an index beside it (as the collections'
      // indexes came after read models were built without them).
      const versioned = (tag: string): Projection => ({
        name: `versioned-${tag}`,
        topics: [topic],
        keyPrefixes: [`rm:${ns}:`],
        project: (e) => [{ op: 'set', key: `rm:${ns}:${tag}:${e.aggregateId}`, value: e.id }],
      });
      const v1 = (groupId: string, readModelVersion?: number) => ({
        bus,
        store,
        projections: [versioned('v1')],
        groupId,
        ...(readModelVersion === undefined ? {} : { readModelVersion }),
      });
      const v2 = (groupId: string) => ({
        bus,
        store,
        projections: [versioned('v1'), versioned('v2')],
        groupId,
        readModelVersion: 2,
      });
      const first = await bus.publish(topic, [event('acme', 1)]);
      const old = await ProjectionRunner.start(v1(`g-${ns}`));
      await waitForProjections(store, first, { timeoutMs: 20_000 });
      await old.stop();
      const built = await store.generations.current();
      expect(await store.get(`rm:${ns}:v2:acme-1`)).toBeNull();

      // The new version finds the generation older than itself: it builds one from offset 0 and
      // switches to it before it projects, so what came before has the new index too.
      const upgraded = await ProjectionRunner.start(v2(`g-${ns}`));
      expect(await store.generations.current()).not.toBe(built);
      expect(await store.get(`rm:${ns}:v2:acme-1`)).not.toBeNull();
      const rebuilt = await store.generations.current();
      await upgraded.stop();

      // A replica of an older version (a rolling upgrade's, of a version that knows versions)
      // starts but does not project into the newer generation: nothing is applied while it alone
      // runs, and once a new one runs every event has the new index (none applied without it).
      await run(v1(`g-${ns}`, 1));
      const later = await bus.publish(
        topic,
        Array.from({ length: 20 }, (_, i) => event('acme', 2 + i)),
      );
      await expect(waitForProjections(store, later, { timeoutMs: 1500 })).rejects.toBeInstanceOf(
        ProjectionsBehindError,
      );
      await run(v2(`g-${ns}`));
      await waitForProjections(store, later, { timeoutMs: 20_000 });
      for (let i = 2; i < 22; i++)
        expect(await store.get(`rm:${ns}:v2:acme-${i}`), `acme-${i}`).not.toBeNull();
      // And a replica of the new version does not build again.
      await run(v2(`g-${ns}`));
      expect(await store.generations.current()).toBe(rebuilt);
    });

    it('stores the position of events that write nothing in a few round trips, and a replay writes the same', async () => {
      const { bus, store, topic, ns } = await setup();
      // Only every tenth event writes: the rest need no read model (a client-credentials token).
      const sparse: Projection = {
        name: 'sparse',
        topics: [topic],
        keyPrefixes: [`rm:${ns}:`],
        project: (e) =>
          Number(new TextDecoder().decode(e.data)) % 10 === 0
            ? [{ op: 'sadd', key: `rm:${ns}:tenths`, members: [e.aggregateId] }]
            : [],
      };
      let positionWrites = 0;
      const counting = new Proxy(store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property !== 'writeAtPosition')
            return typeof value === 'function' ? value.bind(target) : value;
          return (...args: Parameters<ProjectionStore['writeAtPosition']>) => {
            positionWrites++;
            return target.writeAtPosition(...args);
          };
        },
      });
      // One tenant: one partition, in order. Published before the projector starts, so that it
      // reads them in batches as a projector catching up does.
      const positions = await bus.publish(
        topic,
        Array.from({ length: 200 }, (_, i) => event('acme', i + 1)),
      );
      const runner = await run({ bus, store: counting, projections: [sparse], groupId: `g-${ns}` });
      await waitForProjections(store, positions, { timeoutMs: 20_000 });
      const last = positions.at(-1)!;
      expect(await store.get(positionKey(last.topic, last.partition))).toBe(String(last.offset));
      expect((await store.smembers(`rm:${ns}:tenths`)).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `acme-${(i + 1) * 10}`).sort(),
      );
      // 20 events write; the 180 others share the round trips of runs of them.
      expect(positionWrites).toBeGreaterThanOrEqual(20);
      expect(positionWrites).toBeLessThan(100);
      // Events that came while it stopped: stopping stores their position too.
      const more = await bus.publish(topic, [event('acme', 201), event('acme', 202)]);
      await waitForProjections(store, more, { timeoutMs: 20_000 });
      await runner.stop();
      expect(await store.get(positionKey(more[1]!.topic, more[1]!.partition))).toBe(
        String(more[1]!.offset),
      );
      // A rebuild from offset 0 writes exactly the same read model.
      const before = await store.dump(`rm:${ns}:`);
      await store.deleteByPrefix(`rm:${ns}:`);
      await store.deleteByPrefix(topicPositionPrefix(topic));
      await run({ bus, store, projections: [sparse], groupId: `again-${ns}` });
      await waitForProjections(store, more, { timeoutMs: 20_000 });
      expect(await store.dump(`rm:${ns}:`)).toEqual(before);
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
