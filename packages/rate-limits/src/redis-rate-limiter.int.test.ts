import { createServer } from 'node:net';
import { testRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
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

  it('peeks at a budget that has no count in one script call, with no transaction of its own', async () => {
    const keyPrefix = `test:peek-${process.pid}-${Date.now()}:`;
    const limiter = redisRateLimiter(config, { url: redis.url, keyPrefix });
    const monitor = await new Redis(redis.url).monitor();
    // What Redis ran on this limiter's keys: [command, source] (source 'lua' inside a script).
    const seen: [string, string][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.slice(1).some((arg) => arg.startsWith(keyPrefix))) return;
      const command = args[0]!.toLowerCase();
      // ioredis sends EVALSHA, or EVAL where it has not seen the script loaded: a script call either way.
      seen.push([
        command === 'eval' || command === 'evalsha' ? 'script call' : command,
        source.startsWith('lua') ? 'lua' : 'client',
      ]);
    });
    try {
      await limiter.peek('t1', 'tokenClient', 'warm-up');
      // The monitor's lines come after the answers: the warm-up's, in order, before they are cleared.
      for (let i = 0; i < 50 && seen.filter(([, s]) => s === 'lua').length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      seen.length = 0;
      for (const client of ['c1', 'c2', 'c3']) {
        const verdict = await limiter.peek('t1', 'tokenClient', client);
        expect(verdict.allowed).toBe(true);
        expect(verdict.remaining).toBe(10);
      }
      // The monitor's lines arrive after the answers: wait for the scripts' reads.
      for (let i = 0; i < 50 && seen.filter(([, s]) => s === 'lua').length < 6; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.filter(([, source]) => source === 'client')).toEqual([
        ['script call', 'client'],
        ['script call', 'client'],
        ['script call', 'client'],
      ]);
      expect(seen.filter(([, source]) => source === 'lua').map(([command]) => command)).toEqual([
        'get',
        'pttl',
        'get',
        'pttl',
        'get',
        'pttl',
      ]);
    } finally {
      monitor.disconnect();
      await limiter.close();
    }
  });
});
