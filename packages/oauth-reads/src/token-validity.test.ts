import { keys } from '@gatehouse/directory';
import type { TokenBinding } from '@gatehouse/grants';
import { MemoryProjectionStore, type ReadQuery } from '@gatehouse/projection-store';
import { caughtUpAtKey } from '@gatehouse/projections';
import { describe, expect, it } from 'vitest';
import {
  currentBindingDigest,
  type FreshnessGuard,
  ProjectionsStaleError,
  readModelsFresh,
  stillValid,
} from './token-validity.js';

const binding: TokenBinding = { tenant: 't1', serverId: 'org', clientId: 'c1', userId: 'u1' };

/** A store whose every read is answered only once the clock has moved on by `stallMs`: this
 * process stalled between sending the read and handling its answer (a long GC, a SIGSTOP). */
class StallingStore extends MemoryProjectionStore {
  constructor(
    private readonly clock: { at: number },
    private readonly stallMs: number,
  ) {
    super({ now: () => clock.at });
  }
  override async read<const Q extends readonly ReadQuery[]>(queries: Q) {
    const answer = await super.read(queries);
    this.clock.at += this.stallMs;
    return answer;
  }
  override async get(key: string) {
    const answer = await super.get(key);
    this.clock.at += this.stallMs;
    return answer;
  }
}

async function world(clock: { at: number }, stallMs: number) {
  const store = new StallingStore(clock, stallMs);
  await store.hset(keys.tenant('t1'), { status: 'ACTIVE' });
  await store.hset(keys.client('t1', 'c1'), { status: 'ACTIVE' });
  await store.hset(keys.user('t1', 'u1'), { status: 'ACTIVE' });
  const digest = await currentBindingDigest(store, binding);
  clock.at = 1_000_000;
  return { store, digest };
}

const query = (digest: string) => ({ binding, bindingDigest: digest, grantId: 'g1', jti: 'j1' });

describe('the freshness guard of token checks', () => {
  it('takes the read models as fresh as they were when the read was sent, whatever this process stalled after it', async () => {
    const clock = { at: 0 };
    const { store, digest } = await world(clock, 5_000);
    const guard: FreshnessGuard = { now: () => clock.at, maxLagMs: 1000 };
    // Caught up 200 ms before the read was sent; its answer handled 5 s later.
    await store.set(caughtUpAtKey, String(clock.at - 200));
    await expect(stillValid(store, query(digest), guard)).resolves.toBe(true);
    clock.at = 1_000_000;
    await expect(readModelsFresh(store, guard)).resolves.toEqual({ fresh: true, lagMs: 200 });
  });

  it('fails closed when the read models were already behind when the read was sent', async () => {
    const clock = { at: 0 };
    const { store, digest } = await world(clock, 0);
    const guard: FreshnessGuard = { now: () => clock.at, maxLagMs: 1000 };
    await store.set(caughtUpAtKey, String(clock.at - 1_001));
    await expect(stillValid(store, query(digest), guard)).rejects.toBeInstanceOf(
      ProjectionsStaleError,
    );
    await expect(readModelsFresh(store, guard)).resolves.toEqual({ fresh: false, lagMs: 1_001 });
    // Never written: no projector has ever caught up.
    await store.del([caughtUpAtKey]);
    await expect(stillValid(store, query(digest), guard)).rejects.toBeInstanceOf(
      ProjectionsStaleError,
    );
  });

  it('refuses a token whose client is no longer active, fresh or not', async () => {
    const clock = { at: 0 };
    const { store, digest } = await world(clock, 5_000);
    const guard: FreshnessGuard = { now: () => clock.at, maxLagMs: 1000 };
    await store.set(caughtUpAtKey, String(clock.at));
    await store.hset(keys.client('t1', 'c1'), { status: 'INACTIVE' });
    await expect(stillValid(store, query(digest), guard)).resolves.toBe(false);
  });
});
