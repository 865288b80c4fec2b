import { createServer } from 'node:net';
import { testRedis } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { ProjectionStoreUnavailableError } from './port.js';
import { RedisProjectionStore } from './redis-projection-store.js';
import { describeProjectionStoreConformance } from './testing/conformance.js';
import { describeGenerations } from './testing/generations-suite.js';

const redis = testRedis();

describeProjectionStoreConformance({
  name: `redis ${redis.version}`,
  open: async (namespace) =>
    new RedisProjectionStore({ url: redis.url, keyPrefix: `test:${namespace}:` }),
});

describeGenerations({
  name: `redis ${redis.version}`,
  open: async (namespace) =>
    new RedisProjectionStore({ url: redis.url, keyPrefix: `test:${namespace}:` }),
});

describe('RedisProjectionStore', () => {
  it('keeps stores with different key prefixes apart on one Redis', async () => {
    const a = new RedisProjectionStore({ url: redis.url, keyPrefix: 'test:a:' });
    const b = new RedisProjectionStore({ url: redis.url, keyPrefix: 'test:b:' });
    try {
      await a.set('k', 'from a');
      expect(await b.get('k')).toBeNull();
      expect(await b.deleteByPrefix('')).toBe(0);
      expect(await a.get('k')).toBe('from a');
    } finally {
      await a.deleteByPrefix('');
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails fast with ProjectionStoreUnavailableError when Redis cannot be reached', async () => {
    // A port that is bound but never answers, then closed: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const store = new RedisProjectionStore({
      url: `redis://127.0.0.1:${port}`,
      commandTimeoutMs: 500,
    });
    try {
      const started = Date.now();
      await expect(store.get('k')).rejects.toBeInstanceOf(ProjectionStoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await store.close();
    }
  });
});
