// The end-to-end suite: what an application and a person see of a Gatehouse deployment, through its
// public URL only. Each run makes its own tenant through the management API (system token), then:
// discovery, JWKS, the browser sign-in with the code flow and PKCE, PAR, the device authorization
// grant on the hosted page, hybrid, implicit, refresh, userinfo, introspection, revocation, a
// client's deactivation killing its tokens, and logout.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, launchChromium, type Page, saveScreenshot } from '@gatehouse/testkit';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from './targets.js';

type Json = Record<string, unknown>;

export const password = 'Correct-Horse-9';

export interface E2eTenant {
  id: string;
  org: string;
  issuer: string;
  apiToken: string;
  user: { id: string; login: string };
  web: { clientId: string; clientSecret: string };
  spa: { clientId: string };
}

/** The client application: its redirect URIs record what arrives and show a page. */
export class ClientApp {
  readonly landed: URL[] = [];
  private server!: Server;
  origin = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.landed.push(new URL(req.url ?? '/', this.origin));
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<h1>Back in the app</h1>');
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get callback(): string {
    return `${this.origin}/callback`;
  }

  get loggedOut(): string {
    return `${this.origin}/logged-out`;
  }

  last(path: string): URL | undefined {
    return this.landed.filter((url) => url.pathname === path).at(-1);
  }

  stop(): void {
    this.server?.close();
  }
}

/** The management API as an operator calls it. */
export function managementApi(target: Target) {
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `SSWS ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const ok = async (method: string, path: string, token: string, body?: unknown) => {
    const result = await call(method, path, token, body);
    if (result.status >= 300)
      throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  };
  return { call, ok };
}

/** A tenant with a user, a confidential web app and a public single-page app, both assigned. */
export async function newE2eTenant(target: Target, app: ClientApp): Promise<E2eTenant> {
  const api = managementApi(target);
  const id = `e2e-${randomBytes(4).toString('hex')}`;
  const tenant = await api.ok('POST', '/api/v1/tenants', target.adminToken, {
    id,
    name: `End to end ${id}`,
  });
  const apiToken = tenant.apiToken as string;
  const org = tenant.issuer as string;
  const path = new URL(org).pathname.replace(/\/$/, '');
  const as = (method: string, p: string, body?: unknown) =>
    api.ok(method, `${path}${p}`, apiToken, body);
  const login = 'ada@example.com';
  const user = await as('POST', '/api/v1/users?activate=true', {
    profile: { firstName: 'Ada', lastName: 'Lovelace', email: login, login },
    credentials: { password: { value: password } },
  });
  const web = await as('POST', '/oauth2/v1/clients', {
    client_name: 'E2E web app',
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'implicit', 'refresh_token'],
    response_types: [
      'code',
      'token',
      'id_token',
      'code id_token',
      'code token',
      'id_token token',
      'code id_token token',
    ],
    redirect_uris: [app.callback],
    post_logout_redirect_uris: [app.loggedOut],
    consent_method: 'TRUSTED',
  });
  const spa = await as('POST', '/oauth2/v1/clients', {
    client_name: 'E2E single-page app',
    application_type: 'browser',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [app.callback],
    post_logout_redirect_uris: [app.loggedOut],
  });
  for (const client of [web, spa]) {
    await as('PUT', `/api/v1/apps/${client.client_id as string}/users/${user.id as string}`);
  }
  const issuer = `${org}/oauth2/default`;
  await untilSigningKeys(issuer);
  return {
    id,
    org,
    issuer,
    apiToken,
    user: { id: user.id as string, login },
    web: { clientId: web.client_id as string, clientSecret: web.client_secret as string },
    spa: { clientId: spa.client_id as string },
  };
}

/** The keys service makes a new server's signing keys on its own schedule: waits for them. */
export async function untilSigningKeys(issuer: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const jwks = (await (await fetch(`${issuer}/v1/keys`)).json()) as { keys?: unknown[] };
    if ((jwks.keys?.length ?? 0) > 0) return;
    if (Date.now() > until) throw new Error(`no signing key for ${issuer} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Signs in on the hosted page (and allows the scopes when asked), in the given page. */
export async function signInInBrowser(page: Page, login: string, secret: string): Promise<void> {
  await page.waitForURL(/\/login\?tx=/);
  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  if (/\/consent\?tx=/.test(page.url())) {
    await page.getByRole('button', { name: 'Allow access' }).click();
  }
}

const pkce = () => {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier };
};

/** Everything in a redirect: query and fragment parameters together. */
function redirectParams(location: string): URLSearchParams {
  const url = new URL(location);
  const params = new URLSearchParams(url.search);
  for (const [key, value] of new URLSearchParams(url.hash.slice(1))) params.set(key, value);
  return params;
}

/** What an application does with a tenant: sign-ins without a browser, token flows, checks. */
export async function connect(tenant: E2eTenant, app: ClientApp) {
  const web = await oidc.discovery(
    new URL(tenant.issuer),
    tenant.web.clientId,
    undefined,
    oidc.ClientSecretBasic(tenant.web.clientSecret),
    { execute: [oidc.allowInsecureRequests] },
  );
  const authn = async () => {
    const response = await fetch(`${tenant.org}/api/v1/authn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: tenant.user.login, password }),
    });
    const body = (await response.json()) as Json;
    expect(response.status, JSON.stringify(body)).toBe(200);
    return body.sessionToken as string;
  };
  /** An /authorize request of the web app with a sessionToken; returns the redirect's params. */
  const authorizeWithSession = async (params: Record<string, string>) => {
    const url = new URL(`${tenant.issuer}/v1/authorize`);
    url.search = new URLSearchParams({
      client_id: tenant.web.clientId,
      redirect_uri: app.callback,
      state: randomBytes(8).toString('hex'),
      nonce: randomBytes(8).toString('hex'),
      sessionToken: await authn(),
      ...params,
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location') ?? '';
    expect(response.status, `${response.status} ${location}`).toBe(302);
    expect(location.startsWith(app.callback)).toBe(true);
    const answer = redirectParams(location);
    // A refusal names itself (e.g. temporarily_unavailable when minting failed), not a missing token.
    expect(answer.get('error'), location).toBeNull();
    return answer;
  };
  /** A fresh set of tokens of the web app through the code flow with PKCE. */
  const codeFlowTokens = async (
    scope = 'openid profile email offline_access',
    options: { DPoP?: oidc.DPoPHandle } = {},
  ) => {
    const { verifier } = pkce();
    const state = randomBytes(8).toString('hex');
    const nonce = randomBytes(8).toString('hex');
    const params = await authorizeWithSession({
      response_type: 'code',
      scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = new URL(app.callback);
    callback.search = params.toString();
    return oidc.authorizationCodeGrant(
      web,
      callback,
      {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: scope.includes('openid'),
      },
      undefined,
      options,
    );
  };
  const userinfoStatus = async (accessToken: string) => {
    const response = await fetch(`${tenant.issuer}/v1/userinfo`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: await response.text(),
    };
  };

  return { web, authn, authorizeWithSession, codeFlowTokens, userinfoStatus };
}

export function defineE2eSuite(label: string, getTarget: () => Target): void {
  describe(label, () => {
    let target: Target;
    let tenant: E2eTenant;
    let browser: Browser;
    const app = new ClientApp();
    let web: oidc.Configuration;
    let client: Awaited<ReturnType<typeof connect>>;
    let jwks: ReturnType<typeof createRemoteJWKSet>;

    beforeAll(async () => {
      target = getTarget();
      await app.start();
      browser = await launchChromium();
      tenant = await newE2eTenant(target, app);
      client = await connect(tenant, app);
      web = client.web;
      jwks = createRemoteJWKSet(new URL(`${tenant.issuer}/v1/keys`));
    });
    afterAll(async () => {
      await browser?.close();
      app.stop();
    });

    it('publishes discovery documents whose issuer is the one in the tokens', async () => {
      for (const [issuer, kind] of [
        [tenant.issuer, 'openid-configuration'],
        [tenant.issuer, 'oauth-authorization-server'],
        [tenant.org, 'openid-configuration'],
      ] as const) {
        const response = await fetch(`${issuer}/.well-known/${kind}`);
        expect(response.status).toBe(200);
        const document = (await response.json()) as Json;
        expect(document.issuer).toBe(issuer);
        for (const endpoint of [
          'authorization_endpoint',
          'token_endpoint',
          'jwks_uri',
          'introspection_endpoint',
          'revocation_endpoint',
        ]) {
          expect(document[endpoint]).toMatch(new RegExp(`^${issuer.replace(/[.]/g, '\\.')}/`));
        }
      }
      expect(web.serverMetadata().issuer).toBe(tenant.issuer);
      expect(web.serverMetadata().code_challenge_methods_supported).toContain('S256');
      // A server created through the API comes with Okta's system scopes, published at once.
      const path = new URL(tenant.org).pathname.replace(/\/$/, '');
      const created = await managementApi(target).ok(
        'POST',
        `${path}/api/v1/authorizationServers`,
        tenant.apiToken,
        { name: 'Orders', audiences: ['api://orders'] },
      );
      const metadata = (await (
        await fetch(`${created.issuer}/.well-known/openid-configuration`)
      ).json()) as Json;
      expect([...(metadata.scopes_supported as string[])].sort()).toEqual([
        'address',
        'email',
        'offline_access',
        'openid',
        'phone',
        'profile',
      ]);
    });

    it('publishes the signing keys (JWKS), RS256 only, cacheable', async () => {
      const response = await fetch(`${tenant.issuer}/v1/keys`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const { keys } = (await response.json()) as { keys: Json[] };
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
        expect(key.kid).toEqual(expect.any(String));
        expect(key).not.toHaveProperty('d');
      }
    });

    it('signs a person in through the browser: code flow with PKCE for a public client', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = randomBytes(8).toString('hex');
      const nonce = randomBytes(8).toString('hex');
      const url = new URL(`${tenant.issuer}/v1/authorize`);
      url.search = new URLSearchParams({
        client_id: tenant.spa.clientId,
        redirect_uri: app.callback,
        response_type: 'code',
        scope: 'openid profile email',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      await page.goto(url.href);
      await page.waitForURL(/\/login\?tx=/);
      expect(await page.locator('main').textContent()).toContain('E2E single-page app');
      await saveScreenshot(page, `e2e-${label.split(' ')[0]}-login`);
      await signInInBrowser(page, tenant.user.login, password);
      await page.waitForURL(`${app.callback}?**`);
      expect(await page.locator('h1').textContent()).toBe('Back in the app');
      const callback = app.last('/callback')!;
      expect(callback.searchParams.get('state')).toBe(state);
      expect(callback.searchParams.get('iss')).toBe(tenant.issuer);

      // The public client redeems the code with its verifier and no secret.
      const spa = await oidc.discovery(
        new URL(tenant.issuer),
        tenant.spa.clientId,
        undefined,
        oidc.None(),
        { execute: [oidc.allowInsecureRequests] },
      );
      const tokens = await oidc.authorizationCodeGrant(spa, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
        issuer: tenant.issuer,
        audience: tenant.spa.clientId,
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({ sub: tenant.user.id, nonce, name: 'Ada Lovelace' });
      const cookies = await context.cookies(tenant.org);
      expect(cookies.find((c) => c.name === 'gh_session')).toMatchObject({ httpOnly: true });
      await context.close();
    });

    it('code flow with PKCE for a confidential client, then userinfo, introspection and refresh', async () => {
      const tokens = await client.codeFlowTokens();
      expect(tokens.token_type).toMatch(/^bearer$/i);
      expect(tokens.refresh_token).toEqual(expect.any(String));
      const claims = tokens.claims()!;
      expect(claims).toMatchObject({ iss: tenant.issuer, aud: tenant.web.clientId });
      const access = await jwtVerify(tokens.access_token, jwks, { issuer: tenant.issuer });
      expect(access.payload).toMatchObject({ sub: tenant.user.login, cid: tenant.web.clientId });

      const userinfo = await oidc.fetchUserInfo(web, tokens.access_token, tenant.user.id);
      expect(userinfo).toMatchObject({
        sub: tenant.user.id,
        name: 'Ada Lovelace',
        email: tenant.user.login,
      });

      const introspected = await oidc.tokenIntrospection(web, tokens.access_token);
      expect(introspected).toMatchObject({
        active: true,
        client_id: tenant.web.clientId,
        token_type: 'Bearer',
      });
      expect(introspected.scope).toContain('openid');
      expect(await oidc.tokenIntrospection(web, 'not-a-token')).toEqual({ active: false });

      const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
      expect(refreshed.access_token).not.toBe(tokens.access_token);
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      expect((await client.userinfoStatus(refreshed.access_token)).status).toBe(200);
    });

    it("pushed authorization request (RFC 9126): openid-client's PAR through the edge, the browser carrying client_id and request_uri only", async () => {
      expect(web.serverMetadata().pushed_authorization_request_endpoint).toBe(
        `${tenant.issuer}/v1/par`,
      );
      const { verifier } = pkce();
      const state = randomBytes(8).toString('hex');
      const url = await oidc.buildAuthorizationUrlWithPAR(web, {
        redirect_uri: app.callback,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      url.searchParams.set('sessionToken', await client.authn());
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location') ?? '';
      expect([response.status, location.startsWith(app.callback)]).toEqual([302, true]);
      const tokens = await oidc.authorizationCodeGrant(web, new URL(location), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(tokens.claims()).toMatchObject({ iss: tenant.issuer, aud: tenant.web.clientId });
      // Used once: the same request_uri again is refused.
      const again = await fetch(url, { redirect: 'manual' });
      expect(again.status).toBe(400);
    });

    it('device authorization grant (RFC 8628): a person allows a device on the hosted page in Chromium while openid-client polls', async () => {
      const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
      const api = managementApi(target);
      const path = new URL(tenant.org).pathname.replace(/\/$/, '');
      const as = (method: string, p: string, body?: unknown) =>
        api.ok(method, `${path}${p}`, tenant.apiToken, body);
      const tv = await as('POST', '/oauth2/v1/clients', {
        client_name: 'E2E TV',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: [deviceGrant, 'refresh_token'],
      });
      const tvId = tv.client_id as string;
      await as('PUT', `/api/v1/apps/${tvId}/users/${tenant.user.id}`);
      // As at Okta, a rule of the server's policy must allow the device grant.
      const policies = (await as(
        'GET',
        '/api/v1/authorizationServers/default/policies',
      )) as unknown as { id: string }[];
      await as('POST', `/api/v1/authorizationServers/default/policies/${policies[0]!.id}/rules`, {
        name: 'Devices',
        priority: 2,
        conditions: {
          grantTypes: { include: [deviceGrant] },
          people: { groups: { include: ['EVERYONE'] } },
          scopes: { include: ['*'] },
        },
      });
      const device = await oidc.discovery(new URL(tenant.issuer), tvId, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      expect(device.serverMetadata().device_authorization_endpoint).toBe(
        `${tenant.issuer}/v1/device/authorize`,
      );
      const started = await oidc.initiateDeviceAuthorization(device, {
        scope: 'openid profile offline_access',
      });
      expect(started.verification_uri).toBe(`${tenant.org}/activate`);
      const polling = oidc.pollDeviceAuthorizationGrant(device, started);

      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(started.verification_uri_complete!);
      await page.getByLabel('Username').fill(tenant.user.login);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/activate\?user_code=/);
      expect(await page.getByLabel('Code').inputValue()).toBe(started.user_code);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.waitForLoadState();
      expect(await page.locator('h1').textContent()).toContain('E2E TV');
      await saveScreenshot(page, `e2e-${label.split(' ')[0]}-device`);
      await page.getByRole('button', { name: 'Allow access' }).click();
      await page.waitForLoadState();
      expect(await page.locator('h1').textContent()).toBe('Device activated');
      await context.close();

      const tokens = await polling;
      expect(tokens.refresh_token).toEqual(expect.any(String));
      const { payload } = await jwtVerify(tokens.id_token!, jwks, {
        issuer: tenant.issuer,
        audience: tvId,
      });
      expect(payload).toMatchObject({ sub: tenant.user.id, name: 'Ada Lovelace' });
      const refreshed = await oidc.refreshTokenGrant(device, tokens.refresh_token!);
      expect((await client.userinfoStatus(refreshed.access_token)).status).toBe(200);
    });

    it("DPoP (RFC 9449): openid-client's DPoP handle through the edge, the tokens bound to its key, refused as Bearer", async () => {
      expect(web.serverMetadata().dpop_signing_alg_values_supported).toEqual([
        'RS256',
        'PS256',
        'ES256',
      ]);
      const key = await oidc.randomDPoPKeyPair('ES256');
      const DPoP = oidc.getDPoPHandle(web, key);
      const jkt = await calculateJwkThumbprint(await exportJWK(key.publicKey));
      const tokens = await client.codeFlowTokens('openid profile email offline_access', { DPoP });
      expect(tokens.token_type).toBe('dpop');
      const access = await jwtVerify(tokens.access_token, jwks, { issuer: tenant.issuer });
      expect(access.payload.cnf).toEqual({ jkt });
      const userinfo = await oidc.fetchUserInfo(web, tokens.access_token, tenant.user.id, {
        DPoP,
      });
      expect(userinfo.sub).toBe(tenant.user.id);
      // The downgrade: the bound token as a Bearer token is refused.
      const asBearer = await client.userinfoStatus(tokens.access_token);
      expect([asBearer.status, asBearer.challenge]).toEqual([
        401,
        expect.stringMatching(/^Bearer error="invalid_token"/),
      ]);
      expect(await oidc.tokenIntrospection(web, tokens.access_token)).toMatchObject({
        active: true,
        token_type: 'DPoP',
        cnf: { jkt },
      });
      const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!, undefined, {
        DPoP,
      });
      expect(refreshed.token_type).toBe('dpop');
      expect(
        (await oidc.fetchUserInfo(web, refreshed.access_token, tenant.user.id, { DPoP })).sub,
      ).toBe(tenant.user.id);
    });

    it("token exchange (RFC 8693): a service's on-behalf-of exchange and Native SSO through the edge, with openid-client's generic grant", async () => {
      const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
      expect(web.serverMetadata().grant_types_supported).toContain(tokenExchange);
      const api = managementApi(target);
      const as = (method: string, p: string, body?: unknown) =>
        api.ok(method, `${new URL(tenant.org).pathname}${p}`, tenant.apiToken, body);
      const configOf = async (clientId: string, auth: oidc.ClientAuth) =>
        oidc.discovery(new URL(tenant.issuer), clientId, undefined, auth, {
          execute: [oidc.allowInsecureRequests],
        });

      // On-behalf-of: the API behind the web app exchanges the user's token for its own.
      const service = await as('POST', '/oauth2/v1/clients', {
        client_name: 'E2E API',
        application_type: 'service',
        grant_types: ['client_credentials', tokenExchange],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const serviceConfig = await configOf(
        service.client_id as string,
        oidc.ClientSecretBasic(service.client_secret as string),
      );
      const user = await client.codeFlowTokens('openid profile email');
      const exchanged = await oidc.genericGrantRequest(serviceConfig, tokenExchange, {
        subject_token: user.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: 'email',
      });
      expect(exchanged.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
      const claims = (await jwtVerify(exchanged.access_token, jwks, { issuer: tenant.issuer }))
        .payload;
      expect(claims).toMatchObject({ uid: tenant.user.id, cid: service.client_id });
      expect((await client.userinfoStatus(exchanged.access_token)).status).toBe(200);
      await oidc.tokenRevocation(web, user.access_token);
      expect((await client.userinfoStatus(exchanged.access_token)).status).toBe(401);

      // Native SSO: a second native app signs in with the first one's device secret and ID token.
      const nativeRedirect = 'com.example.e2e:/cb';
      const native = async (name: string) => {
        const made = await as('POST', '/oauth2/v1/clients', {
          client_name: name,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token', tokenExchange],
          response_types: ['code'],
          redirect_uris: [nativeRedirect],
        });
        await as('PUT', `/api/v1/apps/${made.client_id as string}/users/${tenant.user.id}`);
        return made.client_id as string;
      };
      const [mail, calendar] = [await native('E2E Mail'), await native('E2E Calendar')];
      const mailConfig = await configOf(mail, oidc.None());
      const { verifier } = pkce();
      const state = randomBytes(8).toString('hex');
      const nonce = randomBytes(8).toString('hex');
      const authorize = new URL(`${tenant.issuer}/v1/authorize`);
      authorize.search = new URLSearchParams({
        client_id: mail,
        response_type: 'code',
        scope: 'openid profile offline_access device_sso',
        redirect_uri: nativeRedirect,
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        sessionToken: await client.authn(),
      }).toString();
      const landed = await fetch(authorize, { redirect: 'manual' });
      const location = landed.headers.get('location') ?? '';
      expect([landed.status, location.startsWith(nativeRedirect)], location).toEqual([302, true]);
      const session = await oidc.authorizationCodeGrant(mailConfig, new URL(location), {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      expect(session.device_secret).toEqual(expect.any(String));
      const calendarTokens = await oidc.genericGrantRequest(
        await configOf(calendar, oidc.None()),
        tokenExchange,
        {
          subject_token: session.id_token!,
          subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
          actor_token: session.device_secret as string,
          actor_token_type: 'urn:x-oath:params:oauth:token-type:device-secret',
          scope: 'openid profile offline_access',
        },
      );
      expect(
        (await jwtVerify(calendarTokens.access_token, jwks, { issuer: tenant.issuer })).payload,
      ).toMatchObject({ uid: tenant.user.id, cid: calendar });
      expect(calendarTokens.refresh_token).toEqual(expect.any(String));
    });

    it('hybrid flow: code id_token in the fragment, c_hash bound to the code', async () => {
      const params = await client.authorizeWithSession({
        response_type: 'code id_token',
        scope: 'openid profile',
      });
      const code = params.get('code')!;
      const idToken = params.get('id_token')!;
      expect(code).toEqual(expect.any(String));
      const { payload } = await jwtVerify(idToken, jwks, {
        issuer: tenant.issuer,
        audience: tenant.web.clientId,
      });
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(code));
      expect(payload.c_hash).toBe(Buffer.from(digest.slice(0, 16)).toString('base64url'));
      const response = await fetch(`${tenant.issuer}/v1/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${tenant.web.clientId}:${tenant.web.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: app.callback,
        }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as Json).access_token).toEqual(expect.any(String));
    });

    it('implicit flow: id_token token in the fragment, at_hash bound to the access token', async () => {
      const params = await client.authorizeWithSession({
        response_type: 'id_token token',
        scope: 'openid email',
      });
      const accessToken = params.get('access_token')!;
      expect(params.get('token_type')).toBe('Bearer');
      const { payload } = await jwtVerify(params.get('id_token')!, jwks, {
        issuer: tenant.issuer,
        audience: tenant.web.clientId,
      });
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
      expect(payload.at_hash).toBe(Buffer.from(digest.slice(0, 16)).toString('base64url'));
      expect((await client.userinfoStatus(accessToken)).status).toBe(200);
    });

    it('revocation: a revoked access token is inactive and refused; a revoked refresh token no longer refreshes', async () => {
      const tokens = await client.codeFlowTokens();
      await oidc.tokenRevocation(web, tokens.access_token);
      expect(await oidc.tokenIntrospection(web, tokens.access_token)).toEqual({ active: false });
      const refused = await client.userinfoStatus(tokens.access_token);
      expect(refused.status).toBe(401);
      expect(refused.challenge).toContain('error="invalid_token"');

      await oidc.tokenRevocation(web, tokens.refresh_token!);
      await expect(oidc.refreshTokenGrant(web, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });

    it("deactivating a client invalidates every token it issued, and reactivating it doesn't bring them back", async () => {
      const api = managementApi(target);
      const path = new URL(tenant.org).pathname.replace(/\/$/, '');
      const tokens = await client.codeFlowTokens();
      expect((await client.userinfoStatus(tokens.access_token)).status).toBe(200);
      // Its own app, so the other tests' client stays active.
      await api.ok(
        'POST',
        `${path}/api/v1/apps/${tenant.web.clientId}/lifecycle/deactivate`,
        tenant.apiToken,
      );
      expect((await client.userinfoStatus(tokens.access_token)).status).toBe(401);
      await api.ok(
        'POST',
        `${path}/api/v1/apps/${tenant.web.clientId}/lifecycle/activate`,
        tenant.apiToken,
      );
      expect((await client.userinfoStatus(tokens.access_token)).status).toBe(401);
      expect(await oidc.tokenIntrospection(web, tokens.access_token)).toEqual({ active: false });
      await expect(oidc.refreshTokenGrant(web, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      // New tokens after the reactivation are good.
      const fresh = await client.codeFlowTokens();
      expect((await client.userinfoStatus(fresh.access_token)).status).toBe(200);
    });

    it('logout ends the browser session and returns to the app', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const start = (extra: Record<string, string>) => {
        const url = new URL(`${tenant.issuer}/v1/authorize`);
        url.search = new URLSearchParams({
          client_id: tenant.web.clientId,
          redirect_uri: app.callback,
          response_type: 'id_token',
          scope: 'openid',
          response_mode: 'query',
          state: 'logout-test',
          nonce: randomBytes(8).toString('hex'),
          ...extra,
        }).toString();
        return url.href;
      };
      // response_mode=query is refused for id_token: use the fragment, the browser keeps it.
      await page.goto(start({ response_mode: 'fragment' }));
      await signInInBrowser(page, tenant.user.login, password);
      await page.waitForURL(`${app.callback}#**`);
      const answer = new URLSearchParams(new URL(page.url()).hash.slice(1));
      expect(answer.get('error'), page.url()).toBeNull();
      const idToken = answer.get('id_token')!;
      expect(idToken).toEqual(expect.any(String));

      const logout = new URL(`${tenant.issuer}/v1/logout`);
      logout.search = new URLSearchParams({
        id_token_hint: idToken,
        post_logout_redirect_uri: app.loggedOut,
        state: 'bye',
      }).toString();
      await page.goto(logout.href);
      await page.waitForURL(`${app.loggedOut}?**`);
      expect(app.last('/logged-out')?.searchParams.get('state')).toBe('bye');

      // Signed out: a silent request now needs a sign-in.
      await page.goto(start({ response_mode: 'fragment', prompt: 'none' }));
      await page.waitForURL(`${app.callback}#**`);
      const params = new URLSearchParams(new URL(page.url()).hash.slice(1));
      expect(params.get('error')).toBe('login_required');
      await context.close();
    });
  });
}
