// The key pool (issue 15) on both stacks: keys generated ahead of need on worker threads, taken once
// each by any number of replicas, sealed again for their server (never usable at the pool's place or
// another server's), checked on the way out; and a new tenant created through the admin API has
// signing keys in JWKS when its creation answers, from the pool while it lasts and generated on
// demand once it is empty.
import { createHash, createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { SigningKeyCreated } from '@gatehouse/contracts';
import { jwkThumbprint } from '@gatehouse/jwt';
import {
  KeyPool,
  KeyWorkers,
  keyPlace,
  keyPoolKeys,
  newKekSetting,
  openPrivateKey,
  parseKeks,
  poolPlace,
  UnsealError,
  unsealPrivateKey,
} from '@gatehouse/signing-keys';
import { startAdminApi } from '@gatehouse/test-services';
import type { TestStack } from '@gatehouse/test-stacks';
import { afterEach, describe, expect, it } from 'vitest';
import { startKeys, tenancy, until } from './keys-harness.js';

export function describeKeyPool(stack: TestStack): void {
  describe(`key pool: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A store of its own, so an empty pool (one per store, shared by every generation). */
    const openStore = async () => {
      const { bus, store, close } = await stack.open();
      cleanups.push(close);
      return { bus, store };
    };

    it('hands each pooled key to one taker only, sealed for its server and nowhere else', async () => {
      const { store } = await openStore();
      const keks = parseKeks(newKekSetting('kek-pool'));
      const workers = new KeyWorkers(2);
      cleanups.push(() => workers.close());
      const added = new Set<string>();
      // More keys than threads: the jobs queue and every one is done.
      const materials = await Promise.all(Array.from({ length: 5 }, () => workers.generate()));
      for (const material of materials) added.add(await new KeyPool(store, keks).add(material));
      expect(added.size).toBe(5);
      // Whatever a worker handed over was wiped once sealed.
      for (const material of materials) expect(material.der.every((byte) => byte === 0)).toBe(true);

      // Two replicas take at once, more than there is.
      const replicas = [new KeyPool(store, keks), new KeyPool(store, keks)];
      const taken = (
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => replicas[i % 2]!.take('acme', `srv${i}`)),
        )
      ).map((key, i) => ({ key, serverId: `srv${i}` }));
      const got = taken.filter((entry) => entry.key !== undefined);
      expect(got.map((entry) => entry.key!.kid).sort()).toEqual([...added].sort());
      expect(await replicas[0]!.size()).toBe(0);
      expect(await replicas[0]!.take('acme', 'late')).toBeUndefined();

      for (const { key, serverId } of got) {
        const sealed = key!.privateKey!;
        // The kid is the thumbprint of the public key, and the private key is its pair.
        expect(key!.kid).toBe(jwkThumbprint({ kty: 'RSA', n: key!.n, e: key!.e }));
        const privateKey = openPrivateKey(sealed, keks, keyPlace('acme', serverId, key!.kid));
        expect(createPublicKey(privateKey).export({ format: 'jwk' })).toMatchObject({
          n: key!.n,
          e: key!.e,
        });
        // Not at the pool's place any more, nor at another server's.
        expect(() => unsealPrivateKey(sealed, keks, poolPlace(key!.kid))).toThrow(UnsealError);
        expect(() => unsealPrivateKey(sealed, keks, keyPlace('acme', 'other', key!.kid))).toThrow(
          UnsealError,
        );
      }
    });

    it('drops a pooled key that does not open or is not the key pair it claims', async () => {
      const { store } = await openStore();
      const keks = parseKeks(newKekSetting('kek-pool'));
      const workers = new KeyWorkers(1);
      cleanups.push(() => workers.close());
      const logs: string[] = [];
      const pool = new KeyPool(store, keks, (entry) => logs.push(JSON.stringify(entry)));
      const honest = await pool.add(await workers.generate());
      const swapped = await pool.add(await workers.generate());
      // Sealed under a KEK this service does not have (another deployment's, or a retired one).
      const foreign = await new KeyPool(store, parseKeks(newKekSetting('kek-other'))).add(
        await workers.generate(),
      );
      // Someone with write access to the store swaps in another public key: JWKS would publish a
      // key the private one does not match.
      const stored = SigningKeyCreated.decode(
        Buffer.from((await store.get(keyPoolKeys.key(swapped)))!, 'base64'),
      );
      const other = SigningKeyCreated.decode(
        Buffer.from((await store.get(keyPoolKeys.key(honest)))!, 'base64'),
      );
      await store.set(
        keyPoolKeys.key(swapped),
        Buffer.from(SigningKeyCreated.encode({ ...stored, n: other.n }).finish()).toString(
          'base64',
        ),
      );

      const taken = [];
      for (let i = 0; i < 3; i++) taken.push(await pool.take('acme', 'default'));
      expect(taken.filter(Boolean).map((key) => key!.kid)).toEqual([honest]);
      expect(await pool.size()).toBe(0);
      expect(logs.filter((line) => line.includes('could not be used'))).toHaveLength(2);
      expect(logs.join('\n')).toContain(swapped);
      expect(logs.join('\n')).toContain(foreign);
    });

    it('a new tenant signs when its creation answers: from the pool, then generated on demand', async () => {
      // Two pooled keys per server, two servers per tenant: the pool serves one tenant at a time.
      const keys = await startKeys(stack, cleanups, { keyPool: { size: 4, threads: 2 } });
      const { bus, store, keys: service, get } = keys;
      const pool = new KeyPool(store, keys.keks);
      await until(async () => (await pool.size()) >= 4, 30_000);
      const adminToken = randomUUID() + randomUUID();
      const base = await startAdminApi(
        {
          bus,
          store,
          keks: keys.keks,
          tenancy,
          adminTokenSha256: createHash('sha256').update(adminToken).digest('hex'),
          readYourWritesMs: 10_000,
          log: () => {},
        },
        cleanups,
      );
      const createTenant = async () => {
        const id = `t-${randomUUID().slice(0, 8)}`;
        const response = await fetch(`${base}/api/v1/tenants`, {
          method: 'POST',
          headers: { authorization: `SSWS ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id, name: id }),
        });
        expect(response.status).toBe(201);
        return id;
      };
      /** The kids each of the tenant's servers publishes, read right after its creation answered. */
      const published = async (tenant: string) => {
        const org = (await get(`/${tenant}/oauth2/v1/keys`)).body.keys as { kid: string }[];
        const custom = (await get(`/${tenant}/oauth2/default/v1/keys`)).body.keys as {
          kid: string;
        }[];
        return { org: org.map((key) => key.kid), custom: custom.map((key) => key.kid) };
      };

      const first = await createTenant();
      const fromPool = await published(first);
      expect(fromPool.org).toHaveLength(2);
      expect(fromPool.custom).toHaveLength(2);
      expect(service.keeper.keySources).toEqual({ pool: 4, onDemand: 0 });

      // The pool is empty (its filler has not caught up yet, or never will: it is stopped): keys are
      // generated on demand, and the creation still answers with keys in JWKS.
      await service.poolFiller!.stop();
      await store.del([keyPoolKeys.kids()]);
      const second = await createTenant();
      const onDemand = await published(second);
      expect(onDemand.org).toHaveLength(2);
      expect(onDemand.custom).toHaveLength(2);
      expect(service.keeper.keySources).toEqual({ pool: 4, onDemand: 4 });
      // No key serves twice.
      const all = [...fromPool.org, ...fromPool.custom, ...onDemand.org, ...onDemand.custom];
      expect(new Set(all).size).toBe(8);
    });

    it('refills the pool on worker threads after keys were taken, up to its size', async () => {
      const {
        keys: service,
        store,
        keks,
        newTenant,
        logs,
      } = await startKeys(stack, cleanups, {
        keyPool: { size: 3, threads: 1 },
      });
      const pool = new KeyPool(store, keks);
      /** The filler's last word on the pool: that it is filling it, or that it is full. */
      const fillerSays = () =>
        logs
          .map((line) => (JSON.parse(line) as { message: string }).message)
          .filter(
            (message) => message === 'filling the key pool' || message === 'the key pool is full',
          )
          .at(-1);
      await until(async () => (await pool.size()) === 3, 30_000);
      await newTenant();
      const taken = service.keeper.keySources.pool;
      expect(taken).toBeGreaterThanOrEqual(3);
      // Refilled, and the filler has looked again and found it full: it waits now, generating nothing.
      await until(
        async () => (await pool.size()) === 3 && fillerSays() === 'the key pool is full',
        30_000,
      );
      // And no more than its size (one thread: no overshoot): one key added per key taken.
      expect(service.poolFiller!.stats.added).toBe(3 + taken);
      expect(await pool.size()).toBe(3);
      // The pooled keys are sealed: nothing in the store opens without the KEK.
      for (const kid of await store.smembers(keyPoolKeys.kids())) {
        const stored = SigningKeyCreated.decode(
          Buffer.from((await store.get(keyPoolKeys.key(kid)))!, 'base64'),
        );
        const sealed = stored.privateKey!;
        expect(() =>
          createPrivateKey({ key: sealed.ciphertext, format: 'der', type: 'pkcs8' }),
        ).toThrow();
      }
    });
  });
}
