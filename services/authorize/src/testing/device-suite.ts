// The device authorization grant (RFC 8628) on both stacks: openid-client v6 starts it and polls
// while a user signs in on the hosted {org}/activate page, enters the user code and allows it, all
// through the page's forms (cookies and CSRF token as a browser sends them); the poll's answers
// (authorization_pending, slow_down, access_denied, expired_token), single use, another client's
// code, a client deactivated and active again (SPEC section 6), the page's refusals (wrong code,
// CSRF, throttle, unassigned user) and /device/authorize's (grant type, scope, authentication).
import { randomBytes } from 'node:crypto';
import { Topics } from '@gatehouse/events';
import { sha256Hex } from '@gatehouse/grants';
import { loadServerConfig } from '@gatehouse/oauth-reads';
import { customScopeCreated, fixturePassword, type TestStack } from '@gatehouse/test-stacks';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { browser, hiddenFields, startAuthorize, tenancy } from './authorize-harness.js';

const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const userCodePattern = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
/** A JSON body, read by the tests' expectations. */
// biome-ignore lint/suspicious/noExplicitAny: the expectations check the shape
type Json = Record<string, any>;

export function describeDeviceAuthorizationGrant(stack: TestStack): void {
  describe(`device authorization grant (RFC 8628): ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async () => {
      // The services' clock runs ahead when a test says so (expiry, poll intervals).
      let skewMs = 0;
      const now = () => Date.now() + skewMs;
      const harness = await startAuthorize(stack, cleanups, { now });
      const tenant = await harness.newTenant();
      const config = await loadServerConfig(harness.store, tenancy, tenant, 'default');
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'tv.watch', {
          description: 'Watch your shows',
          displayName: 'Watch TV',
        }),
        {
          aggregateId: 'default',
          event: {
            type: 'gatehouse.events.v1.RuleCreated',
            data: {
              rule: {
                id: `0pr${randomBytes(6).toString('hex')}`,
                policyId: config!.policies[0]!.id,
                name: 'Devices',
                priority: 2,
                status: 'ACTIVE',
                grantTypes: [deviceGrant],
                userIds: [],
                groupIds: ['EVERYONE'],
                scopes: ['*'],
                accessTokenLifetimeMinutes: 60,
                refreshTokenLifetimeMinutes: 0,
                refreshTokenWindowMinutes: 10_080,
              },
            },
          },
        },
      ]);
      await harness.caughtUp();
      const tv = await harness.newClient(tenant, {
        client_name: 'Living Room TV',
        application_type: 'native',
        grant_types: [deviceGrant, 'refresh_token'],
        token_endpoint_auth_method: 'none',
      });
      const box = await harness.newClient(tenant, {
        client_name: 'Game Console',
        application_type: 'native',
        grant_types: [deviceGrant],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const web = await harness.newClient(tenant, {
        client_name: 'Web',
        redirect_uris: ['https://app.example.com/cb'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      });
      const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const userId = await harness.newUser(tenant, login);
      for (const client of [tv, box, web])
        await harness.assign(tenant, client.clientId, { userId });
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const endpoint = (name: string, serverPath = '/oauth2/default') =>
        `${harness.base}/${tenant}${serverPath}/v1/${name}`;
      const tokenEndpoint = (serverPath = '/oauth2/default') =>
        `${harness.tokenBase}/${tenant}${serverPath}/v1/token`;
      const configOf = (clientId: string, auth: oidc.ClientAuth = oidc.None()) => {
        const config = new oidc.Configuration(
          {
            issuer,
            device_authorization_endpoint: endpoint('device/authorize'),
            token_endpoint: tokenEndpoint(),
            jwks_uri: `${harness.jwksBase}/${tenant}/default`,
          },
          clientId,
          undefined,
          auth,
        );
        oidc.allowInsecureRequests(config);
        return config;
      };
      /** POST to a back-channel endpoint as a client would. */
      const post = async (
        url: string,
        form: Record<string, string>,
        headers: Record<string, string> = {},
      ) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(form),
        });
        return {
          status: response.status,
          headers: response.headers,
          body: (await response.json()) as Json,
        };
      };
      const start = (clientId: string, scope = 'openid profile offline_access tv.watch') =>
        post(endpoint('device/authorize'), { client_id: clientId, scope });
      const basicOf = (client: { clientId: string; clientSecret?: string }) => ({
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      });
      /** A poll at /token: a public client names itself, a confidential one authenticates. */
      const poll = (
        client: string | { clientId: string; clientSecret?: string },
        deviceCode: string,
      ) =>
        typeof client === 'string'
          ? post(tokenEndpoint(), {
              grant_type: deviceGrant,
              device_code: deviceCode,
              client_id: client,
            })
          : post(
              tokenEndpoint(),
              { grant_type: deviceGrant, device_code: deviceCode },
              basicOf(client),
            );
      /** The hosted page at this test's base, as a browser with its own cookies. */
      const activatePage = `${harness.base}/${tenant}/activate`;
      const newBrowser = () => browser(harness.base);
      /** Signs a browser in on the page (no session yet); answers the page it lands on. */
      const signIn = async (b: ReturnType<typeof browser>, userCode = '', as = login) => {
        const query = userCode ? `?user_code=${encodeURIComponent(userCode)}` : '';
        const first = await b.get(`${activatePage}${query}`);
        expect(first.status).toBe(200);
        expect(first.text).toContain('id="sign-in"');
        const signedIn = await b.post(activatePage, {
          ...hiddenFields(first.text),
          username: as,
          password: fixturePassword,
        });
        expect(signedIn.status).toBe(303);
        return b.get(signedIn.location!.replace('http://localhost:9000', harness.base));
      };
      /** Enters the code on the page and answers the confirmation (or the refusal). */
      const enterCode = async (b: ReturnType<typeof browser>, userCode: string) => {
        const page = await b.get(activatePage);
        return b.post(activatePage, { ...hiddenFields(page.text), user_code: userCode });
      };
      /** The whole page flow: sign in, enter the code, allow or deny. */
      const decide = async (userCode: string, decision: 'allow' | 'deny', b = newBrowser()) => {
        const codePage = await signIn(b, userCode);
        const confirm = await b.post(activatePage, {
          ...hiddenFields(codePage.text),
          user_code: userCode,
        });
        expect([confirm.status, confirm.text.match(/role="alert">([^<]*)/)?.[1]]).toEqual([
          200,
          undefined,
        ]);
        const done = await b.post(activatePage, { ...hiddenFields(confirm.text), decision });
        return { confirm, done, browser: b };
      };
      return {
        ...harness,
        tenant,
        tv,
        box,
        web,
        login,
        userId,
        issuer,
        endpoint,
        tokenEndpoint,
        configOf,
        post,
        basicOf,
        start,
        poll,
        activatePage,
        newBrowser,
        signIn,
        enterCode,
        decide,
        advance: (ms: number) => {
          skewMs += ms;
        },
      };
    };

    it("serves openid-client's device flow: the user allows it on the hosted page while the device polls", async () => {
      const { configOf, tv, decide, issuer, login, tenant, poll } = await setup();
      const config = configOf(tv.clientId);
      const started = await oidc.initiateDeviceAuthorization(config, {
        scope: 'openid profile offline_access tv.watch',
      });
      expect(started).toMatchObject({
        device_code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        user_code: expect.stringMatching(userCodePattern),
        verification_uri: `http://localhost:9000/${tenant}/activate`,
        expires_in: 600,
        interval: 5,
      });
      expect(started.verification_uri_complete).toBe(
        `http://localhost:9000/${tenant}/activate?user_code=${started.user_code}`,
      );
      // The device polls (its first poll after the 5 s interval) while the user decides.
      const polling = oidc.pollDeviceAuthorizationGrant(config, started);
      const { confirm, done } = await decide(started.user_code, 'allow');
      expect(confirm.text).toContain('Living Room TV');
      expect(confirm.text).toContain('Watch TV');
      expect(confirm.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect([done.status, done.text]).toEqual([200, expect.stringContaining('Device activated')]);
      const tokens = await polling;
      expect(tokens.scope?.split(' ').sort()).toEqual([
        'offline_access',
        'openid',
        'profile',
        'tv.watch',
      ]);
      expect(tokens.refresh_token).toEqual(expect.any(String));
      expect(tokens.claims()).toMatchObject({
        iss: issuer,
        aud: tv.clientId,
        preferred_username: login,
      });
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.access_token).toEqual(expect.any(String));
      // Redeemed once: shown again, refused, and what it gave is revoked.
      const again = await poll(tv.clientId, started.device_code);
      expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
      await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });

    it('answers polls: authorization_pending, slow_down past the interval, access_denied, expired_token', async () => {
      const { start, poll, tv, box, decide, advance } = await setup();
      const started = (await start(tv.clientId)).body;
      const first = await poll(tv.clientId, started.device_code);
      expect([first.status, first.body.error]).toEqual([400, 'authorization_pending']);
      expect(first.headers.get('cache-control')).toBe('no-store');
      const tooSoon = await poll(tv.clientId, started.device_code);
      expect([tooSoon.status, tooSoon.body.error]).toEqual([400, 'slow_down']);
      // The interval is 10 s now (RFC 8628 section 3.5): 6 s later is still too soon.
      advance(6_000);
      expect((await poll(tv.clientId, started.device_code)).body.error).toBe('slow_down');
      advance(16_000);
      expect((await poll(tv.clientId, started.device_code)).body.error).toBe(
        'authorization_pending',
      );
      // Another client cannot poll it (nor slow it down).
      const foreign = await poll(box, started.device_code);
      expect([foreign.status, foreign.body.error]).toEqual([400, 'invalid_grant']);
      const { done } = await decide(started.user_code, 'deny');
      expect([done.status, done.text]).toEqual([
        200,
        expect.stringContaining('Device not allowed'),
      ]);
      advance(20_000);
      const denied = await poll(tv.clientId, started.device_code);
      expect([denied.status, denied.body.error]).toEqual([400, 'access_denied']);
      // Ten minutes on, a code nobody decided is expired, and its user code is gone from the page.
      const late = (await start(tv.clientId)).body;
      advance(601_000);
      const expired = await poll(tv.clientId, late.device_code);
      expect([expired.status, expired.body.error]).toEqual([400, 'expired_token']);
      const unknown = await poll(tv.clientId, 'no-such-code');
      expect([unknown.status, unknown.body.error]).toEqual([400, 'invalid_grant']);
    });

    it('redeems an approved code once, for a confidential client authenticating as at /token', async () => {
      const { start, poll, box, decide, basicOf, post, endpoint } = await setup();
      const started = await post(
        endpoint('device/authorize'),
        { scope: 'openid tv.watch' },
        basicOf(box),
      );
      expect(started.status).toBe(200);
      await decide(started.body.user_code, 'allow');
      const redeemed = await poll(box, started.body.device_code);
      expect(redeemed.status).toBe(200);
      expect(redeemed.body).toMatchObject({
        token_type: 'Bearer',
        scope: 'openid tv.watch',
        access_token: expect.any(String),
        id_token: expect.any(String),
      });
      // No offline_access, or no refresh_token grant: no refresh token.
      expect(redeemed.body.refresh_token).toBeUndefined();
      const again = await poll(box, started.body.device_code);
      expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
      // Unauthenticated, the confidential client is refused before anything else.
      const anonymous = await start(box.clientId);
      expect([anonymous.status, anonymous.body.error]).toEqual([401, 'invalid_client']);
    });

    it('ends pending and approved codes when their client is deactivated (and stays so once active again)', async () => {
      const {
        start,
        poll,
        tv,
        decide,
        signIn,
        enterCode,
        newBrowser,
        appendDirectory,
        tenant,
        caughtUp,
      } = await setup();
      const pending = (await start(tv.clientId)).body;
      const approved = (await start(tv.clientId)).body;
      await decide(approved.user_code, 'allow');
      await appendDirectory(tenant, [
        {
          aggregateId: tv.clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
      ]);
      await caughtUp();
      const whileInactive = await poll(tv.clientId, approved.device_code);
      expect([whileInactive.status, whileInactive.body.error]).toEqual([401, 'invalid_client']);
      await appendDirectory(tenant, [
        {
          aggregateId: tv.clientId,
          event: { type: 'gatehouse.events.v1.ClientActivated', data: {} },
          version: 3,
        },
      ]);
      await caughtUp();
      const redeemed = await poll(tv.clientId, approved.device_code);
      expect([redeemed.status, redeemed.body.error]).toEqual([400, 'invalid_grant']);
      const polled = await poll(tv.clientId, pending.device_code);
      expect([polled.status, polled.body.error]).toEqual([400, 'invalid_grant']);
      // The page no longer knows the pending code.
      const b = newBrowser();
      await signIn(b);
      const entered = await enterCode(b, pending.user_code);
      expect([entered.status, entered.text]).toEqual([400, expect.stringContaining('not right')]);
    });

    it('ends an approved code when its user changes: suspended, or unassigned from the client', async () => {
      const { start, poll, tv, decide, appendDirectory, tenant, caughtUp, userId } = await setup();
      const approved = (await start(tv.clientId)).body;
      await decide(approved.user_code, 'allow');
      await appendDirectory(tenant, [
        {
          aggregateId: tv.clientId,
          event: { type: 'gatehouse.events.v1.AppUserUnassigned', data: { userId } },
        },
      ]);
      await caughtUp();
      const unassigned = await poll(tv.clientId, approved.device_code);
      expect([unassigned.status, unassigned.body.error]).toEqual([400, 'invalid_grant']);
      // Assigned again, the old approval stays dead (SPEC section 6: no resurrection).
      await appendDirectory(tenant, [
        {
          aggregateId: tv.clientId,
          event: { type: 'gatehouse.events.v1.AppUserAssigned', data: { userId } },
        },
      ]);
      await caughtUp();
      const reassigned = await poll(tv.clientId, approved.device_code);
      expect([reassigned.status, reassigned.body.error]).toEqual([400, 'invalid_grant']);
      const fresh = (await start(tv.clientId)).body;
      await decide(fresh.user_code, 'allow');
      await appendDirectory(tenant, [
        { aggregateId: userId, event: { type: 'gatehouse.events.v1.UserSuspended', data: {} } },
      ]);
      await caughtUp();
      const suspended = await poll(tv.clientId, fresh.device_code);
      expect([suspended.status, suspended.body.error]).toEqual([400, 'invalid_grant']);
    });

    it('refuses on the page: a wrong code, a forged form, a user not assigned, and codes tried in bulk', async () => {
      const { start, tv, signIn, enterCode, newBrowser, activatePage, newUser, tenant } =
        await setup();
      const started = (await start(tv.clientId)).body;
      const b = newBrowser();
      const codePage = await signIn(b, started.user_code);
      // Prefilled from verification_uri_complete.
      expect(codePage.text).toContain(`value="${started.user_code}"`);
      // The code is read however it is typed.
      const typed = started.user_code.toLowerCase().replace('-', ' ');
      const confirm = await enterCode(b, typed);
      expect([confirm.status, confirm.text]).toEqual([200, expect.stringContaining('id="allow"')]);
      const wrong = await enterCode(b, 'BCDF-GHJK');
      expect([wrong.status, wrong.text]).toEqual([400, expect.stringContaining('not right')]);
      // A form without the browser's CSRF token, or from another browser, is refused.
      const forged = await b.post(activatePage, {
        csrf: 'forged',
        step: 'decision',
        user_code: started.user_code,
        decision: 'allow',
      });
      expect(forged.status).toBe(403);
      const other = newBrowser();
      const otherPage = await other.get(activatePage);
      const crossed = await b.post(activatePage, {
        ...hiddenFields(otherPage.text),
        step: 'code',
        user_code: started.user_code,
      });
      expect(crossed.status).toBe(403);
      // A user the client is not assigned to cannot allow it.
      const stranger = `bob-${randomBytes(3).toString('hex')}@example.com`;
      await newUser(tenant, stranger);
      const strangers = newBrowser();
      await signIn(strangers, '', stranger);
      const refused = await enterCode(strangers, started.user_code);
      expect([refused.status, refused.text]).toEqual([
        403,
        expect.stringContaining('not assigned'),
      ]);
      // Past the session's budget (10 a minute), no code is even looked at.
      let last = refused;
      for (let i = 0; i < 10; i += 1) last = await enterCode(strangers, 'BCDF-GHJK');
      expect(last.status).toBe(429);
      expect(last.headers.get('retry-after')).toEqual(expect.any(String));
      const stillRefused = await enterCode(strangers, started.user_code);
      expect(stillRefused.status).toBe(429);
    });

    it('answers /device/authorize in JSON: the grant type registered, scopes the server has, only POST', async () => {
      const { start, poll, web, post, endpoint, basicOf, tv, tenant, base } = await setup();
      const withoutGrant = await post(
        endpoint('device/authorize'),
        { scope: 'openid' },
        basicOf(web),
      );
      expect([withoutGrant.status, withoutGrant.body.error]).toEqual([400, 'unauthorized_client']);
      // Nor can it redeem a device code at /token.
      const polled = await poll(web, 'any-device-code');
      expect([polled.status, polled.body.error]).toEqual([400, 'unauthorized_client']);
      const unknownScope = await start(tv.clientId, 'openid nope');
      expect([unknownScope.status, unknownScope.body.error]).toEqual([400, 'invalid_scope']);
      const unknownClient = await start('0oanobody');
      expect([unknownClient.status, unknownClient.body.error]).toEqual([401, 'invalid_client']);
      const get = await fetch(endpoint('device/authorize'));
      expect([get.status, get.headers.get('allow'), ((await get.json()) as Json).error]).toEqual([
        405,
        'POST',
        'invalid_request',
      ]);
      // The org server takes it too, with its own scopes.
      const org = await post(`${base}/${tenant}/oauth2/v1/device/authorize`, {
        client_id: tv.clientId,
        scope: 'openid profile',
      });
      expect([org.status, org.body.verification_uri]).toEqual([
        200,
        `http://localhost:9000/${tenant}/activate`,
      ]);
      const orgCustom = await post(`${base}/${tenant}/oauth2/v1/device/authorize`, {
        client_id: tv.clientId,
        scope: 'tv.watch',
      });
      expect([orgCustom.status, orgCustom.body.error]).toEqual([400, 'invalid_scope']);
    });

    it('records the flow in events, the redemption before its tokens, without either code in clear', async () => {
      const { start, poll, tv, decide, bus, tenant, caughtUp } = await setup();
      const started = (await start(tv.clientId)).body;
      await decide(started.user_code, 'allow');
      const tokens = (await poll(tv.clientId, started.device_code)).body;
      expect(tokens.access_token).toEqual(expect.any(String));
      await caughtUp();
      const types: string[] = [];
      const payloads: string[] = [];
      await bus.replay(Topics.grants, async ({ envelope }) => {
        if (envelope.tenant !== tenant) return;
        types.push(envelope.type);
        payloads.push(Buffer.from(envelope.data).toString('latin1'));
      });
      expect(types).toEqual([
        'gatehouse.events.v1.DeviceAuthorizationIssued',
        'gatehouse.events.v1.DeviceAuthorizationApproved',
        'gatehouse.events.v1.DeviceCodeRedeemed',
        'gatehouse.events.v1.TokensIssued',
      ]);
      const normalised = started.user_code.replace('-', '');
      expect(payloads.join('')).toContain(sha256Hex(started.device_code));
      for (const secret of [
        started.device_code,
        started.user_code,
        normalised,
        tokens.refresh_token,
        tokens.access_token,
      ])
        for (const payload of payloads) expect(payload.includes(secret)).toBe(false);
    });
  });
}
