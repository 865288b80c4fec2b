// The authorize service end to end (authorize + token over gRPC + projector + bus + store): the
// Authentication API, every response type in every response mode, every error path of seed 000,
// the hosted sign-in and consent pages with their sessions and CSRF checks, logout, openid-client
// running the code flow with PKCE and the hybrid flow, and hostile parameters.
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ScopeConsent } from '@gatehouse/contracts';
import { keys } from '@gatehouse/directory';
import { KafkaEventBus } from '@gatehouse/event-bus';
import { signJwt } from '@gatehouse/jwt';
import { rateLimitConfigOf } from '@gatehouse/rate-limits';
import { customScopeCreated, fixturePassword, type TestStack } from '@gatehouse/test-stacks';
import { testClock, testGrpcTls } from '@gatehouse/testkit';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthorizeService, grpcTokenMinter } from '../app.js';
import {
  browser,
  decodeHtml,
  hiddenFields,
  type Reply,
  startAuthorize,
  tenancy,
} from './authorize-harness.js';

/** A JSON body, read by the tests' expectations. */
// biome-ignore lint/suspicious/noExplicitAny: the expectations check the shape
type Json = Record<string, any>;

const redirectUri = 'https://app.example.com/cb';
const logoutUri = 'https://app.example.com/bye';
const allResponseTypes = [
  'code',
  'token',
  'id_token',
  'code id_token',
  'code token',
  'code id_token token',
  'id_token token',
];
const modes = ['query', 'fragment', 'form_post', 'okta_post_message'] as const;

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The parameters of an authorization response, whichever mode carried it. */
export function responseOf(reply: Reply, mode: (typeof modes)[number]): URLSearchParams {
  switch (mode) {
    case 'query':
      return new URL(reply.location!).searchParams;
    case 'fragment':
      return new URLSearchParams(new URL(reply.location!).hash.slice(1));
    case 'form_post':
      return new URLSearchParams(hiddenFields(reply.text));
    case 'okta_post_message': {
      const json = /postMessage\((\{.*?\}),"/.exec(reply.text)?.[1];
      return new URLSearchParams(JSON.parse(json ?? '{}') as Record<string, string>);
    }
  }
}

export function describeAuthorizeService(stack: TestStack): void {
  describe(`authorize service: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async (options: Parameters<typeof startAuthorize>[2] = {}) => {
      const harness = await startAuthorize(stack, cleanups, options);
      const tenant = await harness.newTenant();
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read', { description: 'Read your orders' }),
        customScopeCreated('default', 'orders.write', {
          displayName: 'Change your orders',
          description: 'Place and cancel orders for you',
          consent: ScopeConsent.SCOPE_CONSENT_REQUIRED,
        }),
      ]);
      const web = await harness.newClient(tenant, {
        client_name: 'Web <App>',
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [logoutUri],
        grant_types: ['authorization_code', 'implicit', 'refresh_token'],
        response_types: allResponseTypes,
        consent_method: 'TRUSTED',
      });
      const spa = await harness.newClient(tenant, {
        client_name: 'SPA',
        application_type: 'browser',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        consent_method: 'TRUSTED',
      });
      const thirdParty = await harness.newClient(tenant, {
        client_name: 'Third party',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        consent_method: 'REQUIRED',
      });
      const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const userId = await harness.newUser(tenant, login);
      const everyone = await harness.store.hget(keys.tenant(tenant), 'everyoneGroupId');
      await harness.assign(tenant, web.clientId, { userId });
      await harness.assign(tenant, spa.clientId, { groupId: everyone! });
      await harness.assign(tenant, thirdParty.clientId, { userId });
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const authorizeUrl = (params: Record<string, string>, server = 'default') =>
        `${harness.base}/${tenant}/oauth2/${server === 'org' ? '' : `${server}/`}v1/authorize?${new URLSearchParams(params)}`;
      const authn = async (username = login, password = fixturePassword) => {
        const response = await fetch(authorizeUrl({}).replace(/oauth2.*$/, 'api/v1/authn'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
        return { status: response.status, body: (await response.json()) as Json };
      };
      const sessionToken = async () => (await authn()).body.sessionToken as string;
      const exchange = async (code: string, extra: Record<string, string> = {}) => {
        const response = await fetch(`${harness.tokenBase}/${tenant}/oauth2/default/v1/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${web.clientId}:${web.clientSecret}`).toString('base64')}`,
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirectUri,
            ...extra,
          }),
        });
        return { status: response.status, body: (await response.json()) as Json };
      };
      const base = {
        client_id: web.clientId,
        redirect_uri: redirectUri,
        scope: 'openid profile',
        state: 'st-1',
        nonce: 'n-1',
      };
      return {
        ...harness,
        tenant,
        web,
        spa,
        thirdParty,
        login,
        userId,
        issuer,
        authorizeUrl,
        authn,
        sessionToken,
        exchange,
        base,
      };
    };

    it('authenticates with /api/v1/authn: a one-time sessionToken, E0000004, and a lockout', async () => {
      const { authn, login, authorizeUrl, base } = await setup({
        flowOptions: { lockout: { maxFailures: 3, durationMs: 60_000 } },
      });
      const ok = await authn();
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        status: 'SUCCESS',
        sessionToken: expect.any(String),
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        _embedded: { user: { id: expect.any(String), profile: { login } } },
      });
      // Single use: the second redemption finds nothing and the user has to sign in.
      const params = { ...base, response_type: 'code', sessionToken: ok.body.sessionToken };
      const first = await browser(authorizeUrl({})).get(authorizeUrl(params));
      expect(new URL(first.location!).searchParams.get('code')).toEqual(expect.any(String));
      const second = await browser(authorizeUrl({})).get(
        authorizeUrl({ ...params, prompt: 'none' }),
      );
      expect(new URL(second.location!).searchParams.get('error')).toBe('login_required');

      const wrong = await authn(login, 'not-it');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({
        errorCode: 'E0000004',
        errorSummary: 'Authentication failed',
      });
      const unknown = await authn('nobody@example.com', 'whatever');
      expect(unknown.status).toBe(401);
      expect(unknown.body.errorCode).toBe('E0000004');
      const invalid = await fetch(authorizeUrl({}).replace(/oauth2.*$/, 'api/v1/authn'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'x' }),
      });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({ errorCode: 'E0000001' });
      // Two more failures lock the login out: even the right password is refused for a while.
      await authn(login, 'not-it');
      expect((await authn(login, 'not-it')).body).toEqual({ status: 'LOCKED_OUT' });
      expect((await authn()).body).toEqual({ status: 'LOCKED_OUT' });
    });

    it('throttles sign-in attempts per source and per login, with Okta headers and E0000047', async () => {
      const { base, login, authorizeUrl } = await setup({
        rateLimits: rateLimitConfigOf({
          defaults: {
            signInSource: { limit: 5, windowSeconds: 60 },
            signInLogin: { limit: 8, windowSeconds: 60 },
          },
        }),
      });
      const authnFrom = async (source: string, username: string, password = 'Wrong-pass-1') => {
        const response = await fetch(authorizeUrl({}).replace(/oauth2.*$/, 'api/v1/authn'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': source },
          body: JSON.stringify({ username, password }),
        });
        return {
          status: response.status,
          headers: response.headers,
          body: (await response.json()) as Json,
        };
      };
      // Random logins from one source: each would start a fresh lockout counter; the source's
      // budget is what stops them.
      const sprayed = [];
      for (let i = 0; i < 7; i++)
        sprayed.push(await authnFrom('198.51.100.7', `random-${i}@example.com`));
      expect(sprayed.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 429, 429]);
      expect(sprayed[0]!.headers.get('x-rate-limit-limit')).toBe('5');
      expect(sprayed[0]!.headers.get('x-rate-limit-remaining')).toBe('4');
      expect(sprayed[6]!.body).toMatchObject({ errorCode: 'E0000047', errorCauses: [] });
      expect(sprayed[6]!.headers.get('x-rate-limit-remaining')).toBe('0');
      expect(Number(sprayed[6]!.headers.get('retry-after'))).toBeGreaterThan(0);
      // The hosted sign-in page counts against the same budget of that source.
      const tab = browser(authorizeUrl({}));
      const start = await tab.get(authorizeUrl({ ...base, response_type: 'code' }));
      const page = await tab.get(start.location!);
      const action = new URL(/action="([^"]+)"/.exec(page.text)![1]!, start.location).href;
      const posted = await tab.post(
        action,
        { ...hiddenFields(page.text), username: login, password: fixturePassword },
        { 'x-forwarded-for': '198.51.100.7' },
      );
      expect(posted.status).toBe(429);
      expect(posted.text).toContain('Too many sign-in attempts');
      expect(posted.headers.get('x-rate-limit-remaining')).toBe('0');
      // Another source signs the user in; one login sprayed from many sources meets its own budget.
      expect((await authnFrom('203.0.113.1', login, fixturePassword)).status).toBe(200);
      const fromMany = [];
      for (let i = 0; i < 8; i++)
        fromMany.push((await authnFrom(`203.0.113.${10 + i}`, login)).status);
      expect(fromMany.filter((status) => status === 429).length).toBeGreaterThan(0);
    });

    it('bounds the password checks: a flood from one source holds a few places, another source signs in', async () => {
      const { login, authorizeUrl } = await setup({
        rateLimits: rateLimitConfigOf({
          defaults: { signInSource: { limit: 1000, windowSeconds: 60 } },
        }),
        hashQueue: { concurrency: 1, maxQueued: 4, maxPerSource: 2 },
      });
      const authnFrom = async (source: string, username: string, password: string) => {
        const response = await fetch(authorizeUrl({}).replace(/oauth2.*$/, 'api/v1/authn'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': source },
          body: JSON.stringify({ username, password }),
        });
        return { status: response.status, body: (await response.json()) as Json };
      };
      const flood = Array.from({ length: 30 }, (_, i) =>
        authnFrom('198.51.100.9', `flood-${i}@example.com`, 'Wrong-pass-1'),
      );
      const genuine = authnFrom('203.0.113.2', login, fixturePassword);
      const [floodResults, genuineResult] = await Promise.all([Promise.all(flood), genuine]);
      expect(genuineResult.status).toBe(200);
      const statuses = floodResults.map((r) => r.status);
      // Two places for that source: the rest answered 429 at once, none queued without end.
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(4);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(26);
      const readiness = await fetch(new URL('/readyz', authorizeUrl({})));
      expect(((await readiness.json()) as Json).checks.passwordChecks).toMatchObject({
        running: 0,
        queued: 0,
        maxQueued: 4,
        refused: expect.any(Number),
      });
    });

    it('answers every response type in every response mode, with state, iss and the right hashes', async () => {
      const { authorizeUrl, sessionToken, base, issuer, web, exchange } = await setup();
      for (const responseType of allResponseTypes) {
        for (const mode of modes) {
          const reply = await browser(authorizeUrl({})).get(
            authorizeUrl({
              ...base,
              response_type: responseType,
              response_mode: mode,
              sessionToken: await sessionToken(),
            }),
          );
          const what = `${responseType} / ${mode}`;
          const tokens = responseType !== 'code';
          if (mode === 'query' && tokens) {
            // Seed 000: query cannot carry tokens; the error comes back in the fragment.
            expect(reply.status, what).toBe(302);
            const error = responseOf(reply, 'fragment');
            expect(error.get('error'), what).toBe('unsupported_response_mode');
            expect(error.get('iss')).toBe(issuer);
            continue;
          }
          if (mode === 'query' || mode === 'fragment') {
            expect(reply.status, what).toBe(302);
            expect(reply.location!.startsWith(redirectUri), what).toBe(true);
          } else {
            expect(reply.status, what).toBe(200);
            expect(reply.headers.get('content-security-policy'), what).toMatch(
              /script-src 'nonce-/,
            );
          }
          if (mode === 'form_post') expect(reply.text).toContain(`action="${redirectUri}"`);
          if (mode === 'okta_post_message')
            expect(reply.text).toContain(`"https://app.example.com")`);
          const params = responseOf(reply, mode);
          expect(params.get('state'), what).toBe('st-1');
          expect(params.get('iss'), what).toBe(issuer);
          const words = responseType.split(' ');
          expect(params.has('code'), what).toBe(words.includes('code'));
          expect(params.has('access_token'), what).toBe(words.includes('token'));
          expect(params.has('id_token'), what).toBe(words.includes('id_token'));
          if (words.includes('token')) {
            expect(params.get('token_type')).toBe('Bearer');
            expect(Number(params.get('expires_in'))).toBe(3600);
          }
          if (words.includes('id_token')) {
            const claims = claimsOf(params.get('id_token')!);
            expect(claims).toMatchObject({ iss: issuer, aud: web.clientId, nonce: 'n-1' });
            expect('at_hash' in claims, what).toBe(words.includes('token'));
            expect('c_hash' in claims, what).toBe(words.includes('code'));
          }
          if (words.includes('code')) {
            const exchanged = await exchange(params.get('code')!);
            expect(exchanged.status, what).toBe(200);
            expect(claimsOf(exchanged.body.id_token).nonce).toBe('n-1');
          }
        }
      }
    });

    it('shows an error page, and never redirects, for an unknown client or an unregistered redirect_uri', async () => {
      const { authorizeUrl, base, web, appendDirectory, caughtUp, tenant } = await setup();
      const cases: Record<string, string>[] = [
        { ...base, response_type: 'code', client_id: 'nope' },
        { ...base, response_type: 'code', redirect_uri: 'https://evil.example.com/cb' },
        { ...base, response_type: 'code', redirect_uri: `${redirectUri}/` },
        { ...base, response_type: 'code', redirect_uri: `${redirectUri}?x=1` },
        { response_type: 'code', scope: 'openid', redirect_uri: redirectUri },
        { response_type: 'code', scope: 'openid', client_id: web.clientId },
      ];
      for (const params of cases) {
        const reply = await browser(authorizeUrl({})).get(authorizeUrl(params));
        expect(reply.status, JSON.stringify(params)).toBe(400);
        expect(reply.location).toBeUndefined();
        expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      }
      const twice = `${authorizeUrl({ ...base, response_type: 'code' })}&redirect_uri=${encodeURIComponent('https://evil.example.com/')}`;
      expect((await browser(twice).get(twice)).status).toBe(400);
      // A deactivated client is an unknown one (once the directory follower has seen it go).
      await appendDirectory(tenant, [
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
      ]);
      await caughtUp();
      await vi.waitFor(
        async () => {
          const inactive = await browser(authorizeUrl({})).get(
            authorizeUrl({ ...base, response_type: 'code' }),
          );
          expect(inactive.status).toBe(400);
          expect(inactive.location).toBeUndefined();
          expect(inactive.text).toContain('invalid_client');
        },
        { timeout: 10_000, interval: 50 },
      );
    });

    it("sends seed 000's errors back to the client once the client and redirect_uri are known", async () => {
      const { authorizeUrl, base, sessionToken, spa, tenant, issuer } = await setup();
      const code = { ...base, response_type: 'code' };
      const cases: [Record<string, string>, string, 'query' | 'fragment'][] = [
        [{ ...base }, 'invalid_request', 'query'],
        [{ ...base, response_type: 'code token id_token x' }, 'unsupported_response_type', 'query'],
        [{ ...code, response_mode: 'jwt' }, 'unsupported_response_mode', 'query'],
        [
          { ...base, response_type: 'id_token', response_mode: 'query' },
          'unsupported_response_mode',
          'fragment',
        ],
        [{ ...code, scope: '' }, 'invalid_scope', 'query'],
        [{ ...code, scope: 'a'.repeat(1025) }, 'invalid_scope', 'query'],
        [{ ...code, scope: 'openid "quoted"' }, 'invalid_scope', 'query'],
        [{ ...base, response_type: 'id_token', scope: 'profile' }, 'invalid_scope', 'fragment'],
        [{ ...base, response_type: 'id_token token', nonce: '' }, 'invalid_request', 'fragment'],
        [{ ...code, prompt: 'none login' }, 'invalid_request', 'query'],
        [{ ...code, prompt: 'sometimes' }, 'invalid_request', 'query'],
        [{ ...code, max_age: '-1' }, 'invalid_request', 'query'],
        [{ ...code, idp: '0oa-someone-else' }, 'invalid_request', 'query'],
        [{ ...code, request: 'eyJ...' }, 'request_not_supported', 'query'],
        [
          { ...code, code_challenge: s256('v'.repeat(43)), code_challenge_method: 'plain' },
          'invalid_request',
          'query',
        ],
        [
          { ...code, code_challenge: 'short', code_challenge_method: 'S256' },
          'invalid_request',
          'query',
        ],
        [{ ...code, client_id: spa.clientId }, 'invalid_request', 'query'],
        [
          { ...code, client_id: spa.clientId, response_type: 'token' },
          'unauthorized_client',
          'fragment',
        ],
        [{ ...code, scope: 'openid unknown.scope', sessionToken: '' }, 'invalid_scope', 'query'],
      ];
      for (const [params, error, mode] of cases) {
        if (params.sessionToken === '') params.sessionToken = await sessionToken();
        const reply = await browser(authorizeUrl({})).get(authorizeUrl(params));
        const what = JSON.stringify(params).slice(0, 200);
        expect(reply.status, what).toBe(302);
        expect(reply.location!.startsWith(redirectUri), what).toBe(true);
        const answer = responseOf(reply, mode);
        expect(answer.get('error'), what).toBe(error);
        expect(answer.get('error_description'), what).toEqual(expect.any(String));
        expect(answer.get('iss'), what).toBe(issuer);
        expect(answer.get('state'), what).toBe('st-1');
      }
      // A repeated parameter (other than client_id and redirect_uri) is refused too.
      const repeated = `${authorizeUrl(code)}&scope=email`;
      expect(
        new URL((await browser(repeated).get(repeated)).location!).searchParams.get('error'),
      ).toBe('invalid_request');
      // The org server answers for itself, with its own issuer.
      const org = await browser(authorizeUrl({})).get(
        authorizeUrl({ ...code, sessionToken: await sessionToken() }, 'org'),
      );
      expect(new URL(org.location!).searchParams.get('iss')).toBe(
        `http://localhost:9000/${tenant}`,
      );
      expect(new URL(org.location!).searchParams.get('code')).toEqual(expect.any(String));
    });

    it('refuses users who may not have tokens: not assigned, and prompt=none without a session', async () => {
      const { authorizeUrl, base, sessionToken, newUser, tenant, authn, web } = await setup();
      const outsider = `eve-${randomBytes(3).toString('hex')}@example.com`;
      await newUser(tenant, outsider);
      const token = (await authn(outsider)).body.sessionToken as string;
      const reply = await browser(authorizeUrl({})).get(
        authorizeUrl({ ...base, response_type: 'code', sessionToken: token }),
      );
      expect(Object.fromEntries(new URL(reply.location!).searchParams)).toMatchObject({
        error: 'access_denied',
        error_description: 'User is not assigned to the client application.',
      });
      const none = await browser(authorizeUrl({})).get(
        authorizeUrl({ ...base, response_type: 'code', prompt: 'none' }),
      );
      expect(new URL(none.location!).searchParams.get('error')).toBe('login_required');
      // With a session, prompt=none answers at once.
      const tab = browser(authorizeUrl({}));
      await tab.get(
        authorizeUrl({ ...base, response_type: 'code', sessionToken: await sessionToken() }),
      );
      const silent = await tab.get(
        authorizeUrl({ ...base, response_type: 'code', prompt: 'none' }),
      );
      expect(new URL(silent.location!).searchParams.get('code')).toEqual(expect.any(String));
      expect(web.clientId).toEqual(expect.any(String));
    });

    it('signs in through the hosted page: CSRF-bound forms, a session cookie, prompt=login and max_age', async () => {
      const clock = testClock();
      const { authorizeUrl, base, login, exchange } = await setup({ now: clock.now });
      const tab = browser(authorizeUrl({}));
      const start = await tab.get(
        authorizeUrl({ ...base, response_type: 'code', login_hint: login }),
      );
      expect(start.status).toBe(302);
      expect(start.location).toMatch(/\/login\?tx=/);
      expect(tab.jar.has('gh_browser')).toBe(true);
      const page = await tab.get(start.location!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(page.text).toContain('Web &lt;App&gt;');
      expect(page.text).toContain(`value="${login}"`);
      const form = hiddenFields(page.text);
      const action = new URL(/action="([^"]+)"/.exec(page.text)![1]!, start.location).href;

      // Another browser (no gh_browser cookie) cannot use the form; nor can a forged CSRF token.
      const stranger = await browser(action).post(action, {
        ...form,
        username: login,
        password: fixturePassword,
      });
      expect(stranger.status).toBe(400);
      const forged = await tab.post(action, {
        ...form,
        csrf: 'x',
        username: login,
        password: fixturePassword,
      });
      expect(forged.status).toBe(403);

      const wrong = await tab.post(action, { ...form, username: login, password: 'wrong' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('the username or the password is not right');
      const signedIn = await tab.post(action, {
        ...form,
        username: login,
        password: fixturePassword,
      });
      expect(signedIn.status).toBe(303);
      expect(signedIn.location!.startsWith(redirectUri)).toBe(true);
      const setCookie = signedIn.headers.getSetCookie().find((c) => c.startsWith('gh_session='));
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      const code = new URL(signedIn.location!).searchParams.get('code')!;
      expect((await exchange(code)).status).toBe(200);
      // The transaction is over: its form cannot be sent again.
      expect(
        (await tab.post(action, { ...form, username: login, password: fixturePassword })).status,
      ).toBe(400);

      // The session signs the next request in, without a page.
      const again = await tab.get(authorizeUrl({ ...base, response_type: 'code' }));
      expect(again.location!.startsWith(redirectUri)).toBe(true);
      // prompt=login asks again even so, and max_age=0 too (once a second has passed).
      expect(
        (await tab.get(authorizeUrl({ ...base, response_type: 'code', prompt: 'login' }))).location,
      ).toMatch(/\/login\?tx=/);
      // A second later on the services' clock (auth_time counts whole seconds).
      clock.advance(1000);
      expect(
        (await tab.get(authorizeUrl({ ...base, response_type: 'code', max_age: '0' }))).location,
      ).toMatch(/\/login\?tx=/);
      const aged = await tab.get(
        authorizeUrl({ ...base, response_type: 'code', max_age: '0', prompt: 'none' }),
      );
      expect(new URL(aged.location!).searchParams.get('error')).toBe('login_required');
    });

    it('asks for consent as seed 001 says, remembers it as an event, and honours prompt=consent and a no', async () => {
      const {
        authorizeUrl,
        base,
        thirdParty,
        web,
        sessionToken,
        caughtUp,
        newUser,
        assign,
        authn,
        tenant,
      } = await setup();
      const tab = browser(authorizeUrl({}));
      const params = {
        ...base,
        client_id: thirdParty.clientId,
        response_type: 'code',
        scope: 'openid orders.read orders.write',
      };
      const first = await tab.get(authorizeUrl({ ...params, sessionToken: await sessionToken() }));
      expect(first.location).toMatch(/\/consent\?tx=/);
      const page = await tab.get(first.location!);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Change your orders');
      // IMPLICIT scopes are not asked for.
      expect(page.text).not.toContain('orders.read');
      const action = new URL(/action="([^"]+)"/.exec(page.text)![1]!, first.location).href;
      const allowed = await tab.post(action, { ...hiddenFields(page.text), decision: 'allow' });
      expect(allowed.status).toBe(303);
      expect(new URL(allowed.location!).searchParams.get('code')).toEqual(expect.any(String));
      await caughtUp();
      // Remembered: no page next time; prompt=consent asks again; prompt=none with consent needed fails.
      expect((await tab.get(authorizeUrl(params))).location!.startsWith(redirectUri)).toBe(true);
      const asked = await tab.get(authorizeUrl({ ...params, prompt: 'consent' }));
      expect(asked.location).toMatch(/\/consent\?tx=/);
      const askedPage = await tab.get(asked.location!);
      const denied = await tab.post(action, { ...hiddenFields(askedPage.text), decision: 'deny' });
      expect(new URL(denied.location!).searchParams.get('error')).toBe('access_denied');
      // A trusted client is not asked, even for a REQUIRED scope, unless prompt=consent.
      const trusted = await tab.get(authorizeUrl({ ...params, client_id: web.clientId }));
      expect(trusted.location!.startsWith(redirectUri)).toBe(true);
      // prompt=none: the remembered consent is enough; without one, consent_required.
      const silent = await browser(authorizeUrl({})).get(
        authorizeUrl({ ...params, prompt: 'none', sessionToken: await sessionToken() }),
      );
      expect(new URL(silent.location!).searchParams.get('code')).toEqual(expect.any(String));
      const other = `bob-${randomBytes(3).toString('hex')}@example.com`;
      const otherId = await newUser(tenant, other);
      await assign(tenant, thirdParty.clientId, { userId: otherId });
      const unconsented = await browser(authorizeUrl({})).get(
        authorizeUrl({
          ...params,
          prompt: 'none',
          sessionToken: (await authn(other)).body.sessionToken,
        }),
      );
      expect(new URL(unconsented.location!).searchParams.get('error')).toBe('consent_required');
    });

    /** A second user of the tenant, assigned to the web app: the other side of a session swap. */
    const withBob = async (context: Awaited<ReturnType<typeof setup>>) => {
      const bob = `bob-${randomBytes(3).toString('hex')}@example.com`;
      const bobId = await context.newUser(context.tenant, bob);
      await context.assign(context.tenant, context.web.clientId, { userId: bobId });
      return {
        bob,
        bobId,
        bobToken: async () => (await context.authn(bob)).body.sessionToken as string,
      };
    };

    it("never swaps a session for another user's sessionToken silently: it asks, and prompt=none refuses", async () => {
      const context = await setup();
      const { authorizeUrl, base, sessionToken, login, userId, exchange } = context;
      const { bob, bobId, bobToken } = await withBob(context);
      const idTokenFlow = { ...base, response_type: 'id_token' };
      /** Whose ID token a silent sign-in in this browser gets, or its error. */
      const silently = async (tab: ReturnType<typeof browser>) => {
        const params = responseOf(
          await tab.get(authorizeUrl({ ...idTokenFlow, prompt: 'none' })),
          'fragment',
        );
        const idToken = params.get('id_token');
        return idToken ? claimsOf(idToken).sub : params.get('error');
      };
      const tab = browser(authorizeUrl({}));
      await tab.get(
        authorizeUrl({ ...base, response_type: 'code', sessionToken: await sessionToken() }),
      );
      const adaSession = tab.jar.get('gh_session')!;
      expect(await silently(tab)).toBe(userId);

      // The same user's sessionToken refreshes the session, without a page.
      const same = await tab.get(
        authorizeUrl({ ...base, response_type: 'code', sessionToken: await sessionToken() }),
      );
      expect(new URL(same.location!).searchParams.get('code')).toEqual(expect.any(String));
      expect(tab.jar.get('gh_session')).not.toBe(adaSession);
      expect(await silently(tab)).toBe(userId);

      // prompt=none cannot ask: interaction_required, and the session is untouched.
      const none = await tab.get(
        authorizeUrl({
          ...base,
          response_type: 'code',
          prompt: 'none',
          sessionToken: await bobToken(),
        }),
      );
      expect(Object.fromEntries(new URL(none.location!).searchParams)).toMatchObject({
        error: 'interaction_required',
        state: 'st-1',
      });
      expect(await silently(tab)).toBe(userId);

      // Another user's sessionToken: a page asks first, and nothing has changed yet.
      const link = authorizeUrl({ ...base, response_type: 'code', sessionToken: await bobToken() });
      const asked = await tab.get(link);
      expect(asked.status).toBe(302);
      expect(asked.location).toMatch(/\/switch-user\?tx=/);
      expect(await silently(tab)).toBe(userId);
      const page = await tab.get(asked.location!);
      expect(page.status).toBe(200);
      expect(page.text).toContain(login);
      expect(page.text).toContain(bob);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/script-src/);
      const form = hiddenFields(page.text);
      const action = new URL(/action="([^"]+)"/.exec(page.text)![1]!, asked.location).href;
      // Bound to this browser and to its CSRF token.
      expect((await browser(action).post(action, { ...form, decision: 'continue' })).status).toBe(
        400,
      );
      expect((await tab.post(action, { ...form, csrf: 'x', decision: 'continue' })).status).toBe(
        403,
      );
      // Staying keeps the session and tells the app no.
      const kept = await tab.post(action, { ...form, decision: 'stay' });
      expect(kept.status).toBe(303);
      expect(Object.fromEntries(new URL(kept.location!).searchParams)).toMatchObject({
        error: 'access_denied',
        state: 'st-1',
      });
      expect(await silently(tab)).toBe(userId);
      expect((await tab.post(action, { ...form, decision: 'continue' })).status).toBe(400);

      // Continuing ends the first user's session and starts the second's, and the app gets a code.
      const again = await tab.get(
        await tab
          .get(authorizeUrl({ ...base, response_type: 'code', sessionToken: await bobToken() }))
          .then((r) => r.location!),
      );
      const beforeSwitch = tab.jar.get('gh_session')!;
      const switched = await tab.post(action, {
        ...hiddenFields(again.text),
        decision: 'continue',
      });
      expect(switched.status).toBe(303);
      const code = new URL(switched.location!).searchParams.get('code')!;
      const exchanged = await exchange(code);
      expect(claimsOf(exchanged.body.id_token).sub).toBe(bobId);
      expect(await silently(tab)).toBe(bobId);
      const old = browser(authorizeUrl({}));
      old.jar.set('gh_session', beforeSwitch);
      expect(await silently(old)).toBe('login_required');
    });

    it('asks before a logout whose id_token_hint is of another user, and ends the session only on a yes', async () => {
      const context = await setup();
      const { authorizeUrl, base, sessionToken, login, userId, ring, tenant } = context;
      const { bobToken, bobId } = await withBob(context);
      const idTokenFlow = { ...base, response_type: 'id_token' };
      const silently = async (tab: ReturnType<typeof browser>) => {
        const params = responseOf(
          await tab.get(authorizeUrl({ ...idTokenFlow, prompt: 'none' })),
          'fragment',
        );
        const idToken = params.get('id_token');
        return idToken ? claimsOf(idToken).sub : params.get('error');
      };
      const signedIn = async (token: string) => {
        const tab = browser(authorizeUrl({}));
        const reply = await tab.get(authorizeUrl({ ...idTokenFlow, sessionToken: token }));
        return { tab, idToken: responseOf(reply, 'fragment').get('id_token')! };
      };
      const victim = await signedIn(await sessionToken());
      const attacker = await signedIn(await bobToken());
      expect(claimsOf(attacker.idToken).sub).toBe(bobId);
      const logoutUrl = (params: Record<string, string>) =>
        `${authorizeUrl({}).split('/oauth2/')[0]}/oauth2/default/v1/logout?${new URLSearchParams(params)}`;
      const foreign = logoutUrl({
        id_token_hint: attacker.idToken,
        post_logout_redirect_uri: logoutUri,
        state: 'bye-2',
      });

      const asked = await victim.tab.get(foreign);
      expect(asked.status).toBe(200);
      expect(asked.location).toBeUndefined();
      expect(asked.text).toContain(login);
      expect(asked.headers.get('content-security-policy')).toMatch(
        /form-action 'self' https:\/\/app\.example\.com/,
      );
      expect(await silently(victim.tab)).toBe(userId);
      const form = hiddenFields(asked.text);
      const action = new URL(/action="([^"]+)"/.exec(asked.text)![1]!, foreign).href;
      // Bound to this browser and to its CSRF token.
      expect((await browser(action).post(action, { ...form, decision: 'sign-out' })).status).toBe(
        400,
      );
      expect(
        (await victim.tab.post(action, { ...form, csrf: 'x', decision: 'sign-out' })).status,
      ).toBe(403);
      expect(await silently(victim.tab)).toBe(userId);
      // No: the session stays, and the request is spent.
      const stayed = await victim.tab.post(action, { ...form, decision: 'stay' });
      expect(stayed.status).toBe(200);
      expect(stayed.location).toBeUndefined();
      expect(await silently(victim.tab)).toBe(userId);
      expect((await victim.tab.post(action, { ...form, decision: 'sign-out' })).status).toBe(400);

      // Yes: the session ends and the browser goes to the validated URI with the state.
      const again = await victim.tab.get(foreign);
      const out = await victim.tab.post(action, {
        ...hiddenFields(again.text),
        decision: 'sign-out',
      });
      expect(out.status).toBe(303);
      expect(out.location).toBe(`${logoutUri}?state=bye-2`);
      expect(await silently(victim.tab)).toBe('login_required');

      // A browser without a session has nothing to end: answered as before, at once.
      const nobody = await browser(foreign).get(foreign);
      expect(nobody.status).toBe(302);
      expect(nobody.location).toBe(`${logoutUri}?state=bye-2`);
      // The attacker's own session ends with their own hint, as before.
      const own = await attacker.tab.get(logoutUrl({ id_token_hint: attacker.idToken }));
      expect(own.status).toBe(200);
      expect(own.text).toContain('You are signed out');
      expect(await silently(attacker.tab)).toBe('login_required');

      // Expired hints are hints all the same: the attacker's old one asks, the user's own old one
      // ends the session at once.
      const expired = async (idToken: string) => {
        const iat = Math.floor(Date.now() / 1000) - 7200;
        return signJwt(
          { ...claimsOf(idToken), iat, exp: iat + 3600 },
          await ring.signingKey(tenant, 'default'),
        );
      };
      const later = await signedIn(await sessionToken());
      const oldForeign = await later.tab.get(
        logoutUrl({ id_token_hint: await expired(attacker.idToken) }),
      );
      expect(oldForeign.status).toBe(200);
      expect(oldForeign.text).toContain('Sign out?');
      expect(await silently(later.tab)).toBe(userId);
      const oldOwn = await later.tab.get(
        logoutUrl({
          id_token_hint: await expired(later.idToken),
          post_logout_redirect_uri: logoutUri,
        }),
      );
      expect(oldOwn.location).toBe(logoutUri);
      expect(await silently(later.tab)).toBe('login_required');
    });

    it('logs out with id_token_hint, to a registered post_logout_redirect_uri only', async () => {
      const { authorizeUrl, base, sessionToken, tenant } = await setup();
      const tab = browser(authorizeUrl({}));
      const signedIn = await tab.get(
        authorizeUrl({ ...base, response_type: 'id_token', sessionToken: await sessionToken() }),
      );
      const idToken = responseOf(signedIn, 'fragment').get('id_token')!;
      const logoutUrl = (params: Record<string, string>) =>
        `${authorizeUrl({}).split('/oauth2/')[0]}/oauth2/default/v1/logout?${new URLSearchParams(params)}`;
      const bad = await tab.get(
        logoutUrl({
          id_token_hint: idToken,
          post_logout_redirect_uri: 'https://evil.example.com/',
        }),
      );
      expect(bad.status).toBe(400);
      expect(bad.location).toBeUndefined();
      expect((await tab.get(logoutUrl({ id_token_hint: 'not.a.token' }))).status).toBe(400);
      const out = await tab.get(
        logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: logoutUri, state: 'bye-1' }),
      );
      expect(out.status).toBe(302);
      expect(out.location).toBe(`${logoutUri}?state=bye-1`);
      const after = await tab.get(authorizeUrl({ ...base, response_type: 'code', prompt: 'none' }));
      expect(new URL(after.location!).searchParams.get('error')).toBe('login_required');
      expect(tenant).toEqual(expect.any(String));
    });

    it("ends the browser's session at DELETE /api/v1/sessions/me as Okta does: 204, then 404 E0000007", async () => {
      const { authorizeUrl, base, sessionToken } = await setup();
      const tab = browser(authorizeUrl({}));
      const sessionsMe = authorizeUrl({}).replace(/oauth2.*$/, 'api/v1/sessions/me');
      // No session yet: okta-auth-js's closeSession() takes Okta's 404 as "already closed".
      const none = await tab.delete(sessionsMe);
      expect(none.status).toBe(404);
      expect(JSON.parse(none.text)).toMatchObject({
        errorCode: 'E0000007',
        errorSummary: 'Not found: Resource not found: me (Session)',
      });
      const signedIn = await tab.get(
        authorizeUrl({ ...base, response_type: 'code', sessionToken: await sessionToken() }),
      );
      expect(signedIn.status).toBe(302);
      const ended = await tab.delete(sessionsMe);
      expect(ended.status).toBe(204);
      const after = await tab.get(authorizeUrl({ ...base, response_type: 'code', prompt: 'none' }));
      expect(new URL(after.location!).searchParams.get('error')).toBe('login_required');
      expect((await tab.delete(sessionsMe)).status).toBe(404);
    });

    it("answers a method a path does not take with 405, the path's Allow, and Okta's JSON on the API", async () => {
      const { authorizeUrl } = await setup();
      const api = authorizeUrl({}).replace(/oauth2.*$/, 'api/v1/');
      for (const [method, path, allow] of [
        ['GET', 'authn', 'POST'],
        ['PUT', 'authn', 'POST'],
        ['GET', 'sessions/me', 'DELETE'],
        ['POST', 'sessions/me', 'DELETE'],
      ] as const) {
        const response = await fetch(`${api}${path}`, { method });
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.json()).toMatchObject({ errorCode: 'E0000022' });
      }
      // A page takes GET (and POST where it has a form); others are 405 with the page's Allow.
      const page = await fetch(authorizeUrl({}).replace(/\?.*$/, ''), { method: 'DELETE' });
      expect(page.status).toBe(405);
      expect(page.headers.get('allow')).toBe('HEAD, GET, POST');
    });

    it('serves openid-client as a real client: the code flow with PKCE, and the code id_token hybrid flow', async () => {
      const { authorizeUrl, issuer, web, tokenBase, jwksBase, tenant, sessionToken, login } =
        await setup();
      const metadata = {
        issuer,
        authorization_endpoint: authorizeUrl({}).split('?')[0]!,
        token_endpoint: `${tokenBase}/${tenant}/oauth2/default/v1/token`,
        jwks_uri: `${jwksBase}/${tenant}/default`,
        authorization_response_iss_parameter_supported: true,
      };
      const config = new oidc.Configuration(
        metadata,
        web.clientId,
        undefined,
        oidc.ClientSecretBasic(web.clientSecret!),
      );
      oidc.allowInsecureRequests(config);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email offline_access',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      url.searchParams.set('sessionToken', await sessionToken());
      const reply = await browser(url.href).get(url.href);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(reply.location!), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(tokens.refresh_token).toEqual(expect.any(String));
      expect(tokens.claims()).toMatchObject({
        iss: issuer,
        aud: web.clientId,
        preferred_username: login,
      });

      const hybrid = new oidc.Configuration(
        metadata,
        web.clientId,
        undefined,
        oidc.ClientSecretBasic(web.clientSecret!),
      );
      oidc.allowInsecureRequests(hybrid);
      oidc.useCodeIdTokenResponseType(hybrid);
      const nonce = oidc.randomNonce();
      const hybridUrl = oidc.buildAuthorizationUrl(hybrid, {
        redirect_uri: redirectUri,
        scope: 'openid email',
        nonce,
        state,
      });
      expect(hybridUrl.searchParams.get('response_type')).toBe('code id_token');
      hybridUrl.searchParams.set('sessionToken', await sessionToken());
      const hybridReply = await browser(hybridUrl.href).get(hybridUrl.href);
      const hybridTokens = await oidc.authorizationCodeGrant(
        hybrid,
        new URL(hybridReply.location!),
        {
          expectedNonce: nonce,
          expectedState: state,
        },
      );
      expect(hybridTokens.claims()).toMatchObject({ nonce, email: login });
    });

    it('answers temporarily_unavailable, and hands out nothing, when the event log or the token service is unreachable', async () => {
      const { store, ring, keks, base, sessionToken, tenant, authorizeUrl } = await setup();
      // The real Kafka adapter, facing a broker address nothing listens on; and no token service.
      const unreachable = new KafkaEventBus({
        brokers: ['127.0.0.1:1'],
        clientId: 'authorize-unreachable',
        publishTimeoutMs: 1500,
        log: () => {},
      });
      cleanups.push(() => unreachable.close());
      const minter = grpcTokenMinter('127.0.0.1:1', await testGrpcTls('authorize'), 1500);
      cleanups.push(async () => minter.close());
      const { app } = createAuthorizeService({
        bus: unreachable,
        store,
        keks,
        ring,
        tenancy,
        minter,
        log: () => {},
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const at = (url: string) => url.replace(/^http:\/\/127\.0\.0\.1:\d+/, origin);
      for (const [responseType, mode] of [
        ['code', 'query'],
        ['token', 'fragment'],
      ] as const) {
        const reply = await browser(origin).get(
          at(
            authorizeUrl({
              ...base,
              response_type: responseType,
              sessionToken: await sessionToken(),
            }),
          ),
        );
        const answer = responseOf(reply, mode);
        expect(answer.get('error'), responseType).toBe('temporarily_unavailable');
        expect(answer.has('code') || answer.has('access_token')).toBe(false);
      }
      const codes: string[] = [];
      for await (const batch of store.scan(`rm:code:${tenant}:`)) codes.push(...batch);
      expect(codes).toEqual([]);
    });

    it('takes the authorization request as a POSTed form as well as a query', async () => {
      const { authorizeUrl, base, sessionToken, exchange } = await setup();
      const url = authorizeUrl({}).split('?')[0]!;
      const tab = browser(url);
      const reply = await tab.post(url, {
        ...base,
        response_type: 'code',
        response_mode: 'form_post',
        sessionToken: await sessionToken(),
      });
      expect(reply.status).toBe(200);
      const answer = responseOf(reply, 'form_post');
      expect(answer.get('state')).toBe('st-1');
      expect((await exchange(answer.get('code')!)).status).toBe(200);
      const twice = await tab.post(url, { ...base, response_type: 'code' });
      expect(twice.status).toBe(303);
      // A body that is not a form is refused on a page.
      const json = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(json.status).toBe(400);
      expect(json.headers.get('location')).toBeNull();
    });

    it('never answers hostile parameters with a 500, a redirect elsewhere, or markup of theirs', async () => {
      const { authorizeUrl, base, web, sessionToken, logs } = await setup();
      const payloads = [
        '<script>alert(1)</script>',
        '"><img src=x onerror=alert(1)>',
        "'-alert(1)-'",
        '</script><script>alert(1)</script>',
        '\u2028\u2029',
        '%00',
        'a'.repeat(5000),
        'javascript:alert(1)',
        '😀',
      ];
      const names = [
        'response_type',
        'response_mode',
        'scope',
        'state',
        'nonce',
        'prompt',
        'max_age',
        'login_hint',
        'code_challenge',
        'code_challenge_method',
        'idp',
        'display',
        'client_id',
        'redirect_uri',
        'sessionToken',
      ];
      const token = await sessionToken();
      let requests = 0;
      for (const name of names) {
        for (const payload of payloads) {
          for (const responseMode of ['query', 'form_post', 'okta_post_message']) {
            const params: Record<string, string> = {
              ...base,
              response_type: 'code',
              response_mode: responseMode,
              [name]: payload,
            };
            if (name !== 'sessionToken') params.sessionToken = token;
            const reply = await browser(authorizeUrl({})).get(authorizeUrl(params));
            requests += 1;
            const what = `${name}=${payload.slice(0, 40)} (${responseMode})`;
            expect(reply.status, what).toBeLessThan(500);
            if (reply.location)
              expect(
                reply.location.startsWith(redirectUri) || reply.location.includes('/login?tx='),
                what,
              ).toBe(true);
            if (payload.includes('<') || payload.includes('"'))
              expect(reply.text.includes(payload), what).toBe(false);
            if (reply.status === 200) {
              // Whatever the page carries back, it carries it escaped, and only to the client.
              for (const match of reply.text.matchAll(/action="([^"]*)"/g))
                expect(
                  decodeHtml(match[1]!).startsWith(redirectUri) || match[1]!.endsWith('/login'),
                  what,
                ).toBe(true);
            }
          }
        }
      }
      expect(requests).toBe(names.length * payloads.length * 3);
      expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
      expect(web.clientId).toEqual(expect.any(String));
    });
  });
}
