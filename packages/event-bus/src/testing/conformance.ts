// The event bus conformance suite: every adapter runs these same tests (STYLE: one suite per port).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Envelope } from '@gatehouse/contracts';
import { processMetrics } from '@gatehouse/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBusConfig } from '../open.js';
import { openEventBus } from '../open.js';
import {
  type DeliveredEvent,
  type EventBus,
  EventTooLargeError,
  type SubscribeOptions,
  type Subscription,
  UnknownTopicError,
} from '../port.js';
import { numberedEvent, sequenceOf } from './numbered-events.js';

export interface EventBusHarness {
  /** Adapter name shown in test titles. */
  name: string;
  /** Config of a bus on the log under test; also handed to worker processes. */
  config(): EventBusConfig;
  /**
   * Interrupts the log while `publisher` (a worker process publishing to it) is mid-stream.
   * Kafka: kill -9 the broker and start it again. Embedded: kill -9 the publisher, which owns
   * the log. Returns whether the publisher was killed. Absent when the tests cannot interrupt the
   * log (an external broker they do not own): that test is then reported as skipped.
   */
  disrupt: ((publisher: ChildProcess) => Promise<{ publisherKilled: boolean }>) | undefined;
  /** Upper bound for a crashed member's partitions to move to another member. */
  takeoverMs: number;
}

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const workerPath = fileURLToPath(new URL('./bus-worker.ts', import.meta.url));

export function describeEventBusConformance(harness: EventBusHarness): void {
  describe(`EventBus conformance: ${harness.name}`, () => {
    const open: EventBus[] = [];
    const workers: ChildProcess[] = [];
    const openBus = async () => {
      const bus = await openEventBus(harness.config());
      open.push(bus);
      return bus;
    };
    const newTopic = async (bus: EventBus, partitions = 3) => {
      const name = `conformance.${randomUUID()}`;
      await bus.ensureTopics([{ name, partitions }]);
      return name;
    };
    afterEach(async () => {
      for (const worker of workers.splice(0)) worker.kill('SIGKILL');
      for (const bus of open.splice(0)) await bus.close();
    });

    it('acknowledges a publish with positions and delivers every envelope intact', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      const sent = [numberedEvent('acme', 0), numberedEvent('globex', 1), numberedEvent('acme', 2)];
      const positions = await bus.publish(topic, sent);
      expect(positions).toHaveLength(3);
      for (const position of positions) {
        expect(position.topic).toBe(topic);
        expect(position.offset).toBeGreaterThanOrEqual(0n);
      }
      // Events of one tenant share a partition and get increasing offsets.
      expect(positions[2]!.partition).toBe(positions[0]!.partition);
      expect(positions[2]!.offset).toBeGreaterThan(positions[0]!.offset);

      const received = await collect(bus, { groupId: `g-${randomUUID()}`, topics: [topic] }, 3);
      const byId = new Map(received.map((event) => [event.envelope.id, event]));
      sent.forEach((envelope, index) => {
        const event = byId.get(envelope.id);
        expect(event?.envelope).toEqual(envelope);
        expect({ partition: event?.partition, offset: event?.offset }).toEqual({
          partition: positions[index]!.partition,
          offset: positions[index]!.offset,
        });
      });
      expect(await bus.publish(topic, [])).toEqual([]);
    });

    it('tells each of many concurrent publishers the exact positions of its own events', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      const calls = Array.from({ length: 60 }, (_, i) =>
        Array.from({ length: 1 + (i % 3) }, (_, j) => numberedEvent(`t${i % 7}`, i * 10 + j)),
      );
      const results = await Promise.all(calls.map((events) => bus.publish(topic, events)));
      const told = new Map<string, string>();
      for (const [i, events] of calls.entries()) {
        for (const [j, event] of events.entries()) {
          told.set(event.id, `${results[i]![j]!.partition}:${results[i]![j]!.offset}`);
        }
      }
      expect(new Set(told.values()).size).toBe(told.size);
      const delivered = await collect(
        bus,
        { groupId: `g-${randomUUID()}`, topics: [topic] },
        told.size,
      );
      for (const event of delivered)
        expect(`${event.partition}:${event.offset}`).toBe(told.get(event.envelope.id));
    });

    it('groups many concurrent single-event publishes into fewer writes, each caller told its own position, each event stored once', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      await bus.publish(topic, [numberedEvent('warm-up', -1)]); // metadata and connections
      const writes = async () => {
        const { values } = await processMetrics().eventPublishBatchEvents.get();
        const value = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
        return {
          count: value('gatehouse_event_publish_batch_events_count'),
          sum: value('gatehouse_event_publish_batch_events_sum'),
        };
      };
      const before = await writes();
      const sent = Array.from({ length: 200 }, (_, i) => numberedEvent(`t${i % 11}`, i));
      const results = await Promise.all(sent.map((event) => bus.publish(topic, [event])));
      const after = await writes();
      // Every event went out in exactly one write, and writes carried several events each.
      expect(after.sum - before.sum).toBe(200);
      expect(after.count - before.count).toBeGreaterThan(0);
      expect(after.count - before.count).toBeLessThan(200);

      const told = new Map<string, string>();
      for (const [i, event] of sent.entries()) {
        expect(results[i]).toHaveLength(1);
        told.set(event.id, `${results[i]![0]!.partition}:${results[i]![0]!.offset}`);
      }
      expect(new Set(told.values()).size).toBe(200);
      const stored: DeliveredEvent[] = [];
      await bus.replay(topic, async (event) => {
        stored.push(event);
      });
      const storedHere = stored.filter((e) => e.envelope.tenant !== 'warm-up');
      expect(storedHere).toHaveLength(200);
      for (const event of storedHere)
        expect(`${event.partition}:${event.offset}`).toBe(told.get(event.envelope.id));
      // Each tenant's events in the order its publishes were made.
      for (let t = 0; t < 11; t += 1) {
        const seqs = storedHere
          .filter((e) => e.envelope.tenant === `t${t}`)
          .map((e) => sequenceOf(e.envelope));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    });

    it('fails exactly the publish the log refuses among concurrent ones, and acknowledges each other event once', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus, 6);
      await bus.publish(topic, [numberedEvent('warm-up', -1)]);
      // One event above what one write to the log may carry (Kafka: message.max.bytes, about
      // 1 MB), among small ones of other tenants, so of other partitions too, all in flight at once.
      const oversized: Envelope = {
        ...numberedEvent('big', 1_000),
        data: Buffer.from(JSON.stringify({ seq: 1_000, pad: 'x'.repeat(1_500_000) })),
      };
      const small = Array.from({ length: 40 }, (_, i) => numberedEvent(`t${i}`, i));
      const calls = [...small.slice(0, 20), oversized, ...small.slice(20)];
      const settled = await Promise.allSettled(calls.map((event) => bus.publish(topic, [event])));

      // The log holds no event twice, nothing of the refused publish, and each acknowledged event
      // where its caller was told.
      const stored: DeliveredEvent[] = [];
      await bus.replay(topic, async (event) => {
        stored.push(event);
      });
      const storedIds = stored
        .filter((e) => e.envelope.tenant !== 'warm-up')
        .map((e) => e.envelope.id)
        .sort();
      expect(storedIds).toEqual([...new Set(storedIds)]);
      expect(storedIds).not.toContain(oversized.id);
      const storedAt = new Map(stored.map((e) => [e.envelope.id, `${e.partition}:${e.offset}`]));
      for (const [i, result] of settled.entries())
        if (result.status === 'fulfilled') {
          const [position] = result.value;
          expect(storedAt.get(calls[i]!.id)).toBe(`${position!.partition}:${position!.offset}`);
        }
      // Exactly the refused publish failed, saying nothing of it was appended; every other one was
      // acknowledged, so the log holds exactly the small events.
      const outcomes = settled.map((result, i) =>
        result.status === 'fulfilled'
          ? 'ok'
          : `publish ${i}: ${(result.reason as Error).name}: ${(result.reason as Error).message.slice(0, 200)}`,
      );
      expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([
        expect.stringMatching(/^publish 20: EventTooLargeError: /),
      ]);
      const refused = (settled[20] as PromiseRejectedResult).reason;
      expect(refused).toBeInstanceOf(EventTooLargeError);
      expect(refused.mayHaveBeenAppended).toBe(false);
      expect(storedIds).toEqual(small.map((e) => e.id).sort());
      // The bus still publishes.
      expect(await bus.publish(topic, [numberedEvent('t0', 100)])).toHaveLength(1);
    });

    it("keeps each tenant's events in the order they were published", async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      const tenants = ['t0', 't1', 't2', 't3', 't4'];
      const perTenant = 40;
      // Tenants publish concurrently; each tenant publishes its own events one after another,
      // some singly and some in batches.
      await Promise.all(
        tenants.map(async (tenant) => {
          for (let seq = 0; seq < perTenant; ) {
            const size = seq % 3 === 0 ? 1 : 4;
            const batch = Array.from({ length: Math.min(size, perTenant - seq) }, (_, i) =>
              numberedEvent(tenant, seq + i),
            );
            await bus.publish(topic, batch);
            seq += batch.length;
          }
        }),
      );
      const received = await collect(
        bus,
        { groupId: `g-${randomUUID()}`, topics: [topic] },
        tenants.length * perTenant,
      );
      for (const tenant of tenants) {
        const sequence = received
          .filter((e) => e.envelope.tenant === tenant)
          .map((e) => sequenceOf(e.envelope));
        expect(sequence).toEqual(Array.from({ length: perTenant }, (_, i) => i));
      }
    });

    it('replays a topic from offset 0 up to its end, the same way every time, without a group', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      const sent = Array.from({ length: 30 }, (_, i) => numberedEvent(`t${i % 3}`, i));
      await bus.publish(topic, sent.slice(0, 10));
      await bus.publish(topic, sent.slice(10));
      const first: DeliveredEvent[] = [];
      const result = await bus.replay(topic, async (event) => {
        first.push(event);
      });
      expect(result.events).toBe(30);
      const second: DeliveredEvent[] = [];
      await bus.replay(topic, async (event) => {
        second.push(event);
      });
      const key = (e: DeliveredEvent) => `${e.partition}:${e.offset}:${e.envelope.id}`;
      expect(second.map(key).sort()).toEqual(first.map(key).sort());
      expect(new Set(first.map((e) => e.envelope.id))).toEqual(new Set(sent.map((e) => e.id)));
      for (const tenant of ['t0', 't1', 't2']) {
        const seqs = first
          .filter((e) => e.envelope.tenant === tenant)
          .map((e) => sequenceOf(e.envelope));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      // Replay reads what was there when it was called: an empty topic replays nothing.
      expect((await bus.replay(await newTopic(bus), async () => {})).events).toBe(0);
    });

    it('refuses, at once, a topic that was never created', async () => {
      const bus = await openBus();
      const topic = `conformance.never-created.${randomUUID()}`;
      const started = Date.now();
      await expect(bus.publish(topic, [numberedEvent('acme', 0)])).rejects.toBeInstanceOf(
        UnknownTopicError,
      );
      await expect(
        bus.subscribe({ groupId: `g-${randomUUID()}`, topics: [topic], handler: async () => {} }),
      ).rejects.toBeInstanceOf(UnknownTopicError);
      await expect(bus.replay(topic, async () => {})).rejects.toBeInstanceOf(UnknownTopicError);
      await expect(bus.endOffsets(topic)).rejects.toBeInstanceOf(UnknownTopicError);
      expect(Date.now() - started).toBeLessThan(5_000);
      // Creating it twice is harmless.
      await bus.ensureTopics([{ name: topic }, { name: topic }]);
      await bus.ensureTopics([{ name: topic }]);
      expect(await bus.publish(topic, [numberedEvent('acme', 0)])).toHaveLength(1);
    });

    it('stops a replay at the first handler failure and rejects with it', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus, 1);
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => numberedEvent('acme', i)),
      );
      const seen: number[] = [];
      await expect(
        bus.replay(topic, async (event) => {
          const seq = sequenceOf(event.envelope);
          seen.push(seq);
          if (seq === 4) throw new Error('projection rejected event 4');
        }),
      ).rejects.toThrow('projection rejected event 4');
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    });

    it('delivers the events of every topic of one subscription', async () => {
      const bus = await openBus();
      const [first, second] = [await newTopic(bus), await newTopic(bus)];
      const received = new Map<string, number[]>();
      const subscription = await bus.subscribe({
        groupId: `g-${randomUUID()}`,
        topics: [first, second],
        handler: async (event) => {
          received.set(event.topic, [
            ...(received.get(event.topic) ?? []),
            sequenceOf(event.envelope),
          ]);
        },
      });
      // Both topics' consumers are idle and waiting when the events arrive, one topic after the other.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await bus.publish(first, [numberedEvent('acme', 0), numberedEvent('acme', 1)]);
      await bus.publish(second, [numberedEvent('acme', 2)]);
      await bus.publish(first, [numberedEvent('acme', 3)]);
      await waitFor(
        () => (received.get(first)?.length ?? 0) + (received.get(second)?.length ?? 0) >= 4,
        20_000,
      );
      await subscription.close();
      expect(received.get(first)).toEqual([0, 1, 3]);
      expect(received.get(second)).toEqual([2]);
    });

    it('reports per-partition end offsets that cover every published event', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      const positions = await bus.publish(
        topic,
        Array.from({ length: 12 }, (_, i) => numberedEvent(`t${i % 4}`, i)),
      );
      const ends = await bus.endOffsets(topic);
      for (const position of positions) {
        expect(ends.get(position.partition)).toBeGreaterThan(position.offset);
      }
      const total = [...ends.values()].reduce((sum, end) => sum + end, 0n);
      expect(total).toBe(12n);
    });

    it('gives every consumer group every event', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      await bus.publish(
        topic,
        Array.from({ length: 20 }, (_, i) => numberedEvent(`t${i % 2}`, i)),
      );
      const [a, b] = await Promise.all([
        collect(bus, { groupId: `a-${randomUUID()}`, topics: [topic] }, 20),
        collect(bus, { groupId: `b-${randomUUID()}`, topics: [topic] }, 20),
      ]);
      expect(ids(a)).toEqual(ids(b));
    });

    it('delivers events published after a subscriber joined, and starts a new group at the end with start=latest', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus);
      await bus.publish(topic, [numberedEvent('acme', 0)]);
      const got: number[] = [];
      const subscription = await bus.subscribe({
        groupId: `g-${randomUUID()}`,
        topics: [topic],
        start: 'latest',
        handler: async (event) => {
          got.push(sequenceOf(event.envelope));
        },
      });
      await bus.publish(topic, [numberedEvent('acme', 1), numberedEvent('acme', 2)]);
      await waitFor(() => got.length >= 2, 20_000);
      await subscription.close();
      expect(got).toEqual([1, 2]);
    });

    it('starts an ephemeral group at the end even where its id committed before, and keeps nothing of it', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus, 1);
      const groupId = `g-${randomUUID()}`;
      await bus.publish(topic, [numberedEvent('acme', 0), numberedEvent('acme', 1)]);
      // The id's earlier, durable life handled (and committed) what it was given of 0 and 1.
      const earlier = await collect(bus, { groupId, topics: [topic] }, 1);
      expect(sequenceOf(earlier[0]!.envelope)).toBe(0);
      for (const round of [2, 3]) {
        const got: number[] = [];
        const follower = await bus.subscribe({
          groupId,
          topics: [topic],
          ephemeral: true,
          handler: async (event) => {
            got.push(sequenceOf(event.envelope));
          },
        });
        await bus.publish(topic, [numberedEvent('acme', round)]);
        await waitFor(() => got.length >= 1, 20_000);
        await follower.close();
        expect(got).toEqual([round]);
      }
    });

    it('commits only handled events: a new member resumes after the last one handled before a clean close', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus, 1);
      const groupId = `g-${randomUUID()}`;
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => numberedEvent('acme', i)),
      );
      const first: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const subscription = await bus.subscribe({
        groupId,
        topics: [topic],
        handler: async (event) => {
          const seq = sequenceOf(event.envelope);
          first.push(seq);
          if (seq === 5) await gate; // hold event 5 while the member is told to stop
        },
      });
      await waitFor(() => first.includes(5), 20_000);
      const closing = subscription.close();
      release();
      await closing;
      const handledBeforeClose = first.length;
      const rest = await collect(bus, { groupId, topics: [topic] }, 10 - handledBeforeClose);
      expect([...first, ...rest.map((e) => sequenceOf(e.envelope))]).toEqual(
        Array.from({ length: 10 }, (_, i) => i),
      );
    });

    it('delivers an event again while its handler fails, and keeps the order', async () => {
      const bus = await openBus();
      const topic = await newTopic(bus, 1);
      await bus.publish(
        topic,
        Array.from({ length: 5 }, (_, i) => numberedEvent('acme', i)),
      );
      const attempts = new Map<number, number>();
      const handled: number[] = [];
      const errors: unknown[] = [];
      const subscription = await bus.subscribe({
        groupId: `g-${randomUUID()}`,
        topics: [topic],
        handler: async (event) => {
          const seq = sequenceOf(event.envelope);
          const attempt = (attempts.get(seq) ?? 0) + 1;
          attempts.set(seq, attempt);
          if (seq === 2 && attempt <= 2)
            throw new Error(`projection not ready (attempt ${attempt})`);
          handled.push(seq);
        },
        onError: (error) => errors.push(error),
      });
      await waitFor(() => handled.length >= 5, 30_000);
      await subscription.close();
      expect(handled).toEqual([0, 1, 2, 3, 4]);
      expect(attempts.get(2)).toBe(3);
      expect(errors).toHaveLength(2);
    });

    it('redelivers what a crashed consumer never committed to the next member of its group', async () => {
      const setup = await openBus();
      const topic = await newTopic(setup, 1);
      const groupId = `g-${randomUUID()}`;
      await setup.publish(
        topic,
        Array.from({ length: 20 }, (_, i) => numberedEvent('acme', i)),
      );
      await setup.close();
      open.splice(open.indexOf(setup), 1);

      // The worker handles events 0..6 and hangs inside the handler of event 7; then it dies.
      const worker = startWorker({
        mode: 'consume',
        config: harness.config(),
        topic,
        groupId,
        stallAt: 7,
      });
      workers.push(worker.process);
      await worker.waitForLine((line) => line === 'stalled 7', 60_000);
      worker.process.kill('SIGKILL');
      await worker.exited;

      const bus = await openBus();
      const received = await collectUntil(
        bus,
        { groupId, topics: [topic] },
        (events) => events.some((e) => sequenceOf(e.envelope) === 19),
        harness.takeoverMs + 30_000,
      );
      const seqs = received.map((e) => sequenceOf(e.envelope));
      // At-least-once: the stalled event and everything after it come again, in order; events
      // before it may come again too, if the worker had not committed them yet.
      expect(seqs[0]).toBeLessThanOrEqual(7);
      expect(seqs).toEqual(Array.from({ length: 20 - seqs[0]! }, (_, i) => seqs[0]! + i));
    });

    const disrupt = harness.disrupt;
    it.skipIf(!disrupt)(
      'loses no acknowledged event when the log is interrupted mid-stream',
      async () => {
        const setup = await openBus();
        const topic = await newTopic(setup);
        await setup.close();
        open.splice(open.indexOf(setup), 1);

        const count = 400;
        const worker = startWorker({
          mode: 'publish',
          config: harness.config(),
          topic,
          count,
          tenants: 4,
          pauseMs: 5,
        });
        workers.push(worker.process);
        await worker.waitForLine((line) => line.startsWith('ack 100 '), 60_000);
        const { publisherKilled } = await disrupt!(worker.process);
        if (!publisherKilled) await worker.waitForLine((line) => line === 'done', 120_000);
        else await worker.exited;

        const acknowledged = worker.lines
          .filter((l) => l.startsWith('ack '))
          .map((l) => Number(l.split(' ')[1]));
        expect(acknowledged.length).toBeGreaterThan(100);
        const bus = await openBus();
        const stored: DeliveredEvent[] = [];
        await bus.replay(topic, async (event) => {
          stored.push(event);
        });
        const storedSeqs = stored.map((e) => sequenceOf(e.envelope));
        const missing = acknowledged.filter((seq) => !storedSeqs.includes(seq));
        expect(missing).toEqual([]);
        // The idempotent producer (Kafka) and single-writer log (embedded) store nothing twice.
        expect(new Set(storedSeqs).size).toBe(storedSeqs.length);
        // Every tenant's events are stored in publish order.
        for (let t = 0; t < 4; t += 1) {
          const seqs = stored
            .filter((e) => e.envelope.tenant === `tenant-${t}`)
            .map((e) => sequenceOf(e.envelope));
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        }
        console.info(
          `[${harness.name}] interrupted publish: ${acknowledged.length}/${count} acknowledged, ${stored.length} stored, ${missing.length} acknowledged events missing${publisherKilled ? ' (publisher killed)' : ' (broker restarted)'}`,
        );
      },
    );
  });
}

interface Worker {
  process: ChildProcess;
  lines: string[];
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  exited: Promise<void>;
}

function startWorker(task: unknown): Worker {
  const child = spawn(
    process.execPath,
    ['--conditions=@gatehouse/source', '--import', 'tsx', workerPath, JSON.stringify(task)],
    {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    lines,
    exited,
    waitForLine: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `worker did not print the expected line in ${timeoutMs} ms; stdout tail: ${lines.slice(-5).join(' | ')}; stderr tail: ${stderr}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => setTimeout(check, 0));
        check();
      }),
  };
}

function ids(events: DeliveredEvent[]): string[] {
  return events.map((e) => e.envelope.id).sort();
}

async function collect(
  bus: EventBus,
  options: Omit<SubscribeOptions, 'handler'>,
  count: number,
  timeoutMs = 30_000,
): Promise<DeliveredEvent[]> {
  return collectUntil(bus, options, (events) => events.length >= count, timeoutMs);
}

async function collectUntil(
  bus: EventBus,
  options: Omit<SubscribeOptions, 'handler'>,
  done: (events: DeliveredEvent[]) => boolean,
  timeoutMs: number,
): Promise<DeliveredEvent[]> {
  const events: DeliveredEvent[] = [];
  let subscription: Subscription | undefined;
  try {
    subscription = await bus.subscribe({
      ...options,
      handler: async (event) => {
        events.push(event);
      },
    });
    await waitFor(() => done(events), timeoutMs);
  } finally {
    await subscription?.close();
  }
  return events;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
