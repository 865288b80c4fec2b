// The projection store conformance suite: the Redis and in-memory adapters run the same tests.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GuardFailedError,
  indexMember,
  indexValuesKey,
  type ProjectionStore,
  versionKey,
  WrongTypeError,
} from '../port.js';

export interface ProjectionStoreHarness {
  name: string;
  /** A store whose keys are apart from every other namespace's. */
  open(namespace: string): Promise<ProjectionStore>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeProjectionStoreConformance(harness: ProjectionStoreHarness): void {
  describe(`ProjectionStore conformance: ${harness.name}`, () => {
    const opened: ProjectionStore[] = [];
    const open = async () => {
      const store = await harness.open(randomUUID());
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) {
        await store.deleteByPrefix('');
        await store.close();
      }
    });

    it('gets, sets, overwrites and deletes strings', async () => {
      const store = await open();
      expect(await store.get('a')).toBeNull();
      await store.set('a', '1');
      expect(await store.get('a')).toBe('1');
      await store.set('a', 'two');
      expect(await store.get('a')).toBe('two');
      await store.set('b', '');
      expect(await store.get('b')).toBe('');
      expect(await store.del(['a', 'b', 'missing'])).toBe(2);
      expect(await store.get('a')).toBeNull();
      await store.set('unicode', 'ünïcødé ✓');
      expect(await store.get('unicode')).toBe('ünïcødé ✓');
    });

    it('reads many keys in one call, in order, with null for absent keys and keys of other types', async () => {
      const store = await open();
      await store.set('k1', 'v1');
      await store.set('k3', 'v3');
      await store.hset('h', { f: 'x' });
      expect(await store.mget(['k1', 'k2', 'k3', 'h', 'k1'])).toEqual([
        'v1',
        null,
        'v3',
        null,
        'v1',
      ]);
      expect(await store.mget([])).toEqual([]);
    });

    it('expires keys after their TTL, and reports the time left', async () => {
      const store = await open();
      await store.set('short', 'x', { ttlMs: 150 });
      await store.set('forever', 'y');
      const left = await store.pttl('short');
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(150);
      expect(await store.pttl('forever')).toBe(-1);
      expect(await store.pttl('missing')).toBe(-2);
      await store.hset('hash', { f: 'v' });
      expect(await store.expire('hash', 150)).toBe(true);
      expect(await store.expire('missing', 150)).toBe(false);
      await store.set('reset', 'x', { ttlMs: 150 });
      await store.set('reset', 'y'); // a plain set drops the TTL
      // A real wait, kept: expiry on the store's own clock is what this proves (Redis's, which no
      // test clock reaches), so the TTLs above are short and this waits them out.
      await sleep(300);
      expect(await store.get('short')).toBeNull();
      expect(await store.pttl('short')).toBe(-2);
      expect(await store.hgetall('hash')).toEqual({});
      expect(await store.get('forever')).toBe('y');
      expect(await store.get('reset')).toBe('y');
    });

    it('refuses a TTL below 1 ms', async () => {
      const store = await open();
      await expect(store.set('a', 'x', { ttlMs: 0 })).rejects.toThrow(RangeError);
      await expect(store.write([{ op: 'set', key: 'a', value: 'x', ttlMs: -5 }])).rejects.toThrow(
        RangeError,
      );
      expect(await store.get('a')).toBeNull();
    });

    it('sets only an absent key with setIfAbsent: one winner among concurrent callers', async () => {
      const store = await open();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.setIfAbsent('login:ada', `user-${i}`, { ttlMs: 60_000 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.get('login:ada')).toBe(`user-${winner}`);
      expect(await store.pttl('login:ada')).toBeGreaterThan(0);
    });

    it('gets and deletes atomically: of concurrent callers exactly one gets the value', async () => {
      const store = await open();
      for (let round = 0; round < 5; round += 1) {
        await store.set(`code:${round}`, `grant-${round}`, { ttlMs: 60_000 });
        const results = await Promise.all(
          Array.from({ length: 40 }, () => store.getDel(`code:${round}`)),
        );
        expect(results.filter((r) => r !== null)).toEqual([`grant-${round}`]);
        expect(await store.get(`code:${round}`)).toBeNull();
      }
      expect(await store.getDel('missing')).toBeNull();
    });

    it('compares and sets: creates, replaces and deletes only from the expected value', async () => {
      const store = await open();
      expect(await store.compareAndSet('family', 'old', 'new')).toBe(false);
      expect(await store.get('family')).toBeNull();
      expect(await store.compareAndSet('family', null, 'r1', { ttlMs: 60_000 })).toBe(true);
      expect(await store.compareAndSet('family', null, 'r1')).toBe(false);
      expect(await store.compareAndSet('family', 'r1', 'r2')).toBe(true);
      expect(await store.pttl('family')).toBe(-1); // set without a TTL
      expect(await store.compareAndSet('family', 'r1', 'r3')).toBe(false);
      expect(await store.get('family')).toBe('r2');
      expect(await store.compareAndSet('family', 'r2', null)).toBe(true);
      expect(await store.get('family')).toBeNull();
    });

    it('compares and sets atomically: concurrent increments through CAS loops lose nothing', async () => {
      const store = await open();
      const workers = 10;
      const increments = 20;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = 0; i < increments; i += 1) {
            for (;;) {
              const current = await store.get('counter');
              const next = String(Number(current ?? '0') + 1);
              if (await store.compareAndSet('counter', current, next)) break;
              conflicts += 1;
            }
          }
        }),
      );
      expect(await store.get('counter')).toBe(String(workers * increments));
      expect(conflicts).toBeGreaterThanOrEqual(0);
    });

    it('keeps hashes: set, get, get all, delete fields; an emptied hash is gone', async () => {
      const store = await open();
      await store.hset('client:0oa1', { status: 'ACTIVE', name: 'Web' });
      await store.hset('client:0oa1', { status: 'INACTIVE' });
      expect(await store.hget('client:0oa1', 'status')).toBe('INACTIVE');
      expect(await store.hget('client:0oa1', 'missing')).toBeNull();
      expect(await store.hgetall('client:0oa1')).toEqual({ status: 'INACTIVE', name: 'Web' });
      expect(await store.hdel('client:0oa1', ['name', 'missing'])).toBe(1);
      expect(await store.hdel('client:0oa1', ['status'])).toBe(1);
      expect(await store.read([{ op: 'exists', key: 'client:0oa1' }])).toEqual([false]);
      expect(await store.hgetall('nothing')).toEqual({});
    });

    it('keeps sets: add, remove, members, membership; an emptied set is gone', async () => {
      const store = await open();
      expect(await store.sadd('group:everyone', ['u1', 'u2', 'u1'])).toBe(2);
      expect(await store.sadd('group:everyone', ['u2', 'u3'])).toBe(1);
      expect((await store.smembers('group:everyone')).sort()).toEqual(['u1', 'u2', 'u3']);
      expect(await store.sismember('group:everyone', 'u3')).toBe(true);
      expect(await store.sismember('group:everyone', 'u9')).toBe(false);
      expect(await store.srem('group:everyone', ['u1', 'u9'])).toBe(1);
      expect(await store.srem('group:everyone', ['u2', 'u3'])).toBe(2);
      expect(await store.smembers('group:everyone')).toEqual([]);
      expect(await store.read([{ op: 'exists', key: 'group:everyone' }])).toEqual([false]);
    });

    it('refuses an operation of one type on a key of another', async () => {
      const store = await open();
      await store.set('s', 'x');
      await store.hset('h', { f: 'v' });
      await store.sadd('set', ['m']);
      await expect(store.hget('s', 'f')).rejects.toBeInstanceOf(WrongTypeError);
      await expect(store.get('h')).rejects.toBeInstanceOf(WrongTypeError);
      await expect(store.sismember('h', 'm')).rejects.toBeInstanceOf(WrongTypeError);
      await expect(store.hset('set', { f: 'v' })).rejects.toBeInstanceOf(WrongTypeError);
      await expect(store.getDel('set')).rejects.toBeInstanceOf(WrongTypeError);
      // In a read batch too: the batch fails, naming no other query's result.
      await expect(
        store.read([
          { op: 'get', key: 's' },
          { op: 'hget', key: 's', field: 'f' },
        ]),
      ).rejects.toBeInstanceOf(WrongTypeError);
      await store.set('h', 'now a string'); // set replaces a key of any type
      expect(await store.get('h')).toBe('now a string');
    });

    it('runs a batch of mixed reads in one call', async () => {
      const store = await open();
      await store.set('watermark:client:c1', '1700000000000');
      await store.hset('user:u1', { status: 'ACTIVE' });
      await store.sadd('revoked:jti', ['j1']);
      const [watermark, missing, status, profile, revoked, notRevoked, exists, members] =
        await store.read([
          { op: 'get', key: 'watermark:client:c1' },
          { op: 'get', key: 'watermark:user:u1' },
          { op: 'hget', key: 'user:u1', field: 'status' },
          { op: 'hgetall', key: 'user:u1' },
          { op: 'sismember', key: 'revoked:jti', member: 'j1' },
          { op: 'sismember', key: 'revoked:jti', member: 'j2' },
          { op: 'exists', key: 'user:u1' },
          { op: 'smembers', key: 'revoked:jti' },
        ]);
      expect({ watermark, missing, status, profile, revoked, notRevoked, exists, members }).toEqual(
        {
          watermark: '1700000000000',
          missing: null,
          status: 'ACTIVE',
          profile: { status: 'ACTIVE' },
          revoked: true,
          notRevoked: false,
          exists: true,
          members: ['j1'],
        },
      );
      expect(await store.read([])).toEqual([]);
      // Text of any script, quotes and escapes, byte for byte.
      const text = 'Zoë "Ω" 日本 \\ / \u0001 😀';
      await store.hset('user:u3', { name: text, '': 'empty field name' });
      await store.set('note', text);
      expect(
        await store.read([
          { op: 'hgetall', key: 'user:u3' },
          { op: 'get', key: 'note' },
          { op: 'hget', key: 'user:u3', field: 'name' },
        ]),
      ).toEqual([{ name: text, '': 'empty field name' }, text, text]);
      // Missing keys and fields, each in its own shape.
      expect(
        await store.read([
          { op: 'hget', key: 'user:u1', field: 'nothing' },
          { op: 'hgetall', key: 'user:u2' },
          { op: 'smembers', key: 'revoked:none' },
          { op: 'sismember', key: 'revoked:none', member: 'j1' },
          { op: 'exists', key: 'user:u2' },
          { op: 'get', key: 'user:u2' },
        ]),
      ).toEqual([null, {}, [], false, false, null]);
      // Fields and members of any text: digits, colons, multi-byte characters, empty.
      const odd = ['12:3', ':', '', '3:ab', 'Zoë 日本 😀:9'];
      await store.hset('odd', Object.fromEntries(odd.map((field, i) => [field, `v${i}`])));
      await store.sadd('odd:set', odd);
      expect(
        await store.read([
          ...odd.map((field) => ({ op: 'hget', key: 'odd', field }) as const),
          ...odd.map((member) => ({ op: 'sismember', key: 'odd:set', member }) as const),
          { op: 'sismember', key: 'odd:set', member: '12:' },
          { op: 'hget', key: 'odd', field: '3' },
        ]),
      ).toEqual([...odd.map((_, i) => `v${i}`), ...odd.map(() => true), false, null]);
    });

    it('applies a batch of writes together', async () => {
      const store = await open();
      await store.set('stale', 'x');
      await store.sadd('gone', ['a']);
      await store.write([
        { op: 'set', key: 'position', value: '42' },
        { op: 'set', key: 'code', value: 'c', ttlMs: 60_000 },
        { op: 'hset', key: 'user:u1', fields: { status: 'SUSPENDED', login: 'ada' } },
        { op: 'hdel', key: 'user:u1', fields: ['login'] },
        { op: 'sadd', key: 'members', members: ['u1', 'u2'] },
        { op: 'srem', key: 'members', members: ['u2'] },
        { op: 'srem', key: 'gone', members: ['a'] },
        { op: 'del', key: 'stale' },
        { op: 'expire', key: 'user:u1', ttlMs: 60_000 },
      ]);
      expect(await store.mget(['position', 'code', 'stale'])).toEqual(['42', 'c', null]);
      expect(await store.hgetall('user:u1')).toEqual({ status: 'SUSPENDED' });
      expect(await store.smembers('members')).toEqual(['u1']);
      expect(await store.read([{ op: 'exists', key: 'gone' }])).toEqual([false]);
      expect(await store.pttl('code')).toBeGreaterThan(0);
      expect(await store.pttl('user:u1')).toBeGreaterThan(0);
      await store.write([]);
    });

    it('dumps every key under a prefix with its type and value, sorted', async () => {
      const store = await open();
      await store.set('rm:b', 'string value');
      await store.hset('rm:a', { z: '1', a: '2' });
      await store.sadd('rm:c', ['y', 'x']);
      await store.set('rm:d', 'short-lived', { ttlMs: 60_000 });
      await store.set('other', 'not dumped');
      expect(await store.dump('rm:')).toEqual([
        { key: 'rm:a', type: 'hash', value: { a: '2', z: '1' }, expires: false },
        { key: 'rm:b', type: 'string', value: 'string value', expires: false },
        { key: 'rm:c', type: 'set', value: ['x', 'y'], expires: false },
        { key: 'rm:d', type: 'string', value: 'short-lived', expires: true },
      ]);
      expect(await store.dump('none:')).toEqual([]);
    });

    it('keeps the newest of monotonic sets, in any order, and a CAS can set the version', async () => {
      const writes = [
        { value: 'two', version: 2 },
        { value: 'one', version: 1 },
        { value: 'three', version: 3 },
      ];
      for (const order of [
        [0, 1, 2],
        [2, 1, 0],
        [1, 2, 0],
        [2, 0, 1],
      ]) {
        const store = await open();
        for (const i of order)
          await store.write([{ op: 'setIfNewer', key: 'rm:refresh', ...writes[i]! }]);
        expect(await store.get('rm:refresh')).toBe('three');
        expect(await store.get(versionKey('rm:refresh'))).toBe('3');
      }
      const store = await open();
      await store.write([{ op: 'setIfNewer', key: 'k', value: 'a', version: 5, ttlMs: 60_000 }]);
      // The same version again changes nothing (a redelivery), and both keys share the lifetime.
      await store.write([{ op: 'setIfNewer', key: 'k', value: 'b', version: 5 }]);
      expect(await store.get('k')).toBe('a');
      expect(await store.pttl('k')).toBeGreaterThan(0);
      expect(await store.pttl(versionKey('k'))).toBeGreaterThan(0);
      // A service's compare-and-set moves the version on; an older projected write cannot undo it.
      expect(await store.compareAndSet('k', 'a', 'spent', { ttlMs: 60_000, version: 6 })).toBe(
        true,
      );
      await store.write([{ op: 'setIfNewer', key: 'k', value: 'current', version: 5 }]);
      expect(await store.get('k')).toBe('spent');
      await store.write([{ op: 'setIfNewer', key: 'k', value: 'newer', version: 7 }]);
      expect(await store.get('k')).toBe('newer');
      // A value set without a version counts as version 0.
      await store.set('plain', 'p');
      await store.write([{ op: 'setIfNewer', key: 'plain', value: 'v1', version: 1 }]);
      expect(await store.get('plain')).toBe('v1');
    });

    it("applies a projector's batch only above its partition's position, atomically", async () => {
      const store = await open();
      const batch = (value: string) => [
        { op: 'set' as const, key: 'rm:a', value },
        { op: 'sadd' as const, key: 'rm:s', members: [value] },
      ];
      expect(await store.writeAtPosition('pos:t:0', 5n, batch('five'))).toBe(true);
      expect(await store.get('pos:t:0')).toBe('5');
      expect(await store.writeAtPosition('pos:t:0', 5n, batch('again'))).toBe(false);
      expect(await store.writeAtPosition('pos:t:0', 3n, batch('older'))).toBe(false);
      expect(await store.get('rm:a')).toBe('five');
      expect(await store.smembers('rm:s')).toEqual(['five']);
      expect(await store.writeAtPosition('pos:t:0', 6n, batch('six'))).toBe(true);
      expect(await store.get('rm:a')).toBe('six');
      // Offsets past 2^53 compare as offsets, not as rounded numbers.
      expect(await store.writeAtPosition('pos:t:1', 9007199254740993n, [])).toBe(true);
      expect(await store.get('pos:t:1')).toBe('9007199254740993');
      // Replicas racing for one event: exactly one applies it.
      const raced = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.writeAtPosition('pos:t:0', 7n, [
            { op: 'sadd', key: 'rm:raced', members: [`r${i}`] },
          ]),
        ),
      );
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await store.smembers('rm:raced')).toHaveLength(1);
    });

    it('reads and writes only while a guard key holds its value, atomically', async () => {
      const store = await open();
      await store.set('pointer', 'g1');
      await store.set('k', 'v');
      const holds = { key: 'pointer', value: 'g1' };
      expect(await store.read([{ op: 'get', key: 'k' }], holds)).toEqual(['v']);
      await store.write([{ op: 'set', key: 'k', value: 'w' }], holds);
      expect(
        await store.writeAtPosition('pos:x', 1n, [{ op: 'sadd', key: 's', members: ['a'] }], holds),
      ).toBe(true);
      const failures = [
        () => store.read([{ op: 'get', key: 'k' }], { key: 'pointer', value: 'g2' }),
        () => store.write([{ op: 'set', key: 'k', value: 'x' }], { key: 'pointer', value: null }),
        () =>
          store.writeAtPosition('pos:x', 2n, [{ op: 'sadd', key: 's', members: ['b'] }], {
            key: 'pointer',
            value: 'g0',
          }),
        () => store.read([], { key: 'pointer', value: 'g2' }),
      ];
      for (const attempt of failures) {
        const failed = attempt();
        await expect(failed).rejects.toBeInstanceOf(GuardFailedError);
        await expect(failed).rejects.toMatchObject({ key: 'pointer', actual: 'g1' });
      }
      // An absent key is what a null guard wants, and "nothing" to any other.
      await store.del(['pointer']);
      await store.write([{ op: 'set', key: 'n', value: '1' }], { key: 'pointer', value: null });
      await expect(store.read([{ op: 'get', key: 'k' }], holds)).rejects.toMatchObject({
        actual: null,
      });
      expect(await store.mget(['k', 'n', 'pos:x'])).toEqual(['w', '1', '1']);
      expect(await store.smembers('s')).toEqual(['a']);
    });

    it('stops a write batch at a write of the wrong type, keeping the writes before it', async () => {
      const store = await open();
      await store.sadd('a-set', ['m']);
      const failed = store.write([
        { op: 'set', key: 'before', value: '1' },
        { op: 'hset', key: 'a-set', fields: { f: 'v' } },
        { op: 'set', key: 'after', value: '1' },
      ]);
      await expect(failed).rejects.toBeInstanceOf(WrongTypeError);
      await expect(failed).rejects.toMatchObject({ key: 'a-set' });
      expect(await store.mget(['before', 'after'])).toEqual(['1', null]);
    });

    it('lists and deletes keys by prefix, taking glob characters literally', async () => {
      const store = await open();
      const keys = Array.from({ length: 1500 }, (_, i) => `proj:user:${i}`);
      for (let i = 0; i < keys.length; i += 500) {
        await store.write(
          keys.slice(i, i + 500).map((key) => ({ op: 'set' as const, key, value: '1' })),
        );
      }
      await store.set('proj:*:literal', 'x');
      await store.set('proj?x', 'y');
      await store.set('other:1', 'z');
      const listed: string[] = [];
      for await (const batch of store.scan('proj:user:')) listed.push(...batch);
      expect(listed.sort()).toEqual([...keys].sort());
      const starred: string[] = [];
      for await (const batch of store.scan('proj:*')) starred.push(...batch);
      expect(starred).toEqual(['proj:*:literal']);
      expect(await store.deleteByPrefix('proj:')).toBe(1501);
      expect(await store.mget(['proj:user:0', 'proj?x', 'other:1'])).toEqual([null, 'y', 'z']);
    });
    it('keeps ordered indexes: put moves an id, delete removes it, an emptied index is gone', async () => {
      const store = await open();
      const put = (id: string, value: string) => ({
        op: 'indexPut' as const,
        key: 'ix',
        id,
        value,
      });
      await store.write([
        put('u2', 'bob'),
        put('u1', 'bob'),
        put('u3', 'alice'),
        put('u4', 'carol'),
      ]);
      const all = { op: 'indexRange' as const, key: 'ix', min: null, max: null, limit: 100 };
      expect((await store.read([all]))[0]).toEqual([
        indexMember('alice', 'u3'),
        indexMember('bob', 'u1'),
        indexMember('bob', 'u2'),
        indexMember('carol', 'u4'),
      ]);
      // A put moves the id, knowing only its new value; a repeated put changes nothing.
      await store.write([put('u3', 'dave'), put('u4', 'carol')]);
      expect((await store.read([all]))[0]).toEqual([
        indexMember('bob', 'u1'),
        indexMember('bob', 'u2'),
        indexMember('carol', 'u4'),
        indexMember('dave', 'u3'),
      ]);
      expect(await store.hgetall(indexValuesKey('ix'))).toEqual({
        u1: 'bob',
        u2: 'bob',
        u3: 'dave',
        u4: 'carol',
      });
      await store.write([
        { op: 'indexDelete', key: 'ix', id: 'u1' },
        { op: 'indexDelete', key: 'ix', id: 'missing' },
      ]);
      expect((await store.read([all]))[0]).toHaveLength(3);
      await store.write(
        ['u2', 'u3', 'u4'].map((id) => ({ op: 'indexDelete' as const, key: 'ix', id })),
      );
      expect(await store.read([all, { op: 'exists', key: 'ix' }])).toEqual([[], false]);
      expect(await store.read([{ op: 'exists', key: indexValuesKey('ix') }])).toEqual([false]);
    });

    it('reads index ranges between bounds, inclusive or not, in byte order, up to a limit', async () => {
      const store = await open();
      const values = ['a', 'ab', 'abc', 'b', 'é', '\uffff', '😀', 'z'];
      await store.write(
        values.map((value, i) => ({ op: 'indexPut' as const, key: 'ix', id: `id${i}`, value })),
      );
      const range = async (
        min: { member: string; inclusive: boolean } | null,
        max: { member: string; inclusive: boolean } | null,
        limit = 100,
      ) =>
        ((await store.read([{ op: 'indexRange', key: 'ix', min, max, limit }]))[0] as string[]).map(
          (member) => member.slice(0, member.indexOf('\u0000')),
        );
      // UTF-8 byte order: z < é (C3 A9) < U+FFFF (EF BF BF) < 😀 (F0 9F 98 80).
      expect(await range(null, null)).toEqual(['a', 'ab', 'abc', 'b', 'z', 'é', '\uffff', '😀']);
      // A prefix: from the prefix to the prefix followed by the highest code point.
      expect(
        await range(
          { member: 'ab', inclusive: true },
          { member: 'ab\u{10ffff}', inclusive: false },
        ),
      ).toEqual(['ab', 'abc']);
      // Exclusive bounds on members; values equal to 'ab' start at 'ab\0'.
      expect(
        await range(
          { member: 'ab\u0000\u{10ffff}', inclusive: false },
          { member: 'z\u0000', inclusive: false },
        ),
      ).toEqual(['abc', 'b']);
      expect(await range({ member: indexMember('a', 'id0'), inclusive: false }, null, 2)).toEqual([
        'ab',
        'abc',
      ]);
      expect(await range({ member: indexMember('a', 'id0'), inclusive: true }, null, 1)).toEqual([
        'a',
      ]);
      expect(await range(null, null, 0)).toEqual([]);
      expect(await range({ member: '😀😀', inclusive: true }, null)).toEqual([]);
      expect(
        (await store.read([{ op: 'indexRange', key: 'none', min: null, max: null, limit: 5 }]))[0],
      ).toEqual([]);
      await store.set('plain', 'x');
      await expect(
        store.read([{ op: 'indexRange', key: 'plain', min: null, max: null, limit: 5 }]),
      ).rejects.toBeInstanceOf(WrongTypeError);
    });

    it('keeps many index entries in order through puts and deletes, and dumps them', async () => {
      const store = await open();
      const ids = Array.from({ length: 3000 }, (_, i) => `u${String(i).padStart(5, '0')}`);
      const valueAt = (i: number) => `v${String((i * 7919) % 3000).padStart(5, '0')}`;
      for (let i = 0; i < ids.length; i += 500)
        await store.write(
          ids
            .slice(i, i + 500)
            .map((id, j) => ({ op: 'indexPut' as const, key: 'rm:ix', id, value: valueAt(i + j) })),
        );
      await store.write(
        ids
          .filter((_, i) => i % 3 === 0)
          .map((id) => ({ op: 'indexDelete' as const, key: 'rm:ix', id })),
      );
      const expected = ids
        .map((id, i) => ({ id, i }))
        .filter(({ i }) => i % 3 !== 0)
        .map(({ id, i }) => indexMember(valueAt(i), id))
        .sort();
      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const [page] = await store.read([
          {
            op: 'indexRange',
            key: 'rm:ix',
            min: after ? { member: after, inclusive: false } : null,
            max: null,
            limit: 333,
          },
        ]);
        paged.push(...page);
        if (page.length < 333) break;
        after = page[page.length - 1];
      }
      expect(paged).toEqual(expected);
      const dumped = (await store.dump('rm:ix')).find((key) => key.key === 'rm:ix');
      expect(dumped).toEqual({ key: 'rm:ix', type: 'zset', value: expected, expires: false });
    });

    it('applies index writes with a projector batch only above its position', async () => {
      const store = await open();
      const put = { op: 'indexPut' as const, key: 'ix', id: 'u1', value: 'first' };
      expect(await store.writeAtPosition('pos', 5n, [put])).toBe(true);
      expect(
        await store.writeAtPosition('pos', 5n, [
          { op: 'indexPut', key: 'ix', id: 'u1', value: 'again' },
        ]),
      ).toBe(false);
      expect(
        await store.writeAtPosition('pos', 4n, [{ op: 'indexDelete', key: 'ix', id: 'u1' }]),
      ).toBe(false);
      expect(
        (await store.read([{ op: 'indexRange', key: 'ix', min: null, max: null, limit: 10 }]))[0],
      ).toEqual([indexMember('first', 'u1')]);
      await store.set('wrong', 'x');
      await expect(
        store.write([{ op: 'indexPut', key: 'wrong', id: 'u1', value: 'v' }]),
      ).rejects.toBeInstanceOf(WrongTypeError);
    });
  });
}
