// The keys service end to end (keys + projector + bus + store), on both stacks: provisioning,
// JWKS, discovery, rotation by schedule and on demand, revocation, replicas, gRPC, and no private
// key in the clear anywhere.
import { createPrivateKey } from 'node:crypto';
import { KeyServiceClient, SigningKeyCreated } from '@gatehouse/contracts';
import { directoryProjection, issuerOf } from '@gatehouse/directory';
import { Topics } from '@gatehouse/events';
import { grpcChannelCredentials } from '@gatehouse/internal-plane';
import { publicKeyFromJwk, signJwt, TokenInvalidError, verifyJwt } from '@gatehouse/jwt';
import { rebuildProjections } from '@gatehouse/projections';
import {
  decodeKeyEvent,
  grpcKeySource,
  KeyRing,
  keyPlace,
  keyPoolKeys,
  keysProjection,
  keysReadModelPrefix,
  loadServerKeys,
  poolPlace,
  unsealPrivateKey,
} from '@gatehouse/signing-keys';
import type { TestStack } from '@gatehouse/test-stacks';
import { testGrpcTls } from '@gatehouse/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyKeeper } from '../key-keeper.js';
import { manualClock, startKeys, tenancy, until } from './keys-harness.js';

const minute = 60_000;

export function describeKeys(stack: TestStack): void {
  describe(`keys service: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A token as the token service will mint it: iss from issuerOf, signed by the ring. */
    const mint = async (
      ring: KeyRing,
      tenant: string,
      serverId: string,
      now: number,
      lifetimeSeconds = 3600,
    ) => {
      const issuer = issuerOf(tenancy, tenant, serverId === 'org' ? undefined : serverId);
      const iat = Math.floor(now / 1000);
      return signJwt(
        { iss: issuer, aud: 'api://default', sub: 'u1', iat, exp: iat + lifetimeSeconds },
        await ring.signingKey(tenant, serverId),
      );
    };
    /** Verifies against what the server publishes in JWKS now, as a relying party would. */
    const verifyWithJwks = async (
      get: (path: string) => Promise<{ body: { keys: { kid: string; n: string; e: string }[] } }>,
      token: string,
      issuer: string,
      jwksPath: string,
      now: number,
    ) => {
      const { keys } = (await get(jwksPath)).body;
      const byKid = new Map(keys.map((jwk) => [jwk.kid, publicKeyFromJwk({ kty: 'RSA', ...jwk })]));
      return verifyJwt(token, {
        issuer,
        audience: 'api://default',
        keys: (kid) => byKid.get(kid),
        now: () => now,
      });
    };

    it('gives the org server and every custom server an ACTIVE key and a published NEXT key', async () => {
      const { newTenant, get, keys } = await startKeys(stack, cleanups, {
        rotationPeriodMs: 3600_000,
      });
      const acme = await newTenant();
      for (const path of [`/${acme.id}/oauth2/v1/keys`, `/${acme.id}/oauth2/default/v1/keys`]) {
        const response = await get(path);
        expect(response.status).toBe(200);
        expect(response.body.keys).toHaveLength(2);
        for (const jwk of response.body.keys) {
          expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
          expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
          expect(Buffer.from(jwk.n, 'base64url')).toHaveLength(256); // RSA-2048
        }
        // Cacheable, for less than a key is published before it signs (the rotation period).
        const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control')!)![1]);
        expect(maxAge).toBeGreaterThan(0);
        expect(maxAge * 1000).toBeLessThan(3600_000);
      }
      const org = (await get(`/${acme.id}/oauth2/v1/keys`)).body.keys.map(
        (k: { kid: string }) => k.kid,
      );
      const custom = (await get(`/${acme.id}/oauth2/default/v1/keys`)).body.keys.map(
        (k: { kid: string }) => k.kid,
      );
      expect(org.filter((kid: string) => custom.includes(kid))).toEqual([]);
      // A server without keys (being made, or removed) answers an empty set that is not cached.
      await keys.keeper.removeAll(acme.id, 'default', 'test');
      const empty = await get(`/${acme.id}/oauth2/default/v1/keys`);
      expect(empty.body).toEqual({ keys: [] });
      expect(empty.headers.get('cache-control')).toBe('no-cache');
      expect((await get(`/${acme.id}/oauth2/aus0000000000000none/v1/keys`)).status).toBe(404);
      expect((await get('/t-nobody/oauth2/v1/keys')).status).toBe(404);
    });

    it('serves discovery documents whose issuer is the iss of the tokens, and whose jwks_uri verifies them', async () => {
      const { newTenant, get, ring } = await startKeys(stack, cleanups);
      const acme = await newTenant();
      for (const serverId of ['org', 'default']) {
        const prefix = serverId === 'org' ? `/${acme.id}` : `/${acme.id}/oauth2/default`;
        const openid = await get(`${prefix}/.well-known/openid-configuration`);
        const oauth = await get(`${prefix}/.well-known/oauth-authorization-server`);
        expect(openid.status).toBe(200);
        expect(oauth.status).toBe(200);
        const issuer = openid.body.issuer;
        expect(oauth.body.issuer).toBe(issuer);
        expect(issuer).toBe(
          serverId === 'org'
            ? `http://localhost:9000/${acme.id}`
            : `http://localhost:9000/${acme.id}/oauth2/default`,
        );
        const endpoints = serverId === 'org' ? `${issuer}/oauth2/v1` : `${issuer}/v1`;
        expect(openid.body).toMatchObject({
          authorization_endpoint: `${endpoints}/authorize`,
          token_endpoint: `${endpoints}/token`,
          userinfo_endpoint: `${endpoints}/userinfo`,
          jwks_uri: `${endpoints}/keys`,
          introspection_endpoint: `${endpoints}/introspect`,
          revocation_endpoint: `${endpoints}/revoke`,
          end_session_endpoint: `${endpoints}/logout`,
          pushed_authorization_request_endpoint: `${endpoints}/par`,
          require_pushed_authorization_requests: false,
          device_authorization_endpoint: `${endpoints}/device/authorize`,
          dpop_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
          registration_endpoint: `http://localhost:9000/${acme.id}/oauth2/v1/clients`,
          response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
        });
        // Client authentication as the token service does it, at each endpoint that asks for it.
        for (const endpoint of ['token', 'introspection', 'revocation'])
          expect(openid.body).toMatchObject({
            [`${endpoint}_endpoint_auth_methods_supported`]: [
              'client_secret_basic',
              'client_secret_post',
              'client_secret_jwt',
              'private_key_jwt',
              'none',
            ],
            [`${endpoint}_endpoint_auth_signing_alg_values_supported`]: [
              'RS256',
              'PS256',
              'ES256',
              'HS256',
            ],
          });
        expect(openid.body.grant_types_supported.includes('client_credentials')).toBe(
          serverId !== 'org',
        );
        expect(openid.body.grant_types_supported).toContain(
          'urn:ietf:params:oauth:grant-type:device_code',
        );
        expect(openid.body.scopes_supported).toEqual(
          expect.arrayContaining([
            'openid',
            'profile',
            'email',
            'address',
            'phone',
            'offline_access',
          ]),
        );
        expect(oauth.body.userinfo_endpoint).toBeUndefined();
        const token = await mint(ring, acme.id, serverId, Date.now());
        const jwksPath = new URL(openid.body.jwks_uri).pathname;
        const verified = await verifyWithJwks(get, token, issuer, jwksPath, Date.now());
        expect(verified.claims.iss).toBe(issuer);
        expect(verified.header).toEqual({ kid: expect.any(String), alg: 'RS256' });
      }
      expect((await get(`/${acme.id}/oauth2/nope/.well-known/openid-configuration`)).status).toBe(
        404,
      );
    });

    it('signs with a key only after it was published as NEXT, and old tokens verify until they expire', async () => {
      const clock = manualClock();
      const { newTenant, get, ring, keys, caughtUp } = await startKeys(stack, cleanups, {
        rotationPeriodMs: 10 * minute,
        maxTokenLifetimeMs: 60 * minute,
        now: clock.now,
      });
      const acme = await newTenant();
      const jwksPath = `/${acme.id}/oauth2/default/v1/keys`;
      const issuer = issuerOf(tenancy, acme.id, 'default');
      const before = (await get(jwksPath)).body.keys as { kid: string }[];
      const first = await ring.signingKey(acme.id, 'default');
      const old = await mint(ring, acme.id, 'default', clock.now().getTime());

      // Not due yet: nothing happens.
      clock.advance(9 * minute);
      // Only this tenant's servers count: on a shared broker the store also holds other tests' keys.
      const ofAcme = (ids: string[]) => ids.filter((id) => id.startsWith(`${acme.id}/`)).sort();
      expect(ofAcme((await keys.keeper.runSchedule('test')).rotated)).toEqual([]);
      clock.advance(1 * minute);
      // The org server and the default server were made together, so both are due.
      const rotation = await keys.keeper.runSchedule('test');
      expect(ofAcme(rotation.rotated)).toEqual([`${acme.id}/default`, `${acme.id}/org`]);
      expect(rotation.failed).toEqual([]);
      await caughtUp();

      const second = await until(
        async () => (await ring.signingKey(acme.id, 'default')).kid !== first.kid,
      ).then(() => ring.signingKey(acme.id, 'default'));
      // The key that signs now was in JWKS (as NEXT) before the rotation.
      expect(before.map((jwk) => jwk.kid)).toContain(second.kid);
      const after = (await get(jwksPath)).body.keys as { kid: string }[];
      expect(after.map((jwk) => jwk.kid)).toEqual(expect.arrayContaining([first.kid, second.kid]));
      expect(after).toHaveLength(3); // ACTIVE, the new NEXT, and the retired key
      const now = clock.now().getTime();
      expect((await verifyWithJwks(get, old, issuer, jwksPath, now)).header.kid).toBe(first.kid);
      const fresh = await mint(ring, acme.id, 'default', now);
      expect((await verifyWithJwks(get, fresh, issuer, jwksPath, now)).header.kid).toBe(second.kid);

      // Once every token the retired key signed has expired, it leaves JWKS.
      clock.advance(61 * minute);
      const pass = await keys.keeper.runSchedule('test');
      expect(pass.removed).toContain(first.kid);
      const later = (await get(jwksPath)).body.keys as { kid: string }[];
      expect(later.map((jwk) => jwk.kid)).not.toContain(first.kid);
    });

    it('rotates on demand through the management API, in Okta shape, with the tenant API token only', async () => {
      const { newTenant, get, post } = await startKeys(stack, cleanups);
      const acme = await newTenant();
      const globex = await newTenant();
      const path = `/${acme.id}/api/v1/authorizationServers/default/credentials`;
      const listed = await get(`${path}/keys`, acme.apiToken);
      expect(listed.status).toBe(200);
      expect(listed.body.map((key: { status: string }) => key.status)).toEqual(['ACTIVE', 'NEXT']);
      expect(listed.body[0]).toEqual({
        status: 'ACTIVE',
        alg: 'RS256',
        e: 'AQAB',
        n: expect.any(String),
        kid: expect.any(String),
        kty: 'RSA',
        use: 'sig',
        _links: {
          self: {
            href: `http://localhost:9000/${acme.id}/api/v1/authorizationServers/default/credentials/keys/${listed.body[0].kid}`,
            hints: { allow: ['GET'] },
          },
        },
      });
      expect((await get(`${path}/keys/${listed.body[1].kid}`, acme.apiToken)).body.status).toBe(
        'NEXT',
      );
      expect((await get(`${path}/keys`, globex.apiToken)).status).toBe(401);
      expect((await get(`${path}/keys`)).status).toBe(401);
      expect(
        (await post(`${path}/lifecycle/keyRotate`, { use: 'enc' }, acme.apiToken)).body,
      ).toMatchObject({
        errorCode: 'E0000001',
        errorCauses: [{ errorSummary: 'use: must be "sig"' }],
      });
      const rotated = await post(`${path}/lifecycle/keyRotate`, { use: 'sig' }, acme.apiToken);
      expect(rotated.status).toBe(200);
      expect(rotated.body.map((key: { status: string }) => key.status)).toEqual([
        'ACTIVE',
        'NEXT',
        'EXPIRED',
      ]);
      expect(rotated.body[0].kid).toBe(listed.body[1].kid);
      expect(rotated.body[2].kid).toBe(listed.body[0].kid);
      expect(
        (await get(`/${acme.id}/api/v1/authorizationServers/nope/credentials/keys`, acme.apiToken))
          .status,
      ).toBe(404);
    });

    it('revokes a key in an emergency: its tokens fail at once, and the published NEXT signs', async () => {
      const { newTenant, get, post, ring } = await startKeys(stack, cleanups);
      const acme = await newTenant();
      const issuer = issuerOf(tenancy, acme.id, 'default');
      const jwksPath = `/${acme.id}/oauth2/default/v1/keys`;
      const compromised = await ring.signingKey(acme.id, 'default');
      const token = await mint(ring, acme.id, 'default', Date.now());
      const next = (await get(jwksPath)).body.keys[1].kid;
      const path = `/${acme.id}/api/v1/authorizationServers/default/credentials/keys`;
      const revoked = await post(`${path}/${compromised.kid}/lifecycle/revoke`, {}, acme.apiToken);
      expect(revoked.status).toBe(200);
      expect(revoked.body.map((key: { kid: string }) => key.kid)).not.toContain(compromised.kid);
      expect(revoked.body[0]).toMatchObject({ status: 'ACTIVE', kid: next });
      // At once: JWKS no longer has it, and the ring (following the events) refuses it.
      await expect(verifyWithJwks(get, token, issuer, jwksPath, Date.now())).rejects.toMatchObject({
        reason: 'unknown_kid',
      });
      await until(async () => (await ring.signingKey(acme.id, 'default')).kid === next);
      const keysOf = await ring.verificationKeys(acme.id, 'default');
      expect(() => verifyJwt(token, { issuer, audience: 'api://default', keys: keysOf })).toThrow(
        TokenInvalidError,
      );
      expect(
        (await post(`${path}/${compromised.kid}/lifecycle/revoke`, {}, acme.apiToken)).status,
      ).toBe(200);
      expect((await post(`${path}/unknownkid/lifecycle/revoke`, {}, acme.apiToken)).status).toBe(
        404,
      );
    });

    it('rotates exactly once per period with two replicas running the schedule together', async () => {
      const clock = manualClock();
      const { newTenant, replicas, bus } = await startKeys(stack, cleanups, {
        replicas: 2,
        rotationPeriodMs: 5 * minute,
        now: clock.now,
      });
      const acme = await newTenant();
      for (let period = 0; period < 3; period++) {
        clock.advance(5 * minute);
        const passes = await Promise.all(replicas.map((r) => r.keeper.runSchedule('test')));
        // Per pass, the org server and the default server: two rotations between the two replicas.
        const ofAcme = passes
          .flatMap((pass) => pass.rotated)
          .filter((id) => id.startsWith(`${acme.id}/`))
          .sort();
        expect(ofAcme).toEqual([`${acme.id}/default`, `${acme.id}/org`]);
      }
      const activations: string[] = [];
      await bus.replay(Topics.keys, async ({ envelope }) => {
        const event = decodeKeyEvent(envelope);
        if (
          envelope.tenant === acme.id &&
          envelope.aggregateId === 'default' &&
          event?.type === 'gatehouse.events.v1.SigningKeyActivated'
        )
          activations.push(event.data.kid);
      });
      expect(activations).toHaveLength(1 + 3); // provisioning, then one per period
      expect(new Set(activations).size).toBe(4);
    });

    it('rotates once when replicas decide a due rotation at once with no lock between them', async () => {
      const clock = manualClock();
      const { newTenant, bus, store, keks } = await startKeys(stack, cleanups, {
        rotationPeriodMs: 5 * minute,
        now: clock.now,
      });
      const acme = await newTenant();
      // Two keepers as two replicas whose lock has expired: only the log decides between them.
      const keepers = [0, 1].map(
        (i) =>
          new KeyKeeper({
            bus,
            store,
            keks,
            rotationPeriodMs: 5 * minute,
            maxTokenLifetimeMs: 10 * minute,
            readYourWritesMs: 20_000,
            replicaId: `racer-${i}`,
            now: clock.now,
            lockTtlMs: 0,
          }),
      );
      const activeBefore = (await loadServerKeys(store, acme.id, 'default')).active!.kid;
      clock.advance(5 * minute);
      const views = await Promise.all(
        keepers.map((keeper) => keeper.rotate(acme.id, 'default', 'test', { onlyWhenDue: true })),
      );
      let appended = 0;
      await bus.replay(Topics.keys, async ({ envelope }) => {
        if (
          envelope.tenant === acme.id &&
          envelope.aggregateId === 'default' &&
          envelope.type === 'gatehouse.events.v1.SigningKeyRetired'
        )
          appended += 1;
      });
      // Both keepers appended a rotation; the log admitted the first, and the other, decided again
      // on the new keys, found nothing due.
      expect(appended).toBe(2);
      const after = await loadServerKeys(store, acme.id, 'default');
      expect(after.active!.kid).not.toBe(activeBefore);
      expect(after.keys.filter((key) => key.status === 'NEXT')).toHaveLength(1);
      expect(after.keys.filter((key) => key.status === 'RETIRED')).toHaveLength(1);
      for (const view of views) expect(view.active!.kid).toBe(after.active!.kid);
    });

    it('rotates on its own schedule, once per period, with two replicas running their timers', async () => {
      // The replicas' own schedule timers run (every 20 ms); the clock they read moves by hand, a
      // period at a time, so no test waits for a rotation period to pass.
      const clock = manualClock();
      const periodMs = 5 * minute;
      const { newTenant, bus, replicas } = await startKeys(stack, cleanups, {
        replicas: 2,
        rotationPeriodMs: periodMs,
        scheduleIntervalMs: 20,
        now: clock.now,
      });
      const acme = await newTenant();
      const activationsOfAcme = async () => {
        const times: number[] = [];
        await bus.replay(Topics.keys, async ({ envelope }) => {
          if (
            envelope.tenant === acme.id &&
            envelope.aggregateId === 'default' &&
            envelope.type === 'gatehouse.events.v1.SigningKeyActivated'
          )
            times.push(envelope.occurredAt!.getTime());
        });
        return times;
      };
      // Each replica's finished passes; a pass in flight when the clock moves may have read the old
      // time, so "two more" is a whole pass on the time as it is now.
      const passes = replicas.map((replica) => vi.spyOn(replica.keeper, 'runSchedule').mock);
      const twoMorePassesEach = async () => {
        const marks = passes.map((mock) => mock.settledResults.length);
        await until(async () =>
          passes.every((mock, i) => mock.settledResults.length >= marks[i]! + 2),
        );
      };
      /** The rotations of acme's default server the passes reported, between both replicas. */
      const rotationsOfAcme = () =>
        passes
          .flatMap((mock) => mock.settledResults)
          .filter(
            (result) =>
              result.type === 'fulfilled' && result.value.rotated.includes(`${acme.id}/default`),
          ).length;
      // Not due yet: the timers run passes, and nothing rotates early.
      await twoMorePassesEach();
      expect(await activationsOfAcme()).toHaveLength(1);
      for (let period = 1; period <= 3; period++) {
        clock.advance(periodMs);
        // On its own: nobody runs the schedule but the replicas' timers.
        await until(async () => rotationsOfAcme() >= period);
        // Both replicas pass again within the same period: never a second rotation in it.
        await twoMorePassesEach();
        expect(rotationsOfAcme()).toBe(period);
        expect(await activationsOfAcme()).toHaveLength(1 + period);
      }
      const activations = await activationsOfAcme();
      for (let i = 1; i < activations.length; i++)
        expect(activations[i]! - activations[i - 1]!).toBeGreaterThanOrEqual(periodMs);
    });

    it('rebuilds the key read model identically from the topics', async () => {
      const { newTenant, post, store, bus, caughtUp, replicas, runner } = await startKeys(
        stack,
        cleanups,
      );
      const acme = await newTenant();
      const path = `/${acme.id}/api/v1/authorizationServers/default/credentials`;
      await post(`${path}/lifecycle/keyRotate`, { use: 'sig' }, acme.apiToken);
      const listed = await post(`${path}/lifecycle/keyRotate`, { use: 'sig' }, acme.apiToken);
      await post(`${path}/keys/${listed.body[2].kid}/lifecycle/revoke`, {}, acme.apiToken);
      await caughtUp();
      const original = (await store.dump(keysReadModelPrefix)).filter((entry) =>
        entry.key.includes(acme.id),
      );
      expect(original.length).toBe(2);
      for (const replica of replicas) await replica.stop();
      await runner.stop();
      await rebuildProjections({ bus, store, projections: [directoryProjection, keysProjection] });
      const rebuilt = (await store.dump(keysReadModelPrefix)).filter((entry) =>
        entry.key.includes(acme.id),
      );
      expect(rebuilt).toEqual(original);
    });

    it('serves the signing key sealed over gRPC, and a ring fed by gRPC signs with it', async () => {
      const { newTenant, grpcPort, keks, ring, get } = await startKeys(stack, cleanups);
      const acme = await newTenant();
      const client = new KeyServiceClient(
        `127.0.0.1:${grpcPort}`,
        grpcChannelCredentials(await testGrpcTls('token')),
      );
      cleanups.push(async () => client.close());
      const remote = new KeyRing(grpcKeySource(client), keks);
      const signing = await remote.signingKey(acme.id, 'default');
      expect(signing.kid).toBe((await ring.signingKey(acme.id, 'default')).kid);
      const issuer = issuerOf(tenancy, acme.id, 'default');
      const token = await mint(remote, acme.id, 'default', Date.now());
      expect(
        (await verifyWithJwks(get, token, issuer, `/${acme.id}/oauth2/default/v1/keys`, Date.now()))
          .header.kid,
      ).toBe(signing.kid);
      expect((await remote.keys(acme.id, 'default')).keys.map((k) => k.status).sort()).toEqual([
        'ACTIVE',
        'NEXT',
      ]);
      await expect(remote.signingKey(acme.id, 'nope')).rejects.toThrow(/no signing key/);
    });

    it('never lets a private key out in the clear: not in an event, a log line, or a stored value', async () => {
      // With a key pool: keys generated on worker threads, kept sealed in the store until taken.
      const { newTenant, post, bus, store, keks, logs, caughtUp } = await startKeys(
        stack,
        cleanups,
        { keyPool: { size: 6, threads: 2 } },
      );
      await until(async () => (await store.smembers(keyPoolKeys.kids())).length >= 6, 30_000);
      const acme = await newTenant();
      await post(
        `/${acme.id}/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate`,
        { use: 'sig' },
        acme.apiToken,
      );
      await caughtUp();
      // Every private key there is, opened with the KEK: what must not be found anywhere.
      const secrets: string[] = [];
      for (const serverId of ['org', 'default']) {
        for (const key of (await loadServerKeys(store, acme.id, serverId)).keys) {
          const der = unsealPrivateKey(key.privateKey, keks, keyPlace(acme.id, serverId, key.kid));
          const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
            format: 'jwk',
          });
          secrets.push(
            jwk.d!,
            jwk.p!,
            jwk.q!,
            der.toString('base64'),
            der.subarray(-64).toString('hex'),
          );
          secrets.push(der.subarray(-64).toString('binary'));
        }
      }
      // And the keys still in the pool.
      const pooled = await store.smembers(keyPoolKeys.kids());
      expect(pooled.length).toBeGreaterThan(0);
      for (const kid of pooled) {
        const stored = SigningKeyCreated.decode(
          Buffer.from((await store.get(keyPoolKeys.key(kid)))!, 'base64'),
        );
        const der = unsealPrivateKey(stored.privateKey!, keks, poolPlace(kid));
        secrets.push(der.toString('base64'), der.subarray(-64).toString('hex'));
      }
      expect(secrets.length).toBeGreaterThanOrEqual(24 + 2 * pooled.length);
      const haystacks: string[] = [...logs];
      for (const topic of Object.values(Topics)) {
        await bus.replay(topic, async ({ envelope }) => {
          haystacks.push(Buffer.from(envelope.data).toString('binary'));
          haystacks.push(Buffer.from(envelope.data).toString('base64'));
          haystacks.push(
            JSON.stringify(envelope, (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
          );
        });
      }
      for (const entry of await store.dump('')) haystacks.push(JSON.stringify(entry.value));
      expect(haystacks.length).toBeGreaterThan(10);
      for (const haystack of haystacks) {
        for (const secret of secrets) expect(haystack.includes(secret)).toBe(false);
      }
    });
  });
}
