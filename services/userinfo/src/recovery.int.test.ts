// Recovery under load on Kafka and Redis: the shared Redis for the store emptied and a rebuild, and a
// Redis of this file's own (infra/local/redis.sh) for the store stopped and started again empty.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KafkaEventBus } from '@gatehouse/event-bus';
import { GenerationalStore, RedisProjectionStore } from '@gatehouse/projection-store';
import { memoryRateLimiter } from '@gatehouse/rate-limits';
import { kafkaRedisStack, type TestStack } from '@gatehouse/test-stacks';
import { testKafka } from '@gatehouse/testkit';
import { afterAll, beforeAll } from 'vitest';
import { describeRecovery, type RedisControl } from './testing/recovery-suite.js';

describeRecovery(kafkaRedisStack('recovery-test'));

const run = promisify(execFile);
const redisScript = new URL('../../../infra/local/redis.sh', import.meta.url).pathname;
let dir = '';
let url = '';
const redis = async (...args: string[]) => (await run('bash', [redisScript, ...args])).stdout;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-recovery-redis-'));
  url = /REDIS_URL=(\S+)/.exec(await redis('start', '--dir', dir))![1]!;
});
afterAll(async () => {
  await redis('stop', '--dir', dir);
  await rm(dir, { recursive: true, force: true });
});
const control: RedisControl = {
  stop: async () => {
    await redis('stop', '--dir', dir);
  },
  start: async ({ empty }) => {
    if (empty) await rm(join(dir, 'appendonlydir'), { recursive: true, force: true });
    await redis('start', '--dir', dir, '--port', new URL(url).port);
  },
};
const ownRedis: TestStack = {
  name: 'kafka + a Redis of its own, stopped and started',
  open: async () => {
    const bus = new KafkaEventBus({
      brokers: testKafka().brokers,
      clientId: 'recovery-own-redis',
      log: () => {},
    });
    const store = new GenerationalStore(
      new RedisProjectionStore({ url, keyPrefix: `test:${randomUUID()}:` }),
    );
    return {
      bus,
      store,
      // The stopped Redis is the store's; the suite's budgets are not what it is about.
      rateLimiter: (config) => memoryRateLimiter(config),
      close: async () => {
        await bus.close();
        await store.close();
      },
    };
  },
};
describeRecovery(ownRedis, control);
