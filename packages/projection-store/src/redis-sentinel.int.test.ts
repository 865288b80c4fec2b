// The Redis adapter against a primary, a replica and three Sentinels (infra/local/redis.sh start
// --sentinel): the conformance suite, then the primary killed (kill -9) under a steady stream of
// writes. With WAIT on, every acknowledged write must be on the promoted replica; every failure
// during the switch must be the store's unavailable error, quickly; the same store object works
// again once the Sentinels have promoted the replica.
import { type RedisSentinelSetup, startRedisSentinel } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionStoreUnavailableError } from './port.js';
import { RedisProjectionStore } from './redis-projection-store.js';
import { describeProjectionStoreConformance } from './testing/conformance.js';

let setup: RedisSentinelSetup;
beforeAll(async () => {
  setup = await startRedisSentinel();
}, 60_000);
afterAll(async () => {
  await setup?.stop();
}, 30_000);

describeProjectionStoreConformance({
  name: 'redis with Sentinel',
  open: async (namespace) =>
    new RedisProjectionStore({ url: setup.url, keyPrefix: `test:${namespace}:` }),
});

describe('RedisProjectionStore with Sentinel', () => {
  it('costs one WAIT per write: measured against the same write without it', async () => {
    const timed = async (waitReplicas: number) => {
      const store = new RedisProjectionStore({
        url: setup.url,
        keyPrefix: 'test:wait-cost:',
        waitReplicas,
      });
      try {
        for (let i = 0; i < 200; i++) await store.set(`warm:${i}`, 'x'); // connect, load scripts
        const n = 2000;
        const started = performance.now();
        for (let i = 0; i < n; i++) await store.set(`k:${i}`, String(i));
        const sequential = (performance.now() - started) / n;
        const batchStart = performance.now();
        await Promise.all(Array.from({ length: n }, (_, i) => store.set(`p:${i}`, String(i))));
        const concurrent = (performance.now() - batchStart) / n;
        return { sequential, concurrent };
      } finally {
        await store.deleteByPrefix('');
        await store.close();
      }
    };
    const without = await timed(0);
    const withWait = await timed(1);
    console.log(
      `WAIT cost: a write one at a time ${without.sequential.toFixed(3)} ms without WAIT, ` +
        `${withWait.sequential.toFixed(3)} ms with WAIT 1; 2000 concurrent writes ` +
        `${(without.concurrent * 1000).toFixed(1)} us vs ${(withWait.concurrent * 1000).toFixed(1)} us each`,
    );
    expect(withWait.sequential).toBeGreaterThan(0);
  }, 60_000);

  it('survives the primary being killed: acknowledged writes kept, failures clean and quick', async () => {
    const commandTimeoutMs = 1000;
    const store = new RedisProjectionStore({
      url: setup.url,
      keyPrefix: 'test:failover:',
      commandTimeoutMs,
    });
    const acknowledged: string[] = [];
    const failures: { error: unknown; ms: number }[] = [];
    let killedAt = 0;
    let recoveredAt = 0;
    let stopping = false;
    const writer = async (lane: number) => {
      for (let i = 0; !stopping; i++) {
        const key = `w:${lane}:${i}`;
        const started = performance.now();
        try {
          await store.set(key, String(i));
          acknowledged.push(key);
          if (killedAt && !recoveredAt) recoveredAt = performance.now();
        } catch (error) {
          failures.push({ error, ms: performance.now() - started });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    try {
      await store.set('w:warm', '1');
      const writers = [0, 1, 2, 3].map(writer);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = acknowledged.length;
      const killedPort = await setup.killPrimary();
      killedAt = performance.now();
      // Only writes acknowledged after the kill count as recovery: the first may have been in flight.
      acknowledged.length = before;
      const deadline = Date.now() + 30_000;
      while (!recoveredAt && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 500));
      stopping = true;
      await Promise.all(writers);
      expect(recoveredAt, 'writes work again after the failover').toBeGreaterThan(0);
      expect(await setup.primaryPort()).not.toBe(killedPort);
      console.log(
        `failover: writes answered again ${Math.round(recoveredAt - killedAt)} ms after kill -9 of ` +
          `the primary; ${failures.length} failed meanwhile (slowest ${Math.round(
            Math.max(0, ...failures.map((f) => f.ms)),
          )} ms), ${acknowledged.length} acknowledged`,
      );
      for (const failure of failures) {
        expect(failure.error).toBeInstanceOf(ProjectionStoreUnavailableError);
        expect(failure.ms).toBeLessThan(commandTimeoutMs + 500);
      }
      const values = await store.mget(acknowledged);
      const missing = acknowledged.filter((_, i) => values[i] === null);
      expect(missing, 'acknowledged writes lost').toEqual([]);
      expect(await store.get('w:warm')).toBe('1');
    } finally {
      stopping = true;
      await store.deleteByPrefix('').catch(() => {});
      await store.close();
      await setup.restartStopped().catch(() => {});
    }
  }, 60_000);
});
