// OAuth clients (RFC 7591) and apps (lifecycle, assignments) end to end, on both stacks.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { clientViewOf, keys, newId, readClientMetadata } from '@gatehouse/directory';
import { Topics } from '@gatehouse/events';
import { UnsealError } from '@gatehouse/signing-keys';
import { appendDirectoryEvents } from '@gatehouse/test-stacks';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';
import { clientEvents, dataOf, opened } from './client-secrets.js';

const web = {
  client_name: 'Web',
  redirect_uris: ['https://app.example.com/cb'],
  post_logout_redirect_uris: ['https://app.example.com/'],
};

/** A private_key_jwt service's public keys, and its private RSA key as a careless client sends it. */
const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaKey = { ...rsaPair.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256' };
const ecKey = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid: 'ec-1',
};
const signingService = (keys: Record<string, unknown>) => ({
  client_name: 'Signing job',
  application_type: 'service',
  token_endpoint_auth_method: 'private_key_jwt',
  ...keys,
});

export function describeClientApi(harness: AdminHarness): void {
  describe(`clients and apps API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it('registers a confidential client, shows its secret once, and keeps it only hashed and sealed', async () => {
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
        require_pushed_authorization_requests: false,
        dpop_bound_access_tokens: false,
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

    it('seals the secret of every secret method for its client alone: client_secret_jwt and client_secret_basic', async () => {
      const { newTenant, bus, keks } = await start();
      const acme = await newTenant();
      const jwt = await acme.as('POST', '/oauth2/v1/clients', {
        ...web,
        token_endpoint_auth_method: 'client_secret_jwt',
      });
      expect(jwt.status).toBe(201);
      expect(jwt.body).toMatchObject({
        token_endpoint_auth_method: 'client_secret_jwt',
        client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        client_secret_expires_at: 0,
      });
      const basic = (await acme.as('POST', '/oauth2/v1/clients', web)).body;
      expect(basic.token_endpoint_auth_method).toBe('client_secret_basic');
      for (const client of [jwt.body, basic]) {
        const [event] = await clientEvents(bus, client.client_id);
        const registered = dataOf(event, 'gatehouse.events.v1.ClientRegistered');
        const sealed = registered.clientSecretSealed;
        expect(sealed?.kekId).toBe(keks.current.id);
        expect(opened(sealed, keks, acme.id, client.client_id)).toBe(client.client_secret);
        expect(registered.clientSecretSha256).toBe(
          createHash('sha256').update(client.client_secret).digest('hex'),
        );
        // Sealed for this client of this tenant: it opens as no other.
        expect(() => opened(sealed, keks, acme.id, newId('0oa'))).toThrow(UnsealError);
        expect(() => opened(sealed, keks, `${acme.id}x`, client.client_id)).toThrow(UnsealError);
      }
      // Shown once: a read gives neither the secret nor its sealed form.
      const read = await acme.as('GET', `/oauth2/v1/clients/${jwt.body.client_id}`);
      expect(read.body).toEqual({ ...jwt.body, client_secret: undefined });
    });

    it('seals each new secret again, in the event and in the read model the token service reads', async () => {
      const { newTenant, bus, store, keks } = await start();
      const acme = await newTenant();
      const created = (
        await acme.as('POST', '/oauth2/v1/clients', {
          ...web,
          token_endpoint_auth_method: 'client_secret_jwt',
        })
      ).body;
      const rotated = await acme.as(
        'POST',
        `/oauth2/v1/clients/${created.client_id}/lifecycle/newSecret`,
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.client_secret).not.toBe(created.client_secret);
      const events = await clientEvents(bus, created.client_id);
      expect(events.map((event) => event.type)).toEqual([
        'gatehouse.events.v1.ClientRegistered',
        'gatehouse.events.v1.ClientSecretRotated',
      ]);
      const rotation = dataOf(events[1], 'gatehouse.events.v1.ClientSecretRotated');
      expect(opened(rotation.clientSecretSealed, keks, acme.id, created.client_id)).toBe(
        rotated.body.client_secret,
      );
      const view = clientViewOf(await store.hgetall(keys.client(acme.id, created.client_id)));
      expect(opened(view?.secretSealed, keks, acme.id, created.client_id)).toBe(
        rotated.body.client_secret,
      );
    });

    it('switches a client whose secret was made before secrets were sealed to client_secret_jwt only after a new secret', async () => {
      const { newTenant, bus, keks, caughtUp } = await start();
      const acme = await newTenant();
      // A client registered before the admin sealed secrets: its event carries the digest alone.
      const id = newId('0oa');
      const oldSecret = 'an-old-secret-kept-only-as-its-digest';
      await appendDirectoryEvents(bus, acme.id, [
        {
          aggregateId: id,
          event: {
            type: 'gatehouse.events.v1.ClientRegistered',
            data: {
              metadata: readClientMetadata(web).metadata!,
              clientSecretSha256: createHash('sha256').update(oldSecret).digest('hex'),
            },
          },
        },
      ]);
      await caughtUp();
      expect((await acme.as('GET', `/oauth2/v1/clients/${id}`)).status).toBe(200);
      const toJwt = { ...web, token_endpoint_auth_method: 'client_secret_jwt' };
      const refused = await acme.as('PUT', `/oauth2/v1/clients/${id}`, toJwt);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        error: 'invalid_client_metadata',
        error_description:
          "this client's secret was made before secrets were kept for client_secret_jwt (only its digest is kept): generate a new secret (lifecycle/newSecret), then change the method",
      });
      expect((await acme.as('GET', `/oauth2/v1/clients/${id}`)).body).toMatchObject({
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const rotated = await acme.as('POST', `/oauth2/v1/clients/${id}/lifecycle/newSecret`);
      expect(rotated.status).toBe(200);
      const switched = await acme.as('PUT', `/oauth2/v1/clients/${id}`, toJwt);
      expect(switched.status).toBe(200);
      expect(switched.body.token_endpoint_auth_method).toBe('client_secret_jwt');
      const [, rotation] = await clientEvents(bus, id);
      expect(
        opened(
          dataOf(rotation, 'gatehouse.events.v1.ClientSecretRotated').clientSecretSealed,
          keks,
          acme.id,
          id,
        ),
      ).toBe(rotated.body.client_secret);
    });

    it('registers a private_key_jwt client with its keys and no secret, and refuses it one', async () => {
      const { newTenant, store } = await start();
      const acme = await newTenant();
      const created = await acme.as(
        'POST',
        '/oauth2/v1/clients',
        signingService({ jwks: { keys: [{ ...rsaKey, use: 'sig', x5t: 'dropped' }, ecKey] } }),
      );
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        client_id: expect.stringMatching(/^0oa[0-9A-Za-z]{17}$/),
        client_id_issued_at: expect.any(Number),
        client_name: 'Signing job',
        redirect_uris: [],
        post_logout_redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...rsaKey, use: 'sig' }, ecKey] },
        require_pushed_authorization_requests: false,
        dpop_bound_access_tokens: false,
        application_type: 'service',
        consent_method: 'REQUIRED',
      });
      const id = created.body.client_id;
      expect((await acme.as('GET', `/oauth2/v1/clients/${id}`)).body).toEqual(created.body);
      expect(await store.hget(`rm:client:${acme.id}:${id}`, 'secretSha256')).toBe('');

      const rotate = await acme.as('POST', `/oauth2/v1/clients/${id}/lifecycle/newSecret`);
      expect(rotate.status).toBe(400);
      expect(rotate.body).toEqual({
        error: 'invalid_client_metadata',
        error_description:
          'a private_key_jwt client authenticates with its keys, not a client secret: it has no secret to rotate',
      });
      const toSecret = await acme.as('PUT', `/oauth2/v1/clients/${id}`, {
        ...signingService({}),
        token_endpoint_auth_method: 'client_secret_basic',
      });
      expect(toSecret.status).toBe(400);
      expect(toSecret.body).toEqual({
        error: 'invalid_client_metadata',
        error_description:
          'this client has no client secret, so it cannot change to client_secret_basic; register a new client',
      });
      expect(await store.hget(`rm:client:${acme.id}:${id}`, 'secretSha256')).toBe('');

      const byUri = await acme.as(
        'POST',
        '/oauth2/v1/clients',
        signingService({ jwks_uri: 'https://job.example/jwks.json' }),
      );
      expect(byUri.status).toBe(201);
      expect(byUri.body).toMatchObject({ jwks_uri: 'https://job.example/jwks.json' });
      expect(byUri.body).not.toHaveProperty('jwks');
      expect(byUri.body).not.toHaveProperty('client_secret');
    });

    it('refuses private_key_jwt registrations without usable public keys', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const refused = async (body: Record<string, unknown>) => {
        const response = await acme.as('POST', '/oauth2/v1/clients', body);
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('invalid_client_metadata');
        return response.body.error_description as string;
      };
      expect(
        await refused(
          signingService({ jwks: { keys: [rsaPair.privateKey.export({ format: 'jwk' })] } }),
        ),
      ).toMatch(/^'jwks' keys\[0\] holds private key material .*private keys must never be sent/);
      expect(await refused(signingService({}))).toBe(
        "a private_key_jwt client must give its public keys, in 'jwks' or at 'jwks_uri'",
      );
      expect(await refused(signingService({ jwks_uri: 'http://job.example/jwks' }))).toBe(
        "'jwks_uri' must use https (http is allowed only for localhost)",
      );
      expect(await refused({ ...web, jwks: { keys: [ecKey] } })).toBe(
        "'jwks' is only for private_key_jwt clients",
      );
      expect((await acme.as('GET', '/api/v1/apps')).body).toEqual([]);
    });

    it('lets a client with a secret sign with keys instead, keeping its secret for a switch back', async () => {
      const { newTenant, store } = await start();
      const acme = await newTenant();
      const created = (await acme.as('POST', '/oauth2/v1/clients', web)).body;
      const digest = createHash('sha256').update(created.client_secret).digest('hex');
      const path = `/oauth2/v1/clients/${created.client_id}`;
      const signing = await acme.as('PUT', path, {
        ...web,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [ecKey] },
      });
      expect(signing.status).toBe(200);
      expect(signing.body).toMatchObject({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [ecKey] },
      });
      expect(signing.body).not.toHaveProperty('client_secret_expires_at');
      expect(await store.hget(`rm:client:${acme.id}:${created.client_id}`, 'secretSha256')).toBe(
        digest,
      );
      expect((await acme.as('POST', `${path}/lifecycle/newSecret`)).status).toBe(400);
      const back = await acme.as('PUT', path, web);
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({
        token_endpoint_auth_method: 'client_secret_basic',
        client_secret_expires_at: 0,
      });
      expect(back.body).not.toHaveProperty('jwks');
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
