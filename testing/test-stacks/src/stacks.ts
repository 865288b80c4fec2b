// The two compositions of an event bus and a projection store that service suites run on: the
// embedded bus with the in-memory store (the all-in-one mode; unit tests) and Kafka with Redis from
// the global setup (integration tests). Each open() gives a fresh, isolated pair.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventBus, type EventBus, KafkaEventBus } from '@gatehouse/event-bus';
import {
  GenerationalStore,
  MemoryProjectionStore,
  type ProjectionStore,
  RedisProjectionStore,
} from '@gatehouse/projection-store';
import {
  memoryRateLimiter,
  type RateLimitConfig,
  type RateLimiter,
  redisRateLimiter,
} from '@gatehouse/rate-limits';
import { testKafka, testRedis } from '@gatehouse/testkit';

export interface TestStack {
  name: string;
  open(): Promise<{
    bus: EventBus;
    store: ProjectionStore;
    /** Request budgets as the deployment keeps them: in memory, or in this stack's Redis. */
    rateLimiter(config: RateLimitConfig): RateLimiter;
    close(): Promise<void>;
  }>;
}

export const embeddedStack: TestStack = {
  name: 'embedded bus + in-memory store',
  open: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-stack-'));
    const bus = await EmbeddedEventBus.open({ dir });
    // As deployed: read models in generations, which the projector builds and follows.
    const store = new GenerationalStore(new MemoryProjectionStore());
    return {
      bus,
      store,
      rateLimiter: (config) => memoryRateLimiter(config),
      close: async () => {
        await bus.close();
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Kafka and Redis from the global setup; only integration tests may call it. */
export function kafkaRedisStack(clientId = 'gatehouse-test'): TestStack {
  const kafka = testKafka();
  const redis = testRedis();
  return {
    name: `kafka ${kafka.version} + redis ${redis.version}`,
    open: async () => {
      const bus = new KafkaEventBus({ brokers: kafka.brokers, clientId, log: () => {} });
      const keyPrefix = `test:${randomUUID()}:`;
      const store = new GenerationalStore(new RedisProjectionStore({ url: redis.url, keyPrefix }));
      const limiters: RateLimiter[] = [];
      return {
        bus,
        store,
        rateLimiter: (config) => {
          const limiter = redisRateLimiter(config, { url: redis.url, keyPrefix });
          limiters.push(limiter);
          return limiter;
        },
        close: async () => {
          await Promise.all(limiters.map((limiter) => limiter.close()));
          await bus.close();
          await store.deleteByPrefix('');
          await store.close();
        },
      };
    },
  };
}

/**
 * Empties the store under the read models, as a Redis that restarted without its data: for a reader
 * and for the projectors, every key at once (one DEL of every key there is). Deleting by prefix goes
 * a scan batch at a time: a reader could find the generation pointer and the read models still
 * there and a token's revocation entry (a shared key) already gone, and a projector that found the
 * pointer gone could start rebuilding while later batches deleted what it had just written — no
 * loss of a whole Redis does either (a CI run's recovery suite had 4 revoked tokens answered 200).
 */
export async function loseStore(store: ProjectionStore): Promise<void> {
  const base = (store as GenerationalStore).base ?? store;
  const keys: string[] = [];
  for await (const batch of base.scan('')) keys.push(...batch);
  await base.del(keys);
}
