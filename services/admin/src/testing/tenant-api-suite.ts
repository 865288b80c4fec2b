// The system tenant API end to end: admin app + projector + event bus + projection store. Run on
// the embedded bus with the in-memory store (the all-in-one composition) and on Kafka with Redis.
import { createHash, randomUUID } from 'node:crypto';
import { Topics } from '@gatehouse/events';
import { isCommandOutcomeKey, rebuildProjections } from '@gatehouse/projections';
import { rateLimitConfigOf } from '@gatehouse/rate-limits';
import { loseStore } from '@gatehouse/test-stacks';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, adminToken, startAdmin } from './admin-harness.js';

export type { AdminHarness } from './admin-harness.js';

export function describeTenantApi(harness: AdminHarness): void {
  describe(`system tenant API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const start = (options: { projector?: boolean; readYourWritesMs?: number } = {}) =>
      startAdmin(harness, cleanups, options);
    const newId = () => `t-${randomUUID().slice(0, 8)}`;

    it('creates a tenant, shows its API token once, and reads it back at once', async () => {
      const { call } = await start();
      const id = newId();
      const created = await call('POST', '/api/v1/tenants', { id, name: ' Acme Corp ' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id,
        name: 'Acme Corp',
        status: 'ACTIVE',
        issuer: `http://localhost:9000/${id}`,
        created: expect.any(String),
        lastUpdated: expect.any(String),
        apiToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      const read = await call('GET', `/api/v1/tenants/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ ...created.body, apiToken: undefined });
      expect(read.body.apiToken).toBeUndefined();
      const list = await call('GET', '/api/v1/tenants');
      expect(list.body.map((t: { id: string }) => t.id)).toContain(id);
      expect(JSON.stringify(list.body)).not.toContain(created.body.apiToken);
    });

    it('throttles the management API per tenant API token, one budget across replicas', async () => {
      const { newTenant, call } = await startAdmin(harness, cleanups, {
        replicas: 2,
        rateLimits: rateLimitConfigOf({
          defaults: { managementToken: { limit: 6, windowSeconds: 60 } },
        }),
      });
      const acme = await newTenant();
      const other = await newTenant();
      const first = await acme.as('GET', '/api/v1/users');
      expect(first.status).not.toBe(429);
      expect(first.headers.get('x-rate-limit-limit')).toBe('6');
      expect(first.headers.get('x-rate-limit-remaining')).toBe('5');
      // Alternating replicas: the limit is the total, not per replica.
      const statuses = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await acme.asOn(i)('GET', '/api/v1/groups')).status);
      expect(statuses.filter((status) => status === 429)).toHaveLength(2);
      const refused = await acme.asOn(1)('GET', '/api/v1/groups');
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ errorCode: 'E0000047', errorCauses: [] });
      expect(refused.headers.get('x-rate-limit-remaining')).toBe('0');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another tenant's token, and the system token, have budgets of their own.
      expect((await other.as('GET', '/api/v1/groups')).status).not.toBe(429);
      expect((await call('GET', `/api/v1/tenants/${acme.id}`)).status).toBe(200);
    });

    it('keeps only a hash of the API token in the event and the read model', async () => {
      const { call, bus, store } = await start();
      const id = newId();
      const { body } = await call('POST', '/api/v1/tenants', { id, name: 'Acme' });
      const digest = createHash('sha256').update(body.apiToken).digest('hex');
      let found = false;
      await bus.replay(Topics.directory, async (event) => {
        const bytes = Buffer.from(event.envelope.data).toString('latin1');
        expect(bytes).not.toContain(body.apiToken);
        if (event.envelope.tenant === id) found = found || bytes.includes(digest);
      });
      expect(found).toBe(true);
      const everything = JSON.stringify(await store.dump(''));
      expect(everything).not.toContain(body.apiToken);
      expect(everything).toContain(digest);
    });

    it('refuses every call without the system token, with E0000011', async () => {
      const { call, base } = await start();
      // (HTTP strips a header value's surrounding blanks, so `${token} ` would arrive as the token.)
      for (const token of [null, 'wrong-token', `${adminToken}x`, adminToken.slice(0, -1), '']) {
        for (const [method, path] of [
          ['GET', '/api/v1/tenants'],
          ['POST', '/api/v1/tenants'],
          ['GET', '/api/v1/tenants/acme'],
        ] as const) {
          const response = await call(
            method,
            path,
            method === 'POST' ? { id: newId(), name: 'x' } : undefined,
            token,
          );
          expect(response.status).toBe(401);
          expect(response.body.errorCode).toBe('E0000011');
        }
      }
      const bearer = await fetch(`${base}/api/v1/tenants`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(bearer.status).toBe(401);
    });

    it('names every field at fault with E0000001, and refuses bodies that are not JSON objects', async () => {
      const { call } = await start();
      const cases: [unknown, string[]][] = [
        [{}, ['id: must be a string', 'name: must be a string']],
        [{ id: 7, name: 'x' }, ['id: must be a string']],
        [
          { id: 'A', name: '' },
          [
            'id: Tenant id must be 2 to 40 characters of a-z, 0-9 and -',
            'name: Tenant name must not be empty',
          ],
        ],
        [{ id: 'api', name: 'Reserved' }, ['id: Tenant id "api" is reserved']],
        [
          { id: newId(), name: 'x'.repeat(101) },
          ['name: Tenant name must be at most 100 characters'],
        ],
      ];
      for (const [body, causes] of cases) {
        const response = await call('POST', '/api/v1/tenants', body);
        expect(response.status).toBe(400);
        expect(response.body.errorCode).toBe('E0000001');
        expect(
          response.body.errorCauses.map((c: { errorSummary: string }) => c.errorSummary),
        ).toEqual(causes);
      }
      const malformed = await call('POST', '/api/v1/tenants', '{"id": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.errorCode).toBe('E0000003');
      const huge = await call('POST', '/api/v1/tenants', { id: newId(), name: 'x'.repeat(20_000) });
      expect(huge.status).toBe(413);
    });

    it('refuses an id that exists, and of 20 concurrent creates of one id exactly one succeeds', async () => {
      const { call } = await start();
      const id = newId();
      expect((await call('POST', '/api/v1/tenants', { id, name: 'First' })).status).toBe(201);
      const again = await call('POST', '/api/v1/tenants', { id, name: 'Second' });
      expect(again.status).toBe(400);
      expect(again.body.errorCauses).toEqual([
        { errorSummary: 'id: A tenant with this id already exists' },
      ]);

      const raced = newId();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call('POST', '/api/v1/tenants', { id: raced, name: `Racer ${i}` }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(
        results.filter((r) => r.status === 400 && r.body.errorCode === 'E0000001'),
      ).toHaveLength(19);
      const winner = results.find((r) => r.status === 201)!;
      expect((await call('GET', `/api/v1/tenants/${raced}`)).body.name).toBe(winner.body.name);
    });

    it('deactivates a tenant (again is harmless), and answers E0000007 for unknown ids', async () => {
      const { call } = await start();
      const id = newId();
      await call('POST', '/api/v1/tenants', { id, name: 'Acme' });
      const deactivated = await call('POST', `/api/v1/tenants/${id}/lifecycle/deactivate`);
      expect(deactivated.status).toBe(200);
      expect(deactivated.body.status).toBe('INACTIVE');
      expect((await call('GET', `/api/v1/tenants/${id}`)).body.status).toBe('INACTIVE');
      expect((await call('POST', `/api/v1/tenants/${id}/lifecycle/deactivate`)).body.status).toBe(
        'INACTIVE',
      );
      for (const [method, path] of [
        ['GET', '/api/v1/tenants/nobody'],
        ['POST', '/api/v1/tenants/nobody/lifecycle/deactivate'],
      ] as const) {
        const missing = await call(method, path);
        expect(missing.status).toBe(404);
        expect(missing.body).toMatchObject({
          errorCode: 'E0000007',
          errorSummary: 'Not found: Resource not found: nobody (tenant)',
        });
      }
      const wrongMethod = await call('DELETE', `/api/v1/tenants/${id}`);
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.body.errorCode).toBe('E0000022');
      // RFC 9110 section 15.5.6: a 405 names the methods the path takes.
      expect(wrongMethod.headers.get('allow')).toBe('HEAD, GET');
      const collection = await call('DELETE', '/api/v1/tenants');
      expect([collection.status, collection.headers.get('allow')]).toEqual([
        405,
        'POST, HEAD, GET',
      ]);
    });

    it('answers 503 within its bound, without a stack trace, when the projector is down', async () => {
      const { call, runner, store } = await start({ readYourWritesMs: 300 });
      await runner!.stop();
      const started = Date.now();
      const response = await call('POST', '/api/v1/tenants', { id: newId(), name: 'Acme' });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.body.errorCode).toBe('E0000009');
      expect(response.body.errorSummary).toContain('the projector is behind');
      // And with no read models at all (lost, being rebuilt): a 503 too, never a 500 or a 401.
      await loseStore(store);
      const lost = await call('POST', '/api/v1/tenants', { id: newId(), name: 'Acme' });
      expect(lost.status).toBe(503);
      expect(lost.body.errorSummary).toContain('cannot read its state');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('rebuilds identical read models after they are dropped', async () => {
      const { call, store, bus, runner, projections, caughtUp } = await start();
      for (let i = 0; i < 5; i += 1) {
        const id = newId();
        await call('POST', '/api/v1/tenants', { id, name: `Tenant ${i}` });
        if (i % 2 === 0) await call('POST', `/api/v1/tenants/${id}/lifecycle/deactivate`);
      }
      await caughtUp();
      await runner!.stop();
      // Command outcomes are for the writers that waited on them; a rebuild writes none.
      const lasting = async () =>
        (await store.dump('rm:')).filter((entry) => !isCommandOutcomeKey(entry.key));
      const original = await lasting();
      expect(original.length).toBeGreaterThan(10);
      await store.deleteByPrefix('rm:');
      const result = await rebuildProjections({ bus, store, projections });
      expect(result.events).toBeGreaterThanOrEqual(8);
      expect(await lasting()).toEqual(original);
    });
  });
}
