// Implicit token invalidation (SPEC section 6) at every path that accepts a token: /introspect, the
// refresh grant and code redemption (token service), gRPC ValidateToken, and /userinfo. One test per rule: each token, refresh
// token and pending code issued before the change is dead after it, and stays dead when the change
// is undone (a reactivation); what is issued after it works. Plus the race: tokens minted while a
// deactivation propagates are all dead once it has.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { TokenServiceClient } from '@gatehouse/contracts';
import { type DirectoryEvent, keys } from '@gatehouse/directory';
import { grpcChannelCredentials } from '@gatehouse/internal-plane';
import { ProjectionRunner, rebuildProjections } from '@gatehouse/projections';
import { basic, startToken, tokenTenancy as tenancy } from '@gatehouse/test-services';
import { customScopeCreated, oauthProjections, type TestStack } from '@gatehouse/test-stacks';
import { testClock, testGrpcTls } from '@gatehouse/testkit';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createUserinfoService } from '../app.js';

const redirectUri = 'https://app.example.com/cb';

export function describeImplicitInvalidation(stack: TestStack): void {
  describe(`implicit token invalidation at every path: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async () => {
      // The services' and the projector's clock: moved, it ages the read models at once.
      const clock = testClock();
      const harness = await startToken(stack, cleanups, { now: clock.now });
      const tenant = await harness.newTenant();
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read', { isDefault: true }),
      ]);
      const web = await harness.newClient(tenant, {
        client_name: 'Web',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
      });
      const userId = await harness.newUser(
        tenant,
        `ada-${randomBytes(3).toString('hex')}@example.com`,
      );
      await harness.assign(tenant, web.clientId, { userId });
      const path = (endpoint: string) => `/${tenant}/oauth2/default/v1/${endpoint}`;
      const auth = { authorization: basic(web.clientId, web.clientSecret!) };
      const userinfo = createUserinfoService({
        bus: harness.bus,
        store: harness.store,
        ring: harness.ring,
        tenancy,
        now: clock.now,
        log: () => {},
      });
      await userinfo.start();
      cleanups.push(() => userinfo.stop());
      const userinfoServer = userinfo.app.listen(0, '127.0.0.1');
      await new Promise((resolve) => userinfoServer.once('listening', resolve));
      cleanups.push(() => new Promise((resolve) => userinfoServer.close(() => resolve())));
      const userinfoUrl = `http://127.0.0.1:${(userinfoServer.address() as AddressInfo).port}/${tenant}/oauth2/default/v1/userinfo`;
      /** The status /userinfo answers the token with. */
      const userinfoStatus = async (token: string) =>
        (await fetch(userinfoUrl, { headers: { authorization: `Bearer ${token}` } })).status;
      const grpc = new TokenServiceClient(
        `127.0.0.1:${harness.grpcPort}`,
        grpcChannelCredentials(await testGrpcTls('authorize')),
      );
      cleanups.push(async () => grpc.close());

      /** Everything a user grant gives, and a code still waiting for its exchange. */
      const issued = async () => {
        const { code } = await harness.issueCode(tenant, {
          clientId: web.clientId,
          userId,
          redirectUri,
          scopes: ['openid', 'email', 'offline_access', 'orders.read'],
        });
        const tokens = (
          await harness.post(
            path('token'),
            { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
            auth,
          )
        ).body;
        const clientToken = (
          await harness.post(
            path('token'),
            { grant_type: 'client_credentials', scope: 'orders.read' },
            auth,
          )
        ).body.access_token as string;
        const pending = await harness.issueCode(tenant, {
          clientId: web.clientId,
          userId,
          redirectUri,
          scopes: ['openid'],
        });
        expect(tokens.access_token).toEqual(expect.any(String));
        return {
          accessToken: tokens.access_token as string,
          idToken: tokens.id_token as string,
          refreshToken: tokens.refresh_token as string,
          clientToken,
          pendingCode: pending.code,
        };
      };
      const validate = (token: string, clientId = '') =>
        new Promise<boolean>((resolve, reject) =>
          grpc.validateToken({ tenant, serverId: 'default', token, clientId }, (error, response) =>
            error ? reject(error) : resolve(response.active),
          ),
        );
      const introspect = async (token: string) =>
        (await harness.post(path('introspect'), { token }, auth)).body.active as boolean;
      const refresh = async (token: string) =>
        (
          await harness.post(
            path('token'),
            { grant_type: 'refresh_token', refresh_token: token },
            auth,
          )
        ).body;
      const redeem = async (code: string) =>
        (
          await harness.post(
            path('token'),
            { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
            auth,
          )
        ).body;

      /** Every token of `tokens` is dead on every path that can still be asked. */
      const expectDead = async (
        tokens: Awaited<ReturnType<typeof issued>>,
        clientCanAsk: boolean,
      ) => {
        expect(await validate(tokens.accessToken)).toBe(false);
        expect(await validate(tokens.idToken, web.clientId)).toBe(false);
        expect(await userinfoStatus(tokens.accessToken)).toBe(401);
        if (tokens.clientToken) expect(await validate(tokens.clientToken)).toBe(false);
        if (!clientCanAsk) return;
        expect(await introspect(tokens.accessToken)).toBe(false);
        expect(await introspect(tokens.idToken)).toBe(false);
        expect(await introspect(tokens.refreshToken)).toBe(false);
        expect((await refresh(tokens.refreshToken)).error).toBe('invalid_grant');
        expect((await redeem(tokens.pendingCode)).error).toBe('invalid_grant');
      };
      const change = async (aggregateId: string, event: DirectoryEvent, version?: number) => {
        await harness.appendDirectory(tenant, [
          { aggregateId, event, ...(version ? { version } : {}) },
        ]);
        await harness.caughtUp();
      };
      return {
        ...harness,
        clock,
        userinfoStatus,
        tenant,
        web,
        userId,
        issued,
        validate,
        introspect,
        refresh,
        redeem,
        expectDead,
        change,
        path,
        auth,
      };
    };

    it('keeps what nothing changed valid on every path', async () => {
      const { issued, validate, introspect, web, refresh, redeem, userinfoStatus } = await setup();
      const tokens = await issued();
      expect(await validate(tokens.accessToken)).toBe(true);
      expect(await validate(tokens.idToken, web.clientId)).toBe(true);
      expect(await validate(tokens.clientToken)).toBe(true);
      expect(await userinfoStatus(tokens.accessToken)).toBe(200);
      expect(await introspect(tokens.accessToken)).toBe(true);
      expect(await introspect(tokens.refreshToken)).toBe(true);
      expect((await refresh(tokens.refreshToken)).access_token).toEqual(expect.any(String));
      expect((await redeem(tokens.pendingCode)).access_token).toEqual(expect.any(String));
    });

    it('kills a client tokens when it is deactivated, and reactivation does not revive them', async () => {
      const { issued, change, web, expectDead, validate, introspect } = await setup();
      const before = await issued();
      await change(web.clientId, { type: 'gatehouse.events.v1.ClientDeactivated', data: {} }, 2);
      await expectDead(before, false);
      await change(web.clientId, { type: 'gatehouse.events.v1.ClientActivated', data: {} }, 3);
      await expectDead(before, true);
      const after = await issued();
      expect(await validate(after.accessToken)).toBe(true);
      expect(await introspect(after.accessToken)).toBe(true);
    });

    it('kills a deleted client tokens', async () => {
      const { issued, change, web, expectDead } = await setup();
      const before = await issued();
      await change(web.clientId, { type: 'gatehouse.events.v1.ClientDeactivated', data: {} }, 2);
      await change(web.clientId, { type: 'gatehouse.events.v1.ClientDeleted', data: {} }, 3);
      await expectDead(before, false);
    });

    it('kills a user tokens when the user is suspended, and unsuspending does not revive them', async () => {
      const { issued, change, userId, expectDead, validate } = await setup();
      const before = await issued();
      await change(userId, { type: 'gatehouse.events.v1.UserSuspended', data: {} });
      await expectDead({ ...before, clientToken: '' }, true);
      await change(userId, { type: 'gatehouse.events.v1.UserUnsuspended', data: {} });
      await expectDead({ ...before, clientToken: '' }, true);
      // The client's own tokens were never the user's.
      expect(await validate(before.clientToken)).toBe(true);
      const after = await issued();
      expect(await validate(after.accessToken)).toBe(true);
    });

    it('kills a user tokens when the user is deactivated, and when deleted', async () => {
      const { issued, change, userId, expectDead } = await setup();
      const before = await issued();
      await change(userId, { type: 'gatehouse.events.v1.UserDeactivated', data: {} });
      await expectDead({ ...before, clientToken: '' }, true);
      await change(userId, { type: 'gatehouse.events.v1.UserDeleted', data: { login: 'x' } });
      await expectDead({ ...before, clientToken: '' }, true);
    });

    it('kills a user tokens for a client the user was unassigned from, directly or through a group', async () => {
      const { issued, change, userId, web, expectDead, assign, tenant, store, validate } =
        await setup();
      const before = await issued();
      await change(web.clientId, {
        type: 'gatehouse.events.v1.AppUserUnassigned',
        data: { userId },
      });
      await expectDead({ ...before, clientToken: '' }, true);
      // Through Everyone: unassigning the group kills what the group gave.
      const everyone = (await store.hget(keys.tenant(tenant), 'everyoneGroupId'))!;
      await assign(tenant, web.clientId, { groupId: everyone });
      const viaGroup = await issued();
      expect(await validate(viaGroup.accessToken)).toBe(true);
      await change(web.clientId, {
        type: 'gatehouse.events.v1.AppGroupUnassigned',
        data: { groupId: everyone },
      });
      await expectDead({ ...viaGroup, clientToken: '' }, true);
    });

    it('kills a server tokens when it is deactivated, or its scopes or policies change', async () => {
      const { issued, change, expectDead, appendDirectory, tenant, caughtUp } = await setup();
      const before = await issued();
      await appendDirectory(tenant, [customScopeCreated('default', 'orders.write')]);
      await caughtUp();
      await expectDead(before, true);
      const next = await issued();
      await change('default', {
        type: 'gatehouse.events.v1.AuthorizationServerDeactivated',
        data: {},
      });
      await expectDead(next, false);
    });

    it('kills every token of a deactivated tenant', async () => {
      const { issued, change, expectDead, tenant } = await setup();
      const before = await issued();
      await change(tenant, { type: 'gatehouse.events.v1.TenantDeactivated', data: {} });
      await expectDead(before, false);
    });

    it('fails closed while the projector is stopped, and answers again once it has caught up', async () => {
      const {
        issued,
        runner,
        bus,
        store,
        appendDirectory,
        tenant,
        web,
        validate,
        post,
        path,
        auth,
        base,
        caughtUp,
        logs,
        clock,
      } = await setup();
      const tokens = await issued();
      const readiness = async () => {
        const response = await fetch(`${base}/readyz`);
        type Check = {
          ok: boolean;
          required: boolean;
          lagMs: number;
          maxLagMs: number;
          reason: string;
        };
        const body = (await response.json()) as { status: string; checks: Record<string, Check> };
        return { status: response.status, body };
      };
      const ready = async () => (await readiness()).status;
      expect(await ready()).toBe(200);
      await runner.stop();
      await appendDirectory(tenant, [
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
      ]);
      // Past the bound (1 s), nothing answers from the stale read models: not "active", not "inactive".
      clock.advance(1300);
      const stale = await post(path('introspect'), { token: tokens.accessToken }, auth);
      expect(stale.status, JSON.stringify(stale.body) + logs.join('\n')).toBe(503);
      expect(stale.body.error).toBe('temporarily_unavailable');
      expect(stale.headers.get('retry-after')).toBe('1');
      await expect(validate(tokens.accessToken)).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });
      // The lag is reported, but it does not make this replica unready: every replica reads the
      // same projector, draining them all cannot help, and each token check fails closed itself.
      const lagging = await readiness();
      expect(lagging.status, JSON.stringify(lagging.body)).toBe(200);
      expect(lagging.body.status).toBe('ready');
      expect(lagging.body.checks.projections).toMatchObject({
        required: false,
        ok: false,
        maxLagMs: 1000,
      });
      expect(lagging.body.checks.projections!.lagMs).toBeGreaterThan(1000);
      expect(lagging.body.checks.projections!.reason).toMatch(/behind/);
      const resumed = await ProjectionRunner.start({
        bus,
        store,
        projections: oauthProjections,
        groupId: `projector-${randomUUID()}`,
        now: clock.now,
      });
      cleanups.push(() => resumed.stop());
      await caughtUp();
      await vi.waitFor(async () => expect(await ready()).toBe(200), {
        timeout: 5000,
        interval: 50,
      });
      expect(await validate(tokens.accessToken)).toBe(false);
      // The deactivated client itself is refused now, no longer told to come back later.
      const refused = await post(path('introspect'), { token: tokens.refreshToken }, auth);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
    });

    it('revives nothing when the read models are dropped and rebuilt from the topics', async () => {
      const h = await setup();
      const revokedAccess = await h.issued();
      await h.post(h.path('revoke'), { token: revokedAccess.accessToken }, h.auth);
      const revokedFamily = await h.issued();
      await h.post(h.path('revoke'), { token: revokedFamily.refreshToken }, h.auth);
      const userChanged = await h.issued();
      await h.change(h.userId, { type: 'gatehouse.events.v1.UserSuspended', data: {} });
      await h.change(h.userId, { type: 'gatehouse.events.v1.UserUnsuspended', data: {} });
      const clientChanged = await h.issued();
      await h.change(
        h.web.clientId,
        { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
        2,
      );
      await h.change(h.web.clientId, { type: 'gatehouse.events.v1.ClientActivated', data: {} }, 3);
      const alive = await h.issued();
      const before = await h.store.dump('rm:');

      await h.runner.stop();
      await rebuildProjections({ bus: h.bus, store: h.store, projections: oauthProjections });
      const resumed = await ProjectionRunner.start({
        bus: h.bus,
        store: h.store,
        projections: oauthProjections,
        groupId: `projector-${randomUUID()}`,
      });
      cleanups.push(() => resumed.stop());
      await h.caughtUp();
      await vi.waitFor(
        async () => {
          const response = await fetch(`${h.base}/readyz`);
          const body = (await response.json()) as { checks: { projections: { ok: boolean } } };
          expect([response.status, body.checks.projections.ok]).toEqual([200, true]);
        },
        { timeout: 5000, interval: 50 },
      );

      // The invalidation and revocation read models come back as they were.
      const after = await h.store.dump('rm:');
      const lasting = (dump: typeof before) =>
        dump.filter((entry) => /^rm:(inv|revoked-token|revoked-grant|refresh):/.test(entry.key));
      expect(lasting(after)).toEqual(lasting(before));
      expect(await h.introspect(revokedAccess.accessToken)).toBe(false);
      expect(await h.introspect(revokedFamily.accessToken)).toBe(false);
      expect(await h.introspect(revokedFamily.refreshToken)).toBe(false);
      expect(await h.introspect(userChanged.accessToken)).toBe(false);
      expect(await h.introspect(userChanged.refreshToken)).toBe(false);
      expect(await h.introspect(clientChanged.accessToken)).toBe(false);
      expect(await h.introspect(alive.accessToken)).toBe(true);
      expect(await h.introspect(alive.refreshToken)).toBe(true);
    });

    it('leaves no window: every token minted while a deactivation propagates is dead once it has', async () => {
      const { change, web, validate, post, path, auth, caughtUp } = await setup();
      const minted: string[] = [];
      /** What each minter was answered last. */
      const lastStatus = [0, 0, 0, 0];
      let stop = false;
      // Four clients of the token endpoint, minting as fast as they can through the change.
      const minters = lastStatus.map(async (_, i) => {
        while (!stop) {
          const response = await post(
            path('token'),
            { grant_type: 'client_credentials', scope: 'orders.read' },
            auth,
          );
          lastStatus[i] = response.status;
          if (response.status === 200) minted.push(response.body.access_token as string);
        }
      });
      const waitFor = { timeout: 10_000, interval: 5 };
      try {
        await vi.waitFor(() => expect(minted.length).toBeGreaterThan(10), waitFor);
        await change(web.clientId, { type: 'gatehouse.events.v1.ClientDeactivated', data: {} }, 2);
        // Keep minting after the projector applied it, until the token service itself refuses the
        // client at every minter (401, or 429 once the failures' budget is spent): its cache may lag.
        await vi.waitFor(
          () => expect(lastStatus.every((status) => status === 401 || status === 429)).toBe(true),
          waitFor,
        );
      } finally {
        stop = true;
        await Promise.all(minters);
      }
      await caughtUp();
      expect(minted.length).toBeGreaterThan(10);
      const alive = (await Promise.all(minted.map((token) => validate(token)))).filter(Boolean);
      expect(alive).toEqual([]);
      // And the reactivation that follows revives none of them.
      await change(web.clientId, { type: 'gatehouse.events.v1.ClientActivated', data: {} }, 3);
      const revived = (await Promise.all(minted.map((token) => validate(token)))).filter(Boolean);
      expect(revived).toEqual([]);
    });
  });
}
