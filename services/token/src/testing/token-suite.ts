// The token service end to end (token + projector + bus + store), on both stacks: every grant, every
// client authentication method, seed 000's errors, code and refresh token races, introspection,
// revocation, and openid-client as a real client.
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type MintTokensResponse, TokenServiceClient } from '@gatehouse/contracts';
import { KafkaEventBus } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import { grpcChannelCredentials } from '@gatehouse/internal-plane';
import { verifyJwt } from '@gatehouse/jwt';
import { type RateLimitConfig, rateLimitConfigOf } from '@gatehouse/rate-limits';
import { customScopeCreated, type TestStack } from '@gatehouse/test-stacks';
import { sendRaw, testGrpcTls } from '@gatehouse/testkit';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenService } from '../app.js';
import { basic, startToken, tenancy } from './token-harness.js';

const redirectUri = 'https://app.example.com/cb';
const form = { 'content-type': 'application/x-www-form-urlencoded' };

const webClient = {
  client_name: 'Web',
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  response_types: ['code'],
};

export function describeTokenService(stack: TestStack): void {
  describe(`token service: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A tenant with a custom scope on its default server, a confidential client and a user. */
    const setup = async (options: { now?: () => number; rateLimits?: RateLimitConfig } = {}) => {
      const harness = await startToken(stack, cleanups, options);
      const tenant = await harness.newTenant();
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read', {
          isDefault: true,
          published: true,
          description: 'Read orders',
        }),
      ]);
      const web = await harness.newClient(tenant, webClient);
      const userId = await harness.newUser(
        tenant,
        `ada-${randomBytes(3).toString('hex')}@example.com`,
      );
      const path = (endpoint: string, server = 'default') =>
        server === 'org'
          ? `/${tenant}/oauth2/v1/${endpoint}`
          : `/${tenant}/oauth2/${server}/v1/${endpoint}`;
      const auth = { authorization: basic(web.clientId, web.clientSecret!) };
      return { ...harness, tenant, web, userId, path, auth };
    };

    const startTokenWithLimits = (settings: unknown) =>
      setup({ rateLimits: rateLimitConfigOf(settings) });

    const claimsOf = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        unknown
      >;

    it('issues a client_credentials access token in Okta shape, never cached', async () => {
      const { post, path, auth, web, tenant, ring } = await setup();
      const response = await post(
        path('token'),
        { grant_type: 'client_credentials', scope: 'orders.read' },
        auth,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('pragma')).toBe('no-cache');
      expect(response.body).toEqual({
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: expect.any(String),
        scope: 'orders.read',
      });
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const { header, claims } = verifyJwt(response.body.access_token, {
        issuer,
        audience: 'api://default',
        keys: await ring.verificationKeys(tenant, 'default'),
      });
      expect(header).toEqual({ kid: expect.any(String), alg: 'RS256' });
      expect(Object.keys(claims)).toEqual([
        'ver',
        'jti',
        'iss',
        'aud',
        'sub',
        'iat',
        'exp',
        'cid',
        'scp',
      ]);
      expect(claims).toMatchObject({
        ver: 1,
        sub: web.clientId,
        cid: web.clientId,
        scp: ['orders.read'],
      });
      expect(claims.exp).toBe((claims.iat as number) + 3600);
      // The server's default scopes when none is asked for.
      const byDefault = await post(path('token'), { grant_type: 'client_credentials' }, auth);
      expect(byDefault.body.scope).toBe('orders.read');
    });

    it('keeps clients and server settings in memory, and follows their changes', async () => {
      const { post, path, auth, web, tenant, appendDirectory } = await setup();
      const form = { grant_type: 'client_credentials', scope: 'orders.write' };
      expect((await post(path('token'), form, auth)).body.error).toBe('invalid_scope');
      await appendDirectory(tenant, [
        customScopeCreated('default', 'orders.write', { description: 'Write orders' }),
      ]);
      await vi.waitFor(
        async () => expect((await post(path('token'), form, auth)).status).toBe(200),
        {
          timeout: 10_000,
          interval: 50,
        },
      );
      await appendDirectory(tenant, [
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
      ]);
      await vi.waitFor(
        async () =>
          expect((await post(path('token'), form, auth)).body.error).toBe('invalid_client'),
        { timeout: 10_000, interval: 50 },
      );
    });

    it('authenticates clients by Basic or by post body, and refuses everything else as seed 000 says', async () => {
      const { post, path, web, newClient, tenant, caughtUp } = await setup();
      const form = { grant_type: 'client_credentials', scope: 'orders.read' };
      const postClient = await newClient(tenant, {
        ...webClient,
        token_endpoint_auth_method: 'client_secret_post',
      });
      const byPost = await post(path('token'), {
        ...form,
        client_id: postClient.clientId,
        client_secret: postClient.clientSecret!,
      });
      expect(byPost.status).toBe(200);
      const both = await post(
        path('token'),
        { ...form, client_id: web.clientId, client_secret: web.clientSecret! },
        { authorization: basic(web.clientId, web.clientSecret!) },
      );
      expect(both.status).toBe(400);
      expect(both.body.error).toBe('invalid_request');
      const malformed = await post(path('token'), form, { authorization: 'Basic not*base64' });
      expect(malformed.body.error).toBe('invalid_request');
      const noColon = await post(path('token'), form, {
        authorization: `Basic ${Buffer.from('nocolon').toString('base64')}`,
      });
      expect(noColon.body.error).toBe('invalid_request');
      const wrong = await post(path('token'), form, {
        authorization: basic(web.clientId, 'wrong'),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
      const unknown = await post(path('token'), {
        ...form,
        client_id: 'nobody',
        client_secret: 'x',
      });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error).toBe('invalid_client');
      expect(unknown.headers.get('www-authenticate')).toBeNull();
      // A confidential client must show its secret one way or the other.
      const noSecret = await post(path('token'), { ...form, client_id: postClient.clientId });
      expect(noSecret.body.error).toBe('invalid_client');
      const none = await post(path('token'), form);
      expect(none.body.error).toBe('invalid_request');
    });

    it('lets a client registered for either secret method use the other, as Okta does, at every endpoint', async () => {
      const { post, path, web, newClient, tenant, caughtUp } = await setup();
      const form = { grant_type: 'client_credentials', scope: 'orders.read' };
      const postClient = await newClient(tenant, {
        ...webClient,
        token_endpoint_auth_method: 'client_secret_post',
      });
      // Registered for Basic, authenticating in the body; registered for the body, by Basic.
      const asPost = (client: { clientId: string; clientSecret?: string }) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret!,
      });
      const asBasic = (client: { clientId: string; clientSecret?: string }) => ({
        authorization: basic(client.clientId, client.clientSecret!),
      });
      const basicByPost = await post(path('token'), { ...form, ...asPost(web) });
      expect(basicByPost.status).toBe(200);
      const postByBasic = await post(path('token'), form, asBasic(postClient));
      expect(postByBasic.status).toBe(200);
      // Checks answer from fresh read models only (503 beyond the bound): on a starved machine the
      // projector may lag by more, so the checks below start once it has caught up.
      await caughtUp();
      for (const [client, token] of [
        [web, basicByPost.body.access_token as string],
        [postClient, postByBasic.body.access_token as string],
      ] as const) {
        const byBody = await post(path('introspect'), { token, ...asPost(client) });
        expect(byBody.body.active).toBe(true);
        const byHeader = await post(path('introspect'), { token }, asBasic(client));
        expect(byHeader.body.active).toBe(true);
        expect((await post(path('revoke'), { token, ...asPost(client) })).status).toBe(200);
        expect((await post(path('revoke'), { token }, asBasic(client))).status).toBe(200);
      }
      // Still one mechanism per request, and still the right secret.
      const both = await post(
        path('introspect'),
        { token: 'x', ...asPost(postClient) },
        asBasic(postClient),
      );
      expect(both.status).toBe(400);
      expect(both.body.error).toBe('invalid_request');
      const wrong = await post(path('revoke'), {
        token: 'x',
        client_id: postClient.clientId,
        client_secret: 'wrong',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
    });

    it('lets a public client name itself in a Basic header without a secret at /revoke and /introspect', async () => {
      const { post, path, newClient, tenant, userId, issueCode, web } = await setup();
      const spa = await newClient(tenant, {
        ...webClient,
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        application_type: 'browser',
      });
      const verifier = randomBytes(32).toString('base64url');
      const { code } = await issueCode(
        tenant,
        { clientId: spa.clientId, userId, redirectUri, scopes: ['openid', 'offline_access'] },
        verifier,
      );
      const tokens = await post(path('token'), {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: spa.clientId,
        code_verifier: verifier,
      });
      expect(tokens.status).toBe(200);
      // okta-auth-js sends base64(client_id); others base64(client_id + ':').
      const idOnly = { authorization: `Basic ${Buffer.from(spa.clientId).toString('base64')}` };
      const emptySecret = {
        authorization: `Basic ${Buffer.from(`${spa.clientId}:`).toString('base64')}`,
      };
      const introspected = await post(
        path('introspect'),
        { token: tokens.body.access_token },
        idOnly,
      );
      expect(introspected.status).toBe(200);
      expect(introspected.body.active).toBe(true);
      const viaEmpty = await post(
        path('introspect'),
        { token: tokens.body.access_token },
        emptySecret,
      );
      expect(viaEmpty.body.active).toBe(true);
      const revoked = await post(path('revoke'), { token: tokens.body.refresh_token }, idOnly);
      expect(revoked.status).toBe(200);
      expect(
        (await post(path('introspect'), { token: tokens.body.access_token }, emptySecret)).body,
      ).toEqual({ active: false });
      // With the client_id in the body too: the same client, still one mechanism.
      expect(
        (await post(path('revoke'), { token: 'x', client_id: spa.clientId }, idOnly)).status,
      ).toBe(200);
      // A public client never shows a secret, and a confidential client must.
      const withSecret = await post(
        path('revoke'),
        { token: 'x' },
        {
          authorization: basic(spa.clientId, 'secret'),
        },
      );
      expect(withSecret.body.error).toBe('invalid_client');
      const confidentialIdOnly = await post(
        path('introspect'),
        { token: 'x' },
        {
          authorization: `Basic ${Buffer.from(web.clientId).toString('base64')}`,
        },
      );
      expect(confidentialIdOnly.body.error).toBe('invalid_client');
    });

    it('throttles client authentication per client and source: 429 E0000047 with Okta headers', async () => {
      const { post, path, web, auth } = await setup();
      const form = { grant_type: 'client_credentials', scope: 'orders.read' };
      const ok = await post(path('token'), form, auth);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-rate-limit-limit')).toBe('6000');
      expect(ok.headers.get('x-rate-limit-remaining')).toBe('5999');
      expect(Number(ok.headers.get('x-rate-limit-reset'))).toBeGreaterThan(Date.now() / 1000);
      // An attacker guessing the secret from one source: 20 failures, then 429 before any check.
      const attacker = { 'x-forwarded-for': '198.51.100.66' };
      const guesses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          post(path('token'), form, { ...attacker, authorization: basic(web.clientId, `g${i}`) }),
        ),
      );
      const statuses = guesses.map((guess) => guess.status);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(20);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(20);
      expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
      const refused = guesses.find((guess) => guess.status === 429)!;
      expect(refused.body).toEqual({
        errorCode: 'E0000047',
        errorSummary: 'API call exceeded rate limit due to too many requests.',
        errorLink: 'E0000047',
        errorId: expect.stringMatching(/^oae/),
        errorCauses: [],
      });
      expect(refused.headers.get('x-rate-limit-limit')).toBe('20');
      expect(refused.headers.get('x-rate-limit-remaining')).toBe('0');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Even the right secret is refused from that source now; from any other source it works.
      const rightFromAttacker = await post(path('token'), form, { ...attacker, ...auth });
      expect(rightFromAttacker.status).toBe(429);
      const elsewhere = await post(path('token'), form, {
        'x-forwarded-for': '203.0.113.5',
        ...auth,
      });
      expect(elsewhere.status).toBe(200);
      // The same budget at /introspect and /revoke.
      const introspect = await post(path('introspect'), { token: 'x' }, { ...attacker, ...auth });
      expect(introspect.status).toBe(429);
      const revoke = await post(path('revoke'), { token: 'x' }, { ...attacker, ...auth });
      expect(revoke.status).toBe(429);
    });

    it('throttles every request of a client past its budget, whatever the source', async () => {
      const { post, path, auth } = await startTokenWithLimits({
        defaults: { tokenClient: { limit: 5, windowSeconds: 60 } },
      });
      const form = { grant_type: 'client_credentials', scope: 'orders.read' };
      const statuses = [];
      for (let i = 0; i < 7; i++)
        statuses.push(
          (await post(path('token'), form, { ...auth, 'x-forwarded-for': `203.0.113.${i}` }))
            .status,
        );
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    });

    it('refuses bad token requests with the error each deserves', async () => {
      const { post, path, auth, newClient, tenant, base } = await setup();
      const errorOf = async (form: Record<string, string>, headers = auth, server = 'default') =>
        (await post(path('token', server), form, headers)).body.error;
      expect(await errorOf({ scope: 'orders.read' })).toBe('invalid_request');
      expect(await errorOf({ grant_type: 'password', scope: 'orders.read' })).toBe(
        'unsupported_grant_type',
      );
      expect(await errorOf({ grant_type: 'client_credentials', scope: 'openid' })).toBe(
        'invalid_scope',
      );
      expect(await errorOf({ grant_type: 'client_credentials', scope: 'nope' })).toBe(
        'invalid_scope',
      );
      expect(await errorOf({ grant_type: 'client_credentials', scope: 'x'.repeat(1025) })).toBe(
        'invalid_scope',
      );
      expect(
        await errorOf({ grant_type: 'client_credentials', scope: 'orders.read' }, auth, 'org'),
      ).toBe('unsupported_grant_type');
      const codeOnly = await newClient(tenant, {
        ...webClient,
        grant_types: ['authorization_code'],
      });
      expect(
        await errorOf(
          { grant_type: 'client_credentials', scope: 'orders.read' },
          { authorization: basic(codeOnly.clientId, codeOnly.clientSecret!) },
        ),
      ).toBe('unauthorized_client');
      const twice = await fetch(`${base}${path('token')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
        body: 'grant_type=client_credentials&grant_type=client_credentials',
      });
      expect(((await twice.json()) as { error: string }).error).toBe('invalid_request');
      const json = await fetch(`${base}${path('token')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"grant_type":"client_credentials"}',
      });
      expect(json.status).toBe(400);
      expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
      expect(
        (await post(`/${tenant}/oauth2/nope/v1/token`, { grant_type: 'client_credentials' }, auth))
          .status,
      ).toBe(404);
    });

    it('exchanges a code once, with PKCE, for an access token, an ID token and a refresh token', async () => {
      const { post, path, auth, web, userId, issueCode, tenant, ring } = await setup();
      const verifier = randomBytes(32).toString('base64url');
      const { code } = await issueCode(
        tenant,
        {
          clientId: web.clientId,
          userId,
          redirectUri,
          scopes: ['openid', 'profile', 'email', 'offline_access'],
          nonce: 'n-0S6',
        },
        verifier,
      );
      const response = await post(
        path('token'),
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        },
        auth,
      );
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([
        'access_token',
        'expires_in',
        'id_token',
        'refresh_token',
        'scope',
        'token_type',
      ]);
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const keys = await ring.verificationKeys(tenant, 'default');
      const id = verifyJwt(response.body.id_token, { issuer, audience: web.clientId, keys }).claims;
      expect(id).toMatchObject({
        ver: 1,
        sub: userId,
        aud: web.clientId,
        nonce: 'n-0S6',
        amr: ['pwd'],
      });
      const atHash = createHash('sha256')
        .update(response.body.access_token)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      expect(id.at_hash).toBe(atHash);
      const access = claimsOf(response.body.access_token);
      expect(access).toMatchObject({
        uid: userId,
        cid: web.clientId,
        scp: ['openid', 'profile', 'email', 'offline_access'],
      });
      expect(typeof access.auth_time).toBe('number');
      // The second exchange is a replay: refused, and what the first one gave is revoked.
      const replay = await post(
        path('token'),
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        },
        auth,
      );
      expect(replay.body.error).toBe('invalid_grant');
      const introspected = await post(
        path('introspect'),
        { token: response.body.access_token },
        auth,
      );
      expect(introspected.body).toEqual({ active: false });
      const refreshed = await post(
        path('token'),
        { grant_type: 'refresh_token', refresh_token: response.body.refresh_token },
        auth,
      );
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    it('maps custom profile attributes (the profile schema) into tokens with user.<attribute> claims', async () => {
      const { post, path, auth, web, issueCode, tenant, appendDirectory, newUser, caughtUp } =
        await setup();
      const custom = {
        properties: {
          skills: { title: 'Skills', type: 'array', items: { type: 'string' } },
          team: { title: 'Team', type: 'string' },
        },
        required: [],
      };
      const claim = (id: string, name: string, claimType: string, value: string) => ({
        aggregateId: 'default',
        event: {
          type: 'gatehouse.events.v1.ClaimCreated' as const,
          data: {
            claim: {
              id,
              name,
              status: 'ACTIVE',
              claimType,
              valueType: 'EXPRESSION',
              value,
              scopes: [],
              alwaysIncludeInToken: true,
              groupFilterType: '',
            },
          },
        },
      });
      await appendDirectory(tenant, [
        {
          aggregateId: 'default',
          event: {
            type: 'gatehouse.events.v1.UserSchemaUpdated',
            data: { customJson: JSON.stringify(custom) },
          },
        },
        claim('ocl1team', 'team', 'RESOURCE', 'user.team'),
        claim('ocl2skills', 'skills', 'IDENTITY', 'user.skills'),
        claim('ocl3missing', 'shoe', 'RESOURCE', 'user.shoe_size'),
      ]);
      const userId = await newUser(tenant, `grace-${randomBytes(3).toString('hex')}@example.com`, {
        customJson: JSON.stringify({ skills: ['cobol', 'compilers'], team: 'navy' }),
      });
      await caughtUp();
      const verifier = randomBytes(32).toString('base64url');
      const { code } = await issueCode(
        tenant,
        { clientId: web.clientId, userId, redirectUri, scopes: ['openid'] },
        verifier,
      );
      const response = await post(
        path('token'),
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        },
        auth,
      );
      expect(response.status).toBe(200);
      const access = claimsOf(response.body.access_token);
      expect(access.team).toBe('navy');
      expect('shoe' in access).toBe(false);
      expect('customJson' in access).toBe(false);
      expect(claimsOf(response.body.id_token).skills).toEqual(['cobol', 'compilers']);

      // The schema drops `team`: the user's stored value stays until their next change, but no
      // token maps it any more (as the API no longer shows it).
      await appendDirectory(tenant, [
        {
          aggregateId: 'default',
          event: {
            type: 'gatehouse.events.v1.UserSchemaUpdated',
            data: {
              customJson: JSON.stringify({
                properties: { skills: custom.properties.skills },
                required: [],
              }),
            },
          },
        },
      ]);
      await caughtUp();
      const refreshed = await issueCode(
        tenant,
        { clientId: web.clientId, userId, redirectUri, scopes: ['openid'] },
        verifier,
      );
      const after = await post(
        path('token'),
        {
          grant_type: 'authorization_code',
          code: refreshed.code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        },
        auth,
      );
      expect(after.status).toBe(200);
      expect('team' in claimsOf(after.body.access_token)).toBe(false);
      expect(claimsOf(after.body.id_token).skills).toEqual(['cobol', 'compilers']);
    });

    it('refuses a code shown with the wrong client, redirect_uri or verifier, without spending it', async () => {
      const { post, path, auth, web, userId, issueCode, tenant, newClient } = await setup();
      const verifier = randomBytes(32).toString('base64url');
      const { code } = await issueCode(
        tenant,
        { clientId: web.clientId, userId, redirectUri, scopes: ['openid'] },
        verifier,
      );
      const other = await newClient(tenant, webClient);
      const form = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      };
      const errorOf = async (changes: Record<string, string>, headers = auth) => {
        const response = await post(path('token'), { ...form, ...changes }, headers);
        return `${response.body.error}: ${response.body.error_description}`;
      };
      expect(
        await errorOf({}, { authorization: basic(other.clientId, other.clientSecret!) }),
      ).toMatch(/^invalid_grant/);
      expect(await errorOf({ redirect_uri: 'https://evil.example.com/cb' })).toMatch(
        /^invalid_grant: The redirect_uri/,
      );
      expect(await errorOf({ code_verifier: randomBytes(32).toString('base64url') })).toMatch(
        /^invalid_grant: PKCE/,
      );
      expect(await errorOf({ code_verifier: 'short' })).toMatch(/^invalid_request/);
      const withoutVerifier = await post(
        path('token'),
        { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
        auth,
      );
      expect(withoutVerifier.body.error).toBe('invalid_grant');
      expect(await errorOf({ code: 'not-a-code' })).toMatch(/^invalid_grant/);
      expect(
        (
          await post(
            path('token'),
            { grant_type: 'authorization_code', redirect_uri: redirectUri },
            auth,
          )
        ).body.error,
      ).toBe('invalid_request');
      // Still good for the rightful exchange.
      expect((await post(path('token'), form, auth)).status).toBe(200);
      // A verifier for a code that had no challenge is refused.
      const { code: plain } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid'],
      });
      expect(await errorOf({ code: plain })).toMatch(/^invalid_grant: A code_verifier was given/);
    });

    it('gives a public client tokens only with PKCE', async () => {
      const { post, path, userId, issueCode, tenant, newClient } = await setup();
      const spa = await newClient(tenant, {
        ...webClient,
        token_endpoint_auth_method: 'none',
        application_type: 'browser',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      const { code } = await issueCode(tenant, {
        clientId: spa.clientId,
        userId,
        redirectUri,
        scopes: ['openid'],
      });
      const refused = await post(path('token'), {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: spa.clientId,
      });
      expect(refused.body.error).toBe('invalid_grant');
      const verifier = randomBytes(32).toString('base64url');
      const { code: pkce } = await issueCode(
        tenant,
        { clientId: spa.clientId, userId, redirectUri, scopes: ['openid'] },
        verifier,
      );
      const ok = await post(path('token'), {
        grant_type: 'authorization_code',
        code: pkce,
        redirect_uri: redirectUri,
        client_id: spa.clientId,
        code_verifier: verifier,
      });
      expect(ok.status).toBe(200);
    });

    it('redeems a code exactly once under 20 parallel exchanges', async () => {
      const { post, path, auth, web, userId, issueCode, tenant } = await setup();
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid'],
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          post(
            path('token'),
            { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
            auth,
          ),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(19);
    });

    it('rotates refresh tokens, narrows scopes only, and revokes the family when a spent token comes back', async () => {
      const { post, path, auth, web, userId, issueCode, tenant } = await setup();
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid', 'email', 'offline_access'],
      });
      const first = (
        await post(
          path('token'),
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
          auth,
        )
      ).body;
      const wider = await post(
        path('token'),
        {
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token,
          scope: 'openid profile',
        },
        auth,
      );
      expect(wider.body.error).toBe('invalid_scope');
      const second = await post(
        path('token'),
        {
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token,
          scope: 'openid offline_access',
        },
        auth,
      );
      expect(second.status).toBe(200);
      expect(second.body.scope).toBe('openid offline_access');
      expect(second.body.refresh_token).not.toBe(first.refresh_token);
      expect(second.body.id_token).toEqual(expect.any(String));
      // The spent token again: refused, and the family (its new token and access tokens) is dead.
      const reuse = await post(
        path('token'),
        { grant_type: 'refresh_token', refresh_token: first.refresh_token },
        auth,
      );
      expect(reuse.body.error).toBe('invalid_grant');
      expect(
        (
          await post(
            path('token'),
            { grant_type: 'refresh_token', refresh_token: second.body.refresh_token },
            auth,
          )
        ).body.error,
      ).toBe('invalid_grant');
      expect(
        (await post(path('introspect'), { token: second.body.access_token }, auth)).body,
      ).toEqual({ active: false });
      expect((await post(path('introspect'), { token: first.access_token }, auth)).body).toEqual({
        active: false,
      });
    });

    it('rotates a refresh token used 20 times in parallel once, and revokes the family for the rest', async () => {
      const { post, path, auth, web, userId, issueCode, tenant } = await setup();
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid', 'offline_access'],
      });
      const first = (
        await post(
          path('token'),
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
          auth,
        )
      ).body;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          post(
            path('token'),
            { grant_type: 'refresh_token', refresh_token: first.refresh_token },
            auth,
          ),
        ),
      );
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(19);
      const introspected = await post(
        path('introspect'),
        { token: winners[0]!.body.refresh_token },
        auth,
      );
      expect(introspected.body).toEqual({ active: false });
    });

    it('introspects and revokes only the asking client own tokens; a revoked refresh token takes its grant', async () => {
      const { post, path, auth, web, userId, issueCode, tenant, newClient } = await setup();
      const other = await newClient(tenant, webClient);
      const otherAuth = { authorization: basic(other.clientId, other.clientSecret!) };
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid', 'offline_access'],
      });
      const tokens = (
        await post(
          path('token'),
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
          auth,
        )
      ).body;
      const active = await post(path('introspect'), { token: tokens.access_token }, auth);
      expect(active.body).toMatchObject({
        active: true,
        token_type: 'Bearer',
        scope: 'openid offline_access',
        client_id: web.clientId,
        uid: userId,
        iss: `http://localhost:9000/${tenant}/oauth2/default`,
      });
      const refresh = await post(
        path('introspect'),
        { token: tokens.refresh_token, token_type_hint: 'refresh_token' },
        auth,
      );
      expect(refresh.body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        client_id: web.clientId,
      });
      // A wrong hint does not hide a token (RFC 7662 section 2.1).
      const wrongHint = await post(
        path('introspect'),
        { token: tokens.refresh_token, token_type_hint: 'access_token' },
        auth,
      );
      expect(wrongHint.body.active).toBe(true);
      expect(
        (await post(path('introspect'), { token: tokens.access_token }, otherAuth)).body,
      ).toEqual({ active: false });
      expect((await post(path('introspect'), { token: 'garbage' }, auth)).body).toEqual({
        active: false,
      });
      expect((await post(path('introspect'), {}, auth)).body.error).toBe('invalid_request');
      // Another client's revocation is answered 200 and changes nothing.
      expect((await post(path('revoke'), { token: tokens.access_token }, otherAuth)).status).toBe(
        200,
      );
      expect(
        (await post(path('introspect'), { token: tokens.access_token }, auth)).body.active,
      ).toBe(true);
      // Revoking the refresh token revokes the grant: its access token too.
      const revoked = await post(path('revoke'), { token: tokens.refresh_token }, auth);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toBeUndefined();
      expect((await post(path('introspect'), { token: tokens.access_token }, auth)).body).toEqual({
        active: false,
      });
      expect((await post(path('introspect'), { token: tokens.refresh_token }, auth)).body).toEqual({
        active: false,
      });
      expect(
        (await post(path('revoke'), { token: 'x', token_type_hint: 'nope' }, auth)).body.error,
      ).toBe('unsupported_token_type');
    });

    it('answers /introspect on koa exactly as on the direct path (absolute-form targets go to koa)', async () => {
      const { base, path, auth, web, userId, issueCode, tenant, logs } = await setup();
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid', 'offline_access'],
      });
      const post = async (
        target: string,
        method: string,
        body: string,
        headers: Record<string, string>,
      ) => {
        const answer = await sendRaw(base, target, { method, body, headers });
        return {
          ...answer,
          json: answer.text.startsWith('{') ? JSON.parse(answer.text) : undefined,
        };
      };
      const tokens = (
        await post(
          path('token'),
          'POST',
          `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(redirectUri)}`,
          { ...form, ...auth },
        )
      ).json as Record<string, string>;
      const cases: [string, Record<string, string>][] = [
        [`token=${tokens.access_token}`, { ...form, ...auth }],
        [`token=${tokens.refresh_token}`, { ...form, ...auth }],
        ['token=garbage', { ...form, ...auth }],
        ['', { ...form, ...auth }],
        [`token=${tokens.access_token}`, { ...form, authorization: 'Basic bm9wZTpub3Bl' }],
        [`token=${tokens.access_token}`, { ...form, authorization: 'Basic !!' }],
        [`token=${tokens.access_token}`, { 'content-type': 'text/plain', ...auth }],
        [`token=a&token=b`, { ...form, ...auth }],
      ];
      const compared = [
        'content-type',
        'content-length',
        'cache-control',
        'pragma',
        'www-authenticate',
      ];
      const shape = (answer: Awaited<ReturnType<typeof post>>) => ({
        status: answer.status,
        text: answer.text,
        ...Object.fromEntries(compared.map((name) => [name, answer.headers[name]])),
      });
      for (const [body, headers] of cases) {
        const direct = await post(path('introspect'), 'POST', body, headers);
        const viaKoa = await post(`${base}${path('introspect')}`, 'POST', body, headers);
        expect(shape(viaKoa), `${body} ${JSON.stringify(headers)}`).toEqual(shape(direct));
        expect(direct.headers['x-request-id']).toEqual(expect.any(String));
      }
      const active = await post(path('introspect'), 'POST', cases[0]![0], cases[0]![1]);
      expect(active.json).toMatchObject({ active: true, token_type: 'Bearer', uid: userId });
      // The org server's endpoint too, and GET is refused on both paths alike.
      const org = await post(path('introspect', 'org'), 'POST', 'token=x', { ...form, ...auth });
      expect(
        shape(
          await post(`${base}${path('introspect', 'org')}`, 'POST', 'token=x', {
            ...form,
            ...auth,
          }),
        ),
      ).toEqual(shape(org));
      const wrongMethod = await post(path('introspect'), 'GET', '', auth);
      expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, 'POST']);
      expect(wrongMethod.json).toMatchObject({ error: 'invalid_request' });
      expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    });

    it('answers /token on koa exactly as on the direct path, every answer after client authentication with its budget', async () => {
      const { base, path, auth, logs } = await setup();
      const post = (target: string, body: string, headers: Record<string, string>) =>
        sendRaw(base, target, { method: 'POST', body, headers });
      const cases: [string, Record<string, string>][] = [
        ['grant_type=client_credentials&scope=orders.read', { ...form, ...auth }],
        ['grant_type=client_credentials&scope=nope', { ...form, ...auth }],
        ['grant_type=password&username=a&password=b', { ...form, ...auth }],
        ['grant_type=authorization_code&code=nope&redirect_uri=x', { ...form, ...auth }],
        ['scope=orders.read', { ...form, ...auth }],
        ['grant_type=client_credentials', { ...form, authorization: 'Basic bm9wZTpub3Bl' }],
        ['grant_type=client_credentials', { 'content-type': 'text/plain', ...auth }],
        ['grant_type=a&grant_type=b', { ...form, ...auth }],
      ];
      const compared = [
        'content-type',
        'cache-control',
        'pragma',
        'www-authenticate',
        'x-rate-limit-limit',
      ];
      const shape = (answer: Awaited<ReturnType<typeof post>>) => ({
        status: answer.status,
        // A token differs every time; an error's body does not.
        text: answer.status === 200 ? Object.keys(JSON.parse(answer.text)).sort() : answer.text,
        ...Object.fromEntries(compared.map((name) => [name, answer.headers[name]])),
      });
      for (const [body, headers] of cases) {
        const direct = await post(path('token'), body, headers);
        const viaKoa = await post(`${base}${path('token')}`, body, headers);
        expect(shape(viaKoa), `${body} ${JSON.stringify(headers)}`).toEqual(shape(direct));
        expect(direct.headers['x-request-id']).toEqual(expect.any(String));
      }
      // A refusal of an authenticated client's grant still tells it its budget, as Okta does.
      const refused = await post(path('token'), cases[1]![0], cases[1]![1]);
      expect([refused.status, JSON.parse(refused.text).error]).toEqual([400, 'invalid_scope']);
      expect(refused.headers['x-rate-limit-limit']).toBe('6000');
      expect(Number(refused.headers['x-rate-limit-remaining'])).toBeLessThan(6000);
      const wrongMethod = await sendRaw(base, path('token'), {
        method: 'GET',
        body: '',
        headers: auth,
      });
      expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, 'POST']);
      expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    });

    it('serves openid-client as a real client: client credentials, refresh, introspection, revocation', async () => {
      const { base, tenant, web, userId, issueCode, post, path, auth } = await setup();
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const endpoint = (name: string) => `${base}${path(name)}`;
      const config = new oidc.Configuration(
        {
          issuer,
          token_endpoint: endpoint('token'),
          introspection_endpoint: endpoint('introspect'),
          revocation_endpoint: endpoint('revoke'),
        },
        web.clientId,
        undefined,
        oidc.ClientSecretBasic(web.clientSecret!),
      );
      oidc.allowInsecureRequests(config);
      const cc = await oidc.clientCredentialsGrant(config, { scope: 'orders.read' });
      expect(cc.token_type).toBe('bearer');
      expect(cc.scope).toBe('orders.read');
      const introspected = await oidc.tokenIntrospection(config, cc.access_token);
      expect(introspected.active).toBe(true);
      await oidc.tokenRevocation(config, cc.access_token);
      expect((await oidc.tokenIntrospection(config, cc.access_token)).active).toBe(false);
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['offline_access', 'email'],
      });
      const first = (
        await post(
          path('token'),
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
          auth,
        )
      ).body;
      const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token);
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      expect(refreshed.refresh_token).not.toBe(first.refresh_token);
      await oidc.tokenRevocation(config, refreshed.refresh_token!);
      await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });

    it('mints implicit and hybrid tokens over gRPC, and validates tokens for other services', async () => {
      const { grpcPort, tenant, web, userId, newClient, post, path, auth, ring } = await setup();
      const client = new TokenServiceClient(
        `127.0.0.1:${grpcPort}`,
        grpcChannelCredentials(await testGrpcTls('authorize')),
      );
      cleanups.push(async () => client.close());
      const call = <Req, Res>(method: 'mintTokens' | 'validateToken', request: Req) =>
        new Promise<Res>((resolve, reject) =>
          (
            client[method] as unknown as (
              r: Req,
              cb: (e: ServiceError | null, v: Res) => void,
            ) => void
          ).call(client, request, (error, value) => (error ? reject(error) : resolve(value))),
        );
      const spa = await newClient(tenant, {
        ...webClient,
        token_endpoint_auth_method: 'none',
        application_type: 'browser',
        grant_types: ['implicit', 'authorization_code'],
        response_types: ['id_token', 'token', 'code'],
      });
      const base = {
        tenant,
        serverId: 'default',
        clientId: spa.clientId,
        userId,
        scopes: ['openid', 'profile', 'email'],
        nonce: 'n-1',
        authTime: BigInt(Math.floor(Date.now() / 1000) - 10),
        amr: ['pwd'],
        code: '',
        grantId: '',
        requestId: 'req-1',
      };
      const both = await call<
        typeof base & { accessToken: boolean; idToken: boolean },
        MintTokensResponse
      >('mintTokens', { ...base, accessToken: true, idToken: true });
      expect(both.expiresIn).toBe(3600);
      const keys = await ring.verificationKeys(tenant, 'default');
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const id = verifyJwt(both.idToken, { issuer, audience: spa.clientId, keys }).claims;
      expect(id.nonce).toBe('n-1');
      expect(id.at_hash).toBe(
        createHash('sha256')
          .update(both.accessToken)
          .digest()
          .subarray(0, 16)
          .toString('base64url'),
      );
      const code = randomBytes(32).toString('base64url');
      const hybrid = await call<
        typeof base & { accessToken: boolean; idToken: boolean },
        MintTokensResponse
      >('mintTokens', { ...base, code, accessToken: false, idToken: true });
      expect(hybrid.accessToken).toBe('');
      const hybridId = claimsOf(hybrid.idToken);
      expect(hybridId.c_hash).toBe(
        createHash('sha256').update(code).digest().subarray(0, 16).toString('base64url'),
      );
      expect(hybridId.at_hash).toBeUndefined();
      expect(hybridId.email).toEqual(expect.any(String)); // no access token: every claim of the scopes
      // Refusals carry the OAuth error.
      await expect(
        call('mintTokens', { ...base, clientId: web.clientId, accessToken: true, idToken: false }),
      ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(
        call('mintTokens', { ...base, scopes: ['profile'], accessToken: false, idToken: true }),
      ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      // ValidateToken: active while valid, not once revoked; an ID token only for its own client.
      const validate = (token: string, clientId = '') =>
        call<object, { active: boolean; tokenType: string; userId: string }>('validateToken', {
          tenant,
          serverId: 'default',
          token,
          clientId,
        });
      expect(await validate(both.accessToken)).toMatchObject({
        active: true,
        tokenType: 'access_token',
        userId,
      });
      expect(await validate(both.idToken, spa.clientId)).toMatchObject({
        active: true,
        tokenType: 'id_token',
      });
      expect((await validate(both.idToken, web.clientId)).active).toBe(false);
      expect((await validate('garbage')).active).toBe(false);
      const cc = (await post(path('token'), { grant_type: 'client_credentials' }, auth)).body
        .access_token;
      expect((await validate(cc)).active).toBe(true);
      await post(path('revoke'), { token: cc }, auth);
      expect((await validate(cc)).active).toBe(false);
    });

    it('answers MintTokens to the authorize service alone, and gRPC only over mutual TLS', async () => {
      const { grpcPort, tenant, userId, newClient } = await setup();
      const spa = await newClient(tenant, {
        ...webClient,
        token_endpoint_auth_method: 'none',
        application_type: 'browser',
        grant_types: ['implicit'],
        response_types: ['id_token', 'token'],
      });
      const request = {
        tenant,
        serverId: 'default',
        clientId: spa.clientId,
        userId,
        scopes: ['openid'],
        accessToken: true,
        idToken: true,
        nonce: '',
        authTime: BigInt(Math.floor(Date.now() / 1000)),
        amr: ['pwd'],
        code: '',
        grantId: '',
        requestId: 'req-identity',
      };
      const as = (channel: ReturnType<typeof credentials.createInsecure>) => {
        const client = new TokenServiceClient(`127.0.0.1:${grpcPort}`, channel);
        cleanups.push(async () => client.close());
        return {
          mint: () =>
            new Promise<MintTokensResponse>((resolve, reject) =>
              client.mintTokens(
                request,
                new Metadata(),
                { deadline: Date.now() + 5000 },
                (error, value) => (error ? reject(error) : resolve(value!)),
              ),
            ),
          validate: (token: string) =>
            new Promise<{ active: boolean }>((resolve, reject) =>
              client.validateToken(
                { tenant, serverId: 'default', token, clientId: '' },
                new Metadata(),
                { deadline: Date.now() + 5000 },
                (error, value) => (error ? reject(error) : resolve(value!)),
              ),
            ),
        };
      };
      const authorize = as(grpcChannelCredentials(await testGrpcTls('authorize')));
      const minted = await authorize.mint();
      expect(minted.accessToken).toEqual(expect.any(String));
      // Another service of the same CA: it may check tokens, not mint them.
      const userinfo = as(grpcChannelCredentials(await testGrpcTls('userinfo')));
      await expect(userinfo.mint()).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'MintTokens answers authorize only, not userinfo',
      });
      expect((await userinfo.validate(minted.accessToken)).active).toBe(true);
      // Without a client certificate nothing gets past the handshake.
      const plaintext = as(credentials.createInsecure());
      await expect(plaintext.mint()).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await expect(plaintext.validate(minted.accessToken)).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });
    });

    it('answers 503 temporarily_unavailable, and issues nothing, when the event log is unreachable', async () => {
      const { store, ring, keks, tenant, web } = await setup();
      // The real Kafka adapter, facing a broker address nothing listens on.
      const unreachable = new KafkaEventBus({
        brokers: ['127.0.0.1:1'],
        clientId: 'token-unreachable',
        publishTimeoutMs: 1500,
        log: () => {},
      });
      cleanups.push(() => unreachable.close());
      const { app } = createTokenService({
        bus: unreachable,
        store,
        ring,
        keks,
        tenancy,
        log: () => {},
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      const response = await fetch(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/${tenant}/oauth2/default/v1/token`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic(web.clientId, web.clientSecret!),
          },
          body: 'grant_type=client_credentials&scope=orders.read',
        },
      );
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      const body = (await response.json()) as Record<string, string>;
      expect(body.error).toBe('temporarily_unavailable');
      expect(body.access_token).toBeUndefined();
    });

    it('appends the grant before answering, and keeps every secret out of the events', async () => {
      const { post, path, auth, web, userId, issueCode, tenant, bus, caughtUp } = await setup();
      const { code } = await issueCode(tenant, {
        clientId: web.clientId,
        userId,
        redirectUri,
        scopes: ['openid', 'offline_access'],
      });
      const tokens = (
        await post(
          path('token'),
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
          auth,
        )
      ).body;
      await caughtUp();
      const events: string[] = [];
      const types: string[] = [];
      await bus.replay(Topics.grants, async ({ envelope }) => {
        if (envelope.tenant !== tenant) return;
        types.push(envelope.type);
        events.push(Buffer.from(envelope.data).toString('latin1'));
      });
      expect(types).toEqual([
        'gatehouse.events.v1.AuthorizationCodeRedeemed',
        'gatehouse.events.v1.TokensIssued',
      ]);
      for (const secret of [
        code,
        tokens.refresh_token,
        tokens.access_token,
        tokens.id_token,
        web.clientSecret!,
      ])
        for (const event of events) expect(event.includes(secret)).toBe(false);
    });
  });
}
