// Idempotency-Key on the management API (issue 15): a retry with the same key gets the first outcome
// (replayed, marked Idempotent-Replayed), never a second change; the key cannot be used for another
// request; a retry while the first still runs is told so; and a retry after a 503 that said the
// change may still apply finds out what became of it before doing anything.
import { randomUUID } from 'node:crypto';
import { ProjectionRunner } from '@gatehouse/projections';
import type { TestStack } from '@gatehouse/test-stacks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startAdmin } from './admin-harness.js';

export function describeIdempotency(stack: TestStack): void {
  describe(`admin API with Idempotency-Key: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async (options: { readYourWritesMs?: number } = {}) => {
      const admin = await startAdmin(stack, cleanups, options);
      const tenant = await admin.newTenant();
      /** A change under the tenant's org, with an Idempotency-Key when given. */
      const send = async (
        method: string,
        path: string,
        body: unknown,
        key?: string,
        token = tenant.apiToken,
      ) => {
        const response = await fetch(`${admin.base}/${tenant.id}${path}`, {
          method,
          headers: {
            authorization: `SSWS ${token}`,
            'content-type': 'application/json',
            ...(key !== undefined ? { 'idempotency-key': key } : {}),
          },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        return {
          status: response.status,
          headers: response.headers,
          // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by the expectations
          body: (text ? JSON.parse(text) : undefined) as any,
        };
      };
      /** The ids of the tenant's users with this login. */
      const usersWithLogin = async (login: string, of = tenant) => {
        const ids = await admin.store.smembers(`rm:users:${of.id}`);
        const logins = await Promise.all(
          ids.map(async (id) => (await of.as('GET', `/api/v1/users/${id}`)).body.profile.login),
        );
        return ids.filter((_, i) => logins[i] === login);
      };
      return { admin, tenant, send, usersWithLogin };
    };
    const newUser = (login: string) => ({
      profile: { login, email: login, firstName: 'Ada', lastName: 'Lovelace' },
    });

    it('answers a retry with the first outcome, replayed, and makes one change', async () => {
      const { send, usersWithLogin } = await setup();
      const key = randomUUID();
      const first = await send(
        'POST',
        '/api/v1/users?activate=false',
        newUser('ada@example.com'),
        key,
      );
      expect(first.status).toBe(200);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const again = await send(
        'POST',
        '/api/v1/users?activate=false',
        newUser('ada@example.com'),
        `"${key}"`,
      );
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await usersWithLogin('ada@example.com')).toEqual([first.body.id]);
      // Without the key, the same request is a new one: Okta's "already exists".
      const unkeyed = await send(
        'POST',
        '/api/v1/users?activate=false',
        newUser('ada@example.com'),
      );
      expect(unkeyed.status).toBe(400);
      expect(unkeyed.body.errorCauses[0].errorSummary).toContain('already exists');
      // A final error is an outcome too: replayed, not decided again.
      const badKey = randomUUID();
      const bad = await send('POST', '/api/v1/groups', { profile: {} }, badKey);
      expect(bad.status).toBe(400);
      const badAgain = await send('POST', '/api/v1/groups', { profile: {} }, badKey);
      expect(badAgain.status).toBe(400);
      expect(badAgain.headers.get('idempotent-replayed')).toBe('true');
      expect(badAgain.body).toEqual(bad.body);
    });

    it('refuses a key used with another request (422), a malformed key (400), and keeps keys apart', async () => {
      const { send, usersWithLogin, admin } = await setup();
      const key = randomUUID();
      expect((await send('POST', '/api/v1/groups', { profile: { name: 'one' } }, key)).status).toBe(
        200,
      );
      const other = await send('POST', '/api/v1/groups', { profile: { name: 'two' } }, key);
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({
        errorCode: 'E0000001',
        errorCauses: [{ errorSummary: 'Idempotency-Key: was already used with another request' }],
      });
      // Nobody without a credential the API checked leaves a record.
      const records = async () => (await admin.store.dump('fs:idempotency:')).length;
      const before = await records();
      expect(before).toBeGreaterThan(0);
      const anonymous = await fetch(`${admin.base}/api/v1/nowhere`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: '{}',
      });
      expect(anonymous.status).toBe(404);
      const wrongToken = await send(
        'POST',
        '/api/v1/groups',
        { profile: { name: 'w' } },
        randomUUID(),
        'nope',
      );
      expect(wrongToken.status).toBe(401);
      expect(await records()).toBe(before);
      const malformed = await send('POST', '/api/v1/groups', { profile: { name: 'x' } }, 'a b');
      expect(malformed.status).toBe(400);
      expect(malformed.body.errorCode).toBe('E0000001');
      // The same key from another tenant (another credential) is another key.
      const second = await admin.newTenant();
      const theirs = await fetch(`${admin.base}/${second.id}/api/v1/users?activate=false`, {
        method: 'POST',
        headers: {
          authorization: `SSWS ${second.apiToken}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(newUser('ada@example.com')),
      });
      expect(theirs.status).toBe(200);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
      expect(await usersWithLogin('ada@example.com')).toEqual([]);
      // A change without a body (DELETE) is keyed as well.
      const scopes = '/api/v1/authorizationServers/default/scopes';
      const scope = await send('POST', scopes, { name: 'orders.read' });
      expect(scope.status).toBe(201);
      const deleted = await send('DELETE', `${scopes}/${scope.body.id}`, undefined, 'del-1');
      expect(deleted.status).toBe(204);
      const deletedAgain = await send('DELETE', `${scopes}/${scope.body.id}`, undefined, 'del-1');
      expect(deletedAgain.status).toBe(204);
      expect(deletedAgain.headers.get('idempotent-replayed')).toBe('true');
      const unkeyed = await send('DELETE', `${scopes}/${scope.body.id}`, undefined);
      expect(unkeyed.status).toBe(404);
    });

    it('tells a retry while the first runs, and after a 503 in doubt finds out before acting', async () => {
      const { admin, send, usersWithLogin } = await setup({ readYourWritesMs: 1500 });
      // The projector stops: a change is appended, and its verdict does not come.
      await admin.runner!.stop();
      const key = randomUUID();
      const login = 'grace@example.com';
      const first = send('POST', '/api/v1/users?activate=false', newUser(login), key);
      // The first has claimed the key: its record says it runs (it waits for the projector).
      await vi.waitFor(
        async () => {
          const records = await admin.store.dump('fs:idempotency:');
          expect(records.map((record) => JSON.parse(String(record.value)).state)).toEqual([
            'running',
          ]);
        },
        { timeout: 10_000, interval: 5 },
      );
      const meanwhile = await send('POST', '/api/v1/users?activate=false', newUser(login), key);
      expect(meanwhile.status).toBe(409);
      expect(meanwhile.body.errorSummary).toContain('still in progress');
      expect(meanwhile.headers.get('retry-after')).toBe('1');
      const inDoubt = await first;
      expect(inDoubt.status).toBe(503);
      expect(inDoubt.body.errorSummary).toContain('applies unless');
      // While the projector is away, what became of it is not known: no second change is tried.
      const unknown = await send('POST', '/api/v1/users?activate=false', newUser(login), key);
      expect(unknown.status).toBe(503);
      expect(unknown.body.errorSummary).toContain('not known yet');

      // The projector is back and admits the change: the retry says so, once and for all.
      const runner = await ProjectionRunner.start({
        bus: admin.bus,
        store: admin.store,
        projections: admin.projections,
        groupId: `projector-${randomUUID()}`,
      });
      cleanups.push(() => runner.stop());
      const settled = await send('POST', '/api/v1/users?activate=false', newUser(login), key);
      expect(settled.status).toBe(409);
      expect(settled.body.errorSummary).toContain('was applied after it answered 503');
      const replayed = await send('POST', '/api/v1/users?activate=false', newUser(login), key);
      expect(replayed.status).toBe(409);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expect(await usersWithLogin(login)).toHaveLength(1);
    });
  });
}
