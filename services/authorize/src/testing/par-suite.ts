// Pushed authorization requests (RFC 9126) on both stacks: openid-client v6's PAR drives the code
// flow end to end; the pushed request is the whole request (the front channel's parameters are
// ignored), used once, by its own client only, and dies with a change of its client (SPEC section
// 6); /par answers in JSON, authenticates clients as /token does (a secret, private_key_jwt, or a
// public client's id), and refuses what /authorize would; a client registered to push must.
import { randomBytes, randomUUID } from 'node:crypto';
import { customScopeCreated, fixturePassword, type TestStack } from '@gatehouse/test-stacks';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { browser, startAuthorize } from './authorize-harness.js';

const redirectUri = 'https://app.example.com/cb';
/** A JSON body, read by the tests' expectations. */
// biome-ignore lint/suspicious/noExplicitAny: the expectations check the shape
type Json = Record<string, any>;

export function describePushedAuthorizationRequests(stack: TestStack): void {
  describe(`pushed authorization requests (RFC 9126): ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async () => {
      const harness = await startAuthorize(stack, cleanups);
      const tenant = await harness.newTenant();
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read', { description: 'Read your orders' }),
      ]);
      const webApp = {
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        consent_method: 'TRUSTED',
      };
      const web = await harness.newClient(tenant, { client_name: 'Web', ...webApp });
      const pushOnly = await harness.newClient(tenant, {
        client_name: 'Push only',
        ...webApp,
        require_pushed_authorization_requests: true,
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
      const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const userId = await harness.newUser(tenant, login);
      for (const client of [web, pushOnly, spa])
        await harness.assign(tenant, client.clientId, { userId });
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const endpoint = (name: string) => `${harness.base}/${tenant}/oauth2/default/v1/${name}`;
      const configOf = (clientId: string, auth: oidc.ClientAuth) => {
        const config = new oidc.Configuration(
          {
            issuer,
            authorization_endpoint: endpoint('authorize'),
            pushed_authorization_request_endpoint: endpoint('par'),
            token_endpoint: `${harness.tokenBase}/${tenant}/oauth2/default/v1/token`,
            authorization_response_iss_parameter_supported: true,
          },
          clientId,
          undefined,
          auth,
        );
        oidc.allowInsecureRequests(config);
        return config;
      };
      const sessionToken = async () => {
        const response = await fetch(`${harness.base}/${tenant}/api/v1/authn`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: login, password: fixturePassword }),
        });
        return ((await response.json()) as Json).sessionToken as string;
      };
      /** POST /par as a client would, with `headers` for its credentials. */
      const push = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
        const response = await fetch(endpoint('par'), {
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
      const basicOf = (client: { clientId: string; clientSecret?: string }) => ({
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      });
      /** The browser at /authorize with `params`, signed in by a sessionToken. */
      const authorize = async (params: Record<string, string>) => {
        const url = new URL(endpoint('authorize'));
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
        url.searchParams.set('sessionToken', await sessionToken());
        return browser(url.href).get(url.href);
      };
      const codeRequest = {
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid profile',
        state: 'st-1',
        nonce: 'n-1',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      };
      return {
        ...harness,
        tenant,
        web,
        pushOnly,
        spa,
        issuer,
        login,
        endpoint,
        configOf,
        push,
        basicOf,
        authorize,
        codeRequest,
      };
    };

    it("serves openid-client's PAR: the code flow with the request pushed, the front channel carrying client_id and request_uri only", async () => {
      const { configOf, web, authorize, issuer, login } = await setup();
      const config = configOf(web.clientId, oidc.ClientSecretBasic(web.clientSecret!));
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = await oidc.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile orders.read',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      expect(url.searchParams.get('request_uri')).toMatch(
        /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/,
      );
      const reply = await authorize(Object.fromEntries(url.searchParams));
      expect(reply.status).toBe(302);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(reply.location!), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'orders.read', 'profile']);
      expect(tokens.claims()).toMatchObject({ iss: issuer, preferred_username: login });
    });

    it('takes a request_uri once, by its own client only, and nothing else of the front channel', async () => {
      const { push, basicOf, web, spa, authorize, codeRequest } = await setup();
      const pushed = await push({ ...codeRequest, client_id: web.clientId }, basicOf(web));
      expect(pushed.status).toBe(201);
      expect(pushed.body).toEqual({ request_uri: expect.any(String), expires_in: 60 });
      expect(pushed.headers.get('cache-control')).toBe('no-store');
      const requestUri = pushed.body.request_uri as string;
      // Another client names it: refused, on a page (and it is spent either way).
      const foreign = await authorize({ client_id: spa.clientId, request_uri: requestUri });
      expect([foreign.status, foreign.text]).toEqual([
        400,
        expect.stringContaining('another client'),
      ]);
      const again = await push({ ...codeRequest, client_id: web.clientId }, basicOf(web));
      // The front channel's own parameters are ignored: the redirect, scope and state pushed rule.
      const reply = await authorize({
        client_id: web.clientId,
        request_uri: again.body.request_uri,
        redirect_uri: 'https://evil.example.com/cb',
        state: 'forged',
        scope: 'openid email',
      });
      expect(reply.status).toBe(302);
      const location = new URL(reply.location!);
      expect(location.origin + location.pathname).toBe(redirectUri);
      expect(location.searchParams.get('state')).toBe('st-1');
      expect(location.searchParams.get('code')).toEqual(expect.any(String));
      const replayed = await authorize({
        client_id: web.clientId,
        request_uri: again.body.request_uri,
      });
      expect([replayed.status, replayed.text]).toEqual([
        400,
        expect.stringContaining('already used'),
      ]);
      const unknown = await authorize({
        client_id: web.clientId,
        request_uri: 'urn:ietf:params:oauth:request_uri:nothing-pushed',
      });
      expect(unknown.status).toBe(400);
      const noClient = await authorize({ request_uri: again.body.request_uri });
      expect(noClient.status).toBe(400);
    });

    it('ends a pushed request when its client changes (deactivated and active again)', async () => {
      const { push, basicOf, web, authorize, codeRequest, appendDirectory, tenant, caughtUp } =
        await setup();
      const pushed = await push({ ...codeRequest, client_id: web.clientId }, basicOf(web));
      await appendDirectory(tenant, [
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
        {
          aggregateId: web.clientId,
          event: { type: 'gatehouse.events.v1.ClientActivated', data: {} },
          version: 3,
        },
      ]);
      await caughtUp();
      const reply = await authorize({
        client_id: web.clientId,
        request_uri: pushed.body.request_uri,
      });
      expect([reply.status, reply.text]).toEqual([400, expect.stringContaining('no longer valid')]);
    });

    it('answers /par in JSON: client authentication as at /token, and what /authorize would refuse', async () => {
      const { push, basicOf, web, spa, codeRequest, tenant, newClient, issuer, endpoint } =
        await setup();
      const noAuth = await push({ ...codeRequest, client_id: web.clientId });
      expect([noAuth.status, noAuth.body.error]).toEqual([401, 'invalid_client']);
      const wrongSecret = await push(
        { ...codeRequest, client_id: web.clientId },
        basicOf({ clientId: web.clientId, clientSecret: 'wrong' }),
      );
      expect([wrongSecret.status, wrongSecret.body.error]).toEqual([401, 'invalid_client']);
      const badRedirect = await push(
        { ...codeRequest, redirect_uri: 'https://evil.example.com/cb' },
        basicOf(web),
      );
      expect([badRedirect.status, badRedirect.body.error]).toEqual([400, 'invalid_request']);
      const badScope = await push({ ...codeRequest, scope: 'openid nope' }, basicOf(web));
      expect([badScope.status, badScope.body.error]).toEqual([400, 'invalid_scope']);
      const nested = await push(
        { ...codeRequest, request_uri: 'urn:ietf:params:oauth:request_uri:x' },
        basicOf(web),
      );
      expect([nested.status, nested.body.error]).toEqual([400, 'invalid_request']);
      // A public client pushes with its id alone, and PKCE.
      const publicPush = await push({ ...codeRequest, client_id: spa.clientId });
      expect(publicPush.status).toBe(201);
      const { code_challenge: _c, code_challenge_method: _m, ...withoutPkce } = codeRequest;
      const publicWithoutPkce = await push({ ...withoutPkce, client_id: spa.clientId });
      expect([publicWithoutPkce.status, publicWithoutPkce.body.error]).toEqual([
        400,
        'invalid_request',
      ]);
      // private_key_jwt, its assertion's aud the issuer.
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
      const signer = await newClient(tenant, {
        client_name: 'Signer',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
      });
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(signer.clientId)
        .setSubject(signer.clientId)
        .setAudience(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey);
      const signed = await push({
        ...codeRequest,
        client_id: signer.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      expect(signed.status).toBe(201);
      // Only POST, answered in JSON too.
      const get = await fetch(endpoint('par'));
      expect([get.status, get.headers.get('allow'), ((await get.json()) as Json).error]).toEqual([
        405,
        'POST',
        'invalid_request',
      ]);
    });

    it('makes a client registered to push its requests push them', async () => {
      const { pushOnly, push, basicOf, authorize, codeRequest } = await setup();
      const front = await authorize({ ...codeRequest, client_id: pushOnly.clientId });
      expect(front.status).toBe(302);
      const refused = new URL(front.location!);
      expect(refused.searchParams.get('error')).toBe('invalid_request');
      expect(refused.searchParams.get('error_description')).toMatch(/must push/);
      const pushed = await push(
        { ...codeRequest, client_id: pushOnly.clientId },
        basicOf(pushOnly),
      );
      const reply = await authorize({
        client_id: pushOnly.clientId,
        request_uri: pushed.body.request_uri,
      });
      expect(new URL(reply.location!).searchParams.get('code')).toEqual(expect.any(String));
    });
  });
}
