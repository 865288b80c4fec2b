// OAuth clients (RFC 7591) and apps (lifecycle, assignments) end to end, on both stacks.
import { createHash } from 'node:crypto';
import { Topics } from '@gatehouse/events';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';

const web = {
  client_name: 'Web',
  redirect_uris: ['https://app.example.com/cb'],
  post_logout_redirect_uris: ['https://app.example.com/'],
};

export function describeClientApi(harness: AdminHarness): void {
  describe(`clients and apps API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it('registers a confidential client, shows its secret once, and keeps only its SHA-256', async () => {
      const { newTenant, bus, store } = await start();
      const acme = await newTenant();
      const created = await acme.as('POST', '/oauth2/v1/clients', web);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        client_id: expect.stringMatching(/^0oa[0-9A-Za-z]{17}$/),
        client_id_issued_at: expect.any(Number),
        client_name: 'Web',
        client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        client_secret_expires_at: 0,
        redirect_uris: ['https://app.example.com/cb'],
        post_logout_redirect_uris: ['https://app.example.com/'],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        application_type: 'web',
        consent_method: 'REQUIRED',
      });
      expect(Math.abs(created.body.client_id_issued_at - Date.now() / 1000)).toBeLessThan(60);
      const read = await acme.as('GET', `/oauth2/v1/clients/${created.body.client_id}`);
      expect(read.body).toEqual({ ...created.body, client_secret: undefined });
      expect('client_secret' in read.body).toBe(false);
      const secret = created.body.client_secret;
      const digest = createHash('sha256').update(secret).digest('hex');
      await bus.replay(Topics.directory, async (event) => {
        expect(Buffer.from(event.envelope.data).toString('latin1')).not.toContain(secret);
      });
      const stored = JSON.stringify(await store.dump(''));
      expect(stored).not.toContain(secret);
      expect(stored).toContain(digest);
    });

    it('registers a browser application as public, without a secret', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const spa = await acme.as('POST', '/oauth2/v1/clients', {
        client_name: 'SPA',
        application_type: 'browser',
        redirect_uris: ['http://localhost:3000/cb'],
      });
      expect(spa.status).toBe(201);
      expect(spa.body.token_endpoint_auth_method).toBe('none');
      expect(spa.body.client_secret).toBeUndefined();
      expect(spa.body.client_secret_expires_at).toBeUndefined();
      const rotate = await acme.as(
        'POST',
        `/oauth2/v1/clients/${spa.body.client_id}/lifecycle/newSecret`,
      );
      expect(rotate.status).toBe(403);
    });

    it('answers bad metadata with RFC 7591 errors', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const noName = await acme.as('POST', '/oauth2/v1/clients', {
        redirect_uris: ['https://a.example/cb'],
      });
      expect(noName.status).toBe(400);
      expect(noName.body).toEqual({
        error: 'invalid_client_metadata',
        error_description: "'client_name' is required",
      });
      const badRedirect = await acme.as('POST', '/oauth2/v1/clients', {
        client_name: 'X',
        redirect_uris: ['http://evil.example/cb'],
      });
      expect(badRedirect.body).toEqual({
        error: 'invalid_redirect_uri',
        error_description:
          "'http://evil.example/cb' must use https (http is allowed only for localhost)",
      });
      const malformed = await acme.as('POST', '/oauth2/v1/clients', '{"client_name":');
      expect(malformed.status).toBe(400);
    });

    it('replaces metadata, keeps a client confidential, and rotates its secret', async () => {
      const { newTenant, store } = await start();
      const acme = await newTenant();
      const created = (await acme.as('POST', '/oauth2/v1/clients', web)).body;
      const updated = await acme.as('PUT', `/oauth2/v1/clients/${created.client_id}`, {
        ...web,
        client_name: 'Web 2',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        client_name: 'Web 2',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      const toPublic = await acme.as('PUT', `/oauth2/v1/clients/${created.client_id}`, {
        ...web,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
      });
      expect(toPublic.status).toBe(400);
      expect(toPublic.body.error).toBe('invalid_client_metadata');

      const rotated = await acme.as(
        'POST',
        `/oauth2/v1/clients/${created.client_id}/lifecycle/newSecret`,
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(rotated.body.client_secret).not.toBe(created.client_secret);
      const stored = JSON.stringify(await store.dump(''));
      expect(stored).toContain(
        createHash('sha256').update(rotated.body.client_secret).digest('hex'),
      );
      expect(stored).not.toContain(
        createHash('sha256').update(created.client_secret).digest('hex'),
      );
    });

    it("deactivates, reactivates and deletes a client, its lifecycle in the directory's order", async () => {
      const { newTenant, bus, store } = await start();
      const acme = await newTenant();
      const id = (await acme.as('POST', '/oauth2/v1/clients', web)).body.client_id;
      expect((await acme.as('POST', `/api/v1/apps/${id}/lifecycle/deactivate`)).status).toBe(200);
      expect(await store.hget(`rm:client:${acme.id}:${id}`, 'status')).toBe('INACTIVE');
      await acme.as('POST', `/api/v1/apps/${id}/lifecycle/activate`);
      expect(await store.hget(`rm:client:${acme.id}:${id}`, 'status')).toBe('ACTIVE');
      expect((await acme.as('DELETE', `/oauth2/v1/clients/${id}`)).status).toBe(204);
      const gone = await acme.as('GET', `/oauth2/v1/clients/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.errorCode).toBe('E0000007');
      // Every client event is in gatehouse.directory (its source of truth, one order with its
      // metadata), each appended by a command; the projector copies the lifecycle ones to
      // gatehouse.client-lifecycle (tested with the projector).
      const events: string[] = [];
      await bus.replay(Topics.directory, async (event) => {
        if (event.envelope.aggregateId !== id) return;
        events.push(event.envelope.type.split('.').pop()!);
        expect(event.envelope.commandId).not.toBe('');
      });
      expect(events).toEqual([
        'ClientRegistered',
        'ClientDeactivated',
        'ClientActivated',
        'ClientDeleted',
      ]);
    });

    it('assigns users and groups to an app, and unassigns them', async () => {
      const { newTenant, store } = await start();
      const acme = await newTenant();
      const id = (await acme.as('POST', '/oauth2/v1/clients', web)).body.client_id;
      const user = (
        await acme.as('POST', '/api/v1/users', {
          profile: {
            login: 'ada@example.com',
            email: 'ada@example.com',
            firstName: 'Ada',
            lastName: 'L',
          },
        })
      ).body;
      const group = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Engineers' } }))
        .body;
      const assigned = await acme.as('PUT', `/api/v1/apps/${id}/users/${user.id}`);
      expect(assigned.status).toBe(200);
      expect(assigned.body).toMatchObject({
        id: user.id,
        scope: 'USER',
        credentials: { userName: 'ada@example.com' },
      });
      expect((await acme.as('PUT', `/api/v1/apps/${id}/groups/${group.id}`)).body).toMatchObject({
        id: group.id,
      });
      expect(await store.smembers(`rm:app-users:${acme.id}:${id}`)).toEqual([user.id]);
      expect(await store.smembers(`rm:app-groups:${acme.id}:${id}`)).toEqual([group.id]);
      expect((await acme.as('PUT', `/api/v1/apps/${id}/users/00uNOSUCHUSER0000000`)).status).toBe(
        404,
      );
      expect((await acme.as('PUT', `/api/v1/apps/${id}/groups/00gNOSUCHGROUP000000`)).status).toBe(
        404,
      );
      expect((await acme.as('DELETE', `/api/v1/apps/${id}/users/${user.id}`)).status).toBe(204);
      expect((await acme.as('DELETE', `/api/v1/apps/${id}/groups/${group.id}`)).status).toBe(204);
      expect(await store.smembers(`rm:app-users:${acme.id}:${id}`)).toEqual([]);
      expect(await store.smembers(`rm:app-groups:${acme.id}:${id}`)).toEqual([]);
    });

    it("keeps one tenant's clients out of another's reach", async () => {
      const { newTenant, call } = await start();
      const acme = await newTenant();
      const globex = await newTenant();
      const id = (await acme.as('POST', '/oauth2/v1/clients', web)).body.client_id;
      expect((await globex.as('GET', `/oauth2/v1/clients/${id}`)).status).toBe(404);
      expect(
        (await call('GET', `/${acme.id}/oauth2/v1/clients/${id}`, undefined, globex.apiToken))
          .status,
      ).toBe(401);
      expect((await globex.as('POST', `/api/v1/apps/${id}/lifecycle/deactivate`)).status).toBe(404);
    });
  });
}
