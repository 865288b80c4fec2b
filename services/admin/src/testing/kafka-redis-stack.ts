// Kafka with Redis from the testkit: only integration tests import this.
import { randomUUID } from 'node:crypto';
import { KafkaEventBus } from '@gatehouse/event-bus';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { testKafka, testRedis } from '@gatehouse/testkit';
import type { AdminHarness } from './admin-harness.js';

export function kafkaRedisStack(): AdminHarness {
  const kafka = testKafka();
  const redis = testRedis();
  return {
    name: `kafka ${kafka.version} + redis ${redis.version}`,
    open: async () => {
      const bus = new KafkaEventBus({
        brokers: kafka.brokers,
        clientId: 'admin-test',
        log: () => {},
      });
      const store = new RedisProjectionStore({
        url: redis.url,
        keyPrefix: `test:${randomUUID()}:`,
      });
      return {
        bus,
        store,
        close: async () => {
          await bus.close();
          await store.deleteByPrefix('');
          await store.close();
        },
      };
    },
  };
}
