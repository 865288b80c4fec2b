// The userinfo service end to end (userinfo + token for real tokens + projector + bus + store):
// seed 000's answers and errors, the claims of each scope, and implicit invalidation.
import { randomBytes } from 'node:crypto';
import { listenOnLoopback, startTokenService } from '@gatehouse/test-services';
import {
  customScopeCreated,
  directoryFixtures,
  startOAuthBackbone,
  type TestStack,
  testTenancy,
} from '@gatehouse/test-stacks';
import { sendRaw } from '@gatehouse/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createUserinfoService } from '../app.js';

const tenancy = testTenancy;
const redirectUri = 'https://app.example.com/cb';
const invalidTokenChallenge =
  'Bearer error="invalid_token", error_description="The access token is invalid"';

export function describeUserinfoService(stack: TestStack): void {
  describe(`userinfo service: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async () => {
      const { bus, store, ring, keks, logs, log } = await startOAuthBackbone(stack, cleanups);

      const { base: tokenBase } = await startTokenService(
        { bus, store, ring, keks, tenancy, log },
        cleanups,
      );
      const userinfo = createUserinfoService({ bus, store, ring, tenancy, log });
      await userinfo.start();
      cleanups.push(() => userinfo.stop());
      const base = await listenOnLoopback(userinfo.app, cleanups);
      const fixtures = directoryFixtures({ bus, store, keks });

      const tenant = await fixtures.newTenant();
      await fixtures.appendDirectory(tenant, [customScopeCreated('default', 'orders.read')]);
      const web = await fixtures.newClient(tenant, {
        client_name: 'Web',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'client_credentials'],
        response_types: ['code'],
      });
      const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const userId = await fixtures.newUser(tenant, login, {
        nickName: 'Countess',
        primaryPhone: '+44 20 7946 0000',
      });
      await fixtures.assign(tenant, web.clientId, { userId });
      const authorization = `Basic ${Buffer.from(`${web.clientId}:${web.clientSecret}`).toString('base64')}`;
      const tokenPost = async (server: string, form: Record<string, string>, path = 'token') => {
        const prefix = server === 'org' ? `/${tenant}/oauth2/v1` : `/${tenant}/oauth2/${server}/v1`;
        const response = await fetch(`${tokenBase}${prefix}/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
          body: new URLSearchParams(form),
        });
        const text = await response.text();
        return (text ? JSON.parse(text) : {}) as Record<string, string>;
      };
      /** An access token of the user for `scopes`, through a real code exchange. */
      const accessToken = async (scopes: string[], server = 'default') => {
        const { code } = await fixtures.issueCode(tenant, {
          clientId: web.clientId,
          userId,
          redirectUri,
          scopes,
          serverId: server,
        });
        const body = await tokenPost(server, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
        });
        expect(body.access_token, JSON.stringify(body)).toEqual(expect.any(String));
        return body.access_token!;
      };
      const ask = (token: string | undefined, server = 'default', init: RequestInit = {}) => {
        const prefix = server === 'org' ? `/${tenant}/oauth2/v1` : `/${tenant}/oauth2/${server}/v1`;
        return fetch(`${base}${prefix}/userinfo`, {
          ...init,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(init.headers as Record<string, string>),
          },
        });
      };
      return {
        ...fixtures,
        base,
        store,
        tenant,
        web,
        userId,
        login,
        accessToken,
        ask,
        tokenPost,
        tokenBase,
        logs,
      };
    };

    it("answers the claims of the token's scopes, sub always, never cached, on GET and POST", async () => {
      const { accessToken, ask, userId, login, logs } = await setup();
      const token = await accessToken(['openid', 'profile', 'email']);
      const response = await ask(token);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-cache, no-store');
      expect(response.headers.get('pragma')).toBe('no-cache');
      const claims = (await response.json()) as Record<string, unknown>;
      expect(claims).toMatchObject({
        sub: userId,
        name: 'Ada Lovelace',
        given_name: 'Ada',
        family_name: 'Lovelace',
        nickname: 'Countess',
        preferred_username: login,
        email: login,
        email_verified: false,
      });
      expect(claims).not.toHaveProperty('phone_number');
      expect(claims).not.toHaveProperty('address');
      const posted = await ask(token, 'default', { method: 'POST' });
      expect(await posted.json()).toEqual(claims);
      // The token in a form body (RFC 6750 section 2.2) works too, but not in both places.
      const form = await ask(undefined, 'default', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      expect(form.status).toBe(200);
      const both = await ask(token, 'default', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      expect(both.status).toBe(400);
      const phone = await ask(await accessToken(['openid', 'phone']));
      expect(await phone.json()).toEqual({ sub: userId, phone_number: '+44 20 7946 0000' });
      // The org server answers for its own tokens.
      const org = await ask(await accessToken(['openid', 'email'], 'org'), 'org');
      expect(await org.json()).toEqual({ sub: userId, email: login, email_verified: false });
      expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    });

    it('answers on koa exactly as on the direct path (HEAD and absolute-form targets go to koa)', async () => {
      const { accessToken, base, tenant, logs } = await setup();
      const wide = await accessToken(['openid', 'profile', 'email']);
      const narrow = await accessToken(['openid']);
      const send = (target: string, method: string, headers: Record<string, string>, body = '') =>
        sendRaw(base, target, { method, headers, body });
      const path = `/${tenant}/oauth2/default/v1/userinfo`;
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const cases: [string, Record<string, string>, string?][] = [
        ['GET', { authorization: `Bearer ${wide}` }],
        ['POST', form, `access_token=${wide}`],
        ['GET', {}],
        ['GET', { authorization: 'Bearer not-a-token' }],
        ['GET', { authorization: `Bearer ${narrow}` }],
        ['POST', { ...form, authorization: `Bearer ${wide}` }, `access_token=${wide}`],
      ];
      const compared = ['content-type', 'content-length', 'cache-control', 'pragma', 'expires'];
      const shape = (answer: Awaited<ReturnType<typeof send>>) => ({
        status: answer.status,
        text: answer.text,
        challenge: answer.headers['www-authenticate'],
        ...Object.fromEntries(compared.map((name) => [name, answer.headers[name]])),
      });
      for (const [method, headers, body] of cases) {
        const direct = await send(path, method, headers, body);
        const viaKoa = await send(`${base}${path}`, method, headers, body);
        expect(shape(viaKoa), `${method} ${JSON.stringify(headers)}`).toEqual(shape(direct));
        expect(direct.headers['x-request-id']).toEqual(expect.any(String));
      }
      const head = await send(path, 'HEAD', { authorization: `Bearer ${wide}` });
      const get = await send(path, 'GET', { authorization: `Bearer ${wide}` });
      expect({ ...shape(head), text: get.text }).toEqual(shape(get));
      expect(head.text).toBe('');
      expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    });

    it("refuses as seed 000 says: no token, a bad one, another server's, a client's, too few scopes", async () => {
      const { accessToken, ask, tokenPost } = await setup();
      const none = await ask(undefined);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      for (const bad of [
        'not-a-token',
        'a.b.c',
        `${(await accessToken(['openid', 'email'])).slice(0, -4)}AAAA`,
      ]) {
        const response = await ask(bad);
        expect(response.status, bad).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe(invalidTokenChallenge);
      }
      const malformed = await ask(undefined, 'default', {
        headers: { authorization: 'Basic abc' },
      });
      expect(malformed.status).toBe(401);
      // A custom server's token at the org server, and the other way round.
      expect((await ask(await accessToken(['openid', 'email']), 'org')).status).toBe(401);
      expect((await ask(await accessToken(['openid', 'email'], 'org'))).status).toBe(401);
      // A client's own token has no user.
      const clientToken = (
        await tokenPost('default', { grant_type: 'client_credentials', scope: 'orders.read' })
      ).access_token!;
      expect((await ask(clientToken)).headers.get('www-authenticate')).toBe(invalidTokenChallenge);
      const narrow = await ask(await accessToken(['openid']));
      expect(narrow.status).toBe(403);
      expect(narrow.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_scope", error_description="The access token must provide access to at least one of these scopes - profile, email, address or phone"',
      );
    });

    it('answers for a token issued by token exchange (RFC 8693) only while the token it was exchanged for is valid', async () => {
      const { accessToken, ask, tokenPost, newClient, tenant, tokenBase } = await setup();
      const api = await newClient(tenant, {
        client_name: 'API',
        application_type: 'service',
        grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
        response_types: ['token'],
      });
      const subject = await accessToken(['openid', 'email']);
      const answer = await fetch(`${tokenBase}/${tenant}/oauth2/default/v1/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${api.clientId}:${api.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: subject,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          scope: 'email',
        }),
      });
      const exchanged = ((await answer.json()) as { access_token: string }).access_token;
      expect((await ask(exchanged)).status).toBe(200);
      await tokenPost('default', { token: subject }, 'revoke');
      expect((await ask(exchanged)).status).toBe(401);
    });

    it('refuses a token revoked, or implicitly invalidated (user suspended, client deactivated)', async () => {
      const { accessToken, ask, tokenPost, appendDirectory, caughtUp, tenant, userId, web } =
        await setup();
      const revoked = await accessToken(['openid', 'email']);
      await tokenPost('default', { token: revoked }, 'revoke');
      expect((await ask(revoked)).status).toBe(401);

      const suspended = await accessToken(['openid', 'email']);
      expect((await ask(suspended)).status).toBe(200);
      await appendDirectory(tenant, [
        { aggregateId: userId, event: { type: 'gatehouse.events.v1.UserSuspended', data: {} } },
      ]);
      await caughtUp();
      expect((await ask(suspended)).headers.get('www-authenticate')).toBe(invalidTokenChallenge);
      await appendDirectory(tenant, [
        { aggregateId: userId, event: { type: 'gatehouse.events.v1.UserUnsuspended', data: {} } },
      ]);
      await caughtUp();
      expect((await ask(suspended)).status).toBe(401);

      const fresh = await accessToken(['openid', 'email']);
      expect((await ask(fresh)).status).toBe(200);
      await appendDirectory(tenant, [
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
      ]);
      await caughtUp();
      expect((await ask(fresh)).status).toBe(401);
      await appendDirectory(tenant, [
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientActivated', data: {} },
          version: 3,
        },
      ]);
      await caughtUp();
      expect((await ask(fresh)).status).toBe(401);
    });
  });
}
