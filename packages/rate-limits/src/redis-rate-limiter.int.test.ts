import { createServer } from 'node:net';
import { testRedis } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { redisRateLimiter } from './rate-limiter.js';
import { rateLimitConfigOf } from './rules.js';
import { describeRateLimiterConformance } from './testing/conformance.js';

const redis = testRedis();

describeRateLimiterConformance({
  name: `redis ${redis.version}`,
  open: async (config, namespace) =>
    redisRateLimiter(config, { url: redis.url, keyPrefix: `test:${namespace}:` }),
});

describe('redis rate limiter', () => {
  const config = rateLimitConfigOf({ defaults: { tokenClient: { limit: 10, windowSeconds: 60 } } });

  it('is one budget for every process on the same Redis: the limit is the total, not per replica', async () => {
    const keyPrefix = `test:shared-${process.pid}-${Date.now()}:`;
    const replicas = [1, 2, 3].map(() => redisRateLimiter(config, { url: redis.url, keyPrefix }));
    try {
      const verdicts = await Promise.all(
        Array.from({ length: 30 }, (_, i) => replicas[i % 3]!.take('t1', 'tokenClient', 'c1')),
      );
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('counts in memory while Redis cannot be reached, so requests neither fail nor go unlimited', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const limiter = redisRateLimiter(config, { url: `redis://127.0.0.1:${port}` });
    try {
      const verdicts = [];
      for (let i = 0; i < 12; i++) verdicts.push(await limiter.take('t1', 'tokenClient', 'c1'));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    } finally {
      await limiter.close();
    }
  });
});
