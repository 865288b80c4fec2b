// The Redis rate limiter on a primary watched by Sentinels (infra/local/redis.sh start --sentinel),
// given the Sentinels in its ioredis options as readRedisConnection gives them for a
// redis+sentinel:// URL: one budget shared by its replicas, still counted after the primary is
// killed and the replica promoted.
import { type RedisSentinelSetup, startRedisSentinel } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRateLimiter } from './rate-limiter.js';
import { rateLimitConfigOf } from './rules.js';

let setup: RedisSentinelSetup;
beforeAll(async () => {
  setup = await startRedisSentinel();
}, 60_000);
afterAll(async () => {
  await setup?.stop();
}, 30_000);

describe('redis rate limiter with Sentinel', () => {
  const config = rateLimitConfigOf({ defaults: { tokenClient: { limit: 10, windowSeconds: 60 } } });

  it('shares one budget through the primary, before and after a failover', async () => {
    const [sentinels, name] = setup.url.slice('redis+sentinel://'.length).split('/');
    const redis = {
      name: name!,
      sentinels: sentinels!.split(',').map((address) => {
        const [host, port] = address.split(':');
        return { host: host!, port: Number(port) };
      }),
    };
    const keyPrefix = `test:sentinel-${Date.now()}:`;
    const replicas = [1, 2].map(() =>
      redisRateLimiter(config, { url: setup.url, keyPrefix, redis }),
    );
    try {
      const first = await Promise.all(
        Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.take('t1', 'tokenClient', 'c1')),
      );
      expect(first.filter((v) => v.allowed)).toHaveLength(10);
      const killed = await setup.killPrimary();
      const deadline = Date.now() + 30_000;
      while ((await setup.primaryPort()) === killed && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 200));
      // Once the clients are on the new primary, a fresh budget (the old one was on both nodes).
      let shared = false;
      while (!shared && Date.now() < deadline) {
        const key = `c-${Date.now()}`;
        const verdicts = await Promise.all(
          Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.take('t1', 'tokenClient', key)),
        );
        shared = verdicts.filter((v) => v.allowed).length === 10;
        if (!shared) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(shared, 'one budget again after the failover').toBe(true);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  }, 60_000);
});
