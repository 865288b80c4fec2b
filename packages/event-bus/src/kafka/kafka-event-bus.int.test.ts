import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { restartLocalKafka, testKafka } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { openEventBus } from '../open.js';
import { describeEventBusConformance } from '../testing/conformance.js';

const kafka = testKafka();
const clientId = `conformance-${randomUUID().slice(0, 8)}`;

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
  disrupt: kafka.localDir
    ? async () => {
        await restartLocalKafka(kafka.localDir!);
        return { publisherKilled: false };
      }
    : undefined,
  takeoverMs: 6_000,
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
