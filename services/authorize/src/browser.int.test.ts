// A person in a browser (Chromium, driven by playwright-core): the client sends them to /authorize,
// they sign in on the hosted page, allow the scopes on the consent page, land on the client's
// redirect URI with a code, and the client exchanges it. Also: a wrong password shows the page's
// error, and a CSP that blocked the redirect after a form would show here, where fetch cannot; so
// do the switch-user and sign-out questions, whose yes redirects to the app as well.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScopeConsent } from '@gatehouse/contracts';
import { customScopeCreated, fixturePassword, kafkaRedisStack } from '@gatehouse/test-stacks';
import { type Browser, launchChromium, saveScreenshot } from '@gatehouse/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAuthorize } from './testing/authorize-harness.js';

let browser: Browser | undefined;
let app: Server;
let appOrigin: string;
const landed: URL[] = [];

beforeAll(async () => {
  // The client application: its redirect URI only records what arrives.
  app = createServer((req, res) => {
    landed.push(new URL(req.url ?? '/', appOrigin));
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<h1>Back in the app</h1>');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  app?.close();
});

describe('the hosted sign-in and consent pages, in Chromium', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('signs a person in, asks their consent, and brings them back to the app with a code', async () => {
    const harness = await startAuthorize(kafkaRedisStack('authorize-browser'), cleanups);
    const tenant = await harness.newTenant();
    await harness.appendDirectory(tenant, [
      customScopeCreated('default', 'orders.write', {
        displayName: 'Place and cancel your orders',
        description: 'The app acts on your orders for you.',
        consent: ScopeConsent.SCOPE_CONSENT_REQUIRED,
      }),
    ]);
    await harness.caughtUp();
    const redirectUri = `${appOrigin}/callback`;
    const client = await harness.newClient(tenant, {
      client_name: 'Orders App',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      consent_method: 'REQUIRED',
    });
    const login = 'grace@example.com';
    const userId = await harness.newUser(tenant, login, { firstName: 'Grace', lastName: 'Hopper' });
    await harness.assign(tenant, client.clientId, { userId });

    const page = await browser!.newPage();
    const authorize = new URL(`${harness.base}/${tenant}/oauth2/default/v1/authorize`);
    authorize.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid profile orders.write',
      state: 'browser-state',
    }).toString();
    await page.goto(authorize.href);
    await page.waitForURL(/\/login\?tx=/);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
    expect(await page.locator('main').textContent()).toContain('Orders App');
    await saveScreenshot(page, 'authorize-login-page');

    await page.getByLabel('Username').fill(login);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    expect(await page.getByRole('alert').textContent()).toContain('not right');
    await saveScreenshot(page, 'authorize-login-failed');

    await page.getByLabel('Password').fill(fixturePassword);
    await Promise.all([
      page.waitForURL(/\/consent\?tx=/),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(await page.locator('main').textContent()).toContain('Place and cancel your orders');
    await saveScreenshot(page, 'authorize-consent-page');

    await Promise.all([
      page.waitForURL(`${redirectUri}?**`),
      page.getByRole('button', { name: 'Allow access' }).click(),
    ]);
    expect(await page.locator('h1').textContent()).toBe('Back in the app');
    const callback = landed.filter((url) => url.pathname === '/callback').at(-1)!;
    expect(callback.searchParams.get('state')).toBe('browser-state');
    expect(callback.searchParams.get('iss')).toBe(`http://localhost:9000/${tenant}/oauth2/default`);
    const code = callback.searchParams.get('code')!;

    const response = await fetch(`${harness.tokenBase}/${tenant}/oauth2/default/v1/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
      }),
    });
    const tokens = (await response.json()) as Record<string, string>;
    expect(response.status).toBe(200);
    expect(tokens.scope).toBe('openid profile orders.write');
    const idToken = JSON.parse(
      Buffer.from(tokens.id_token!.split('.')[1]!, 'base64url').toString(),
    );
    expect(idToken).toMatchObject({ sub: userId, name: 'Grace Hopper', amr: ['pwd'] });

    // The session cookie is HttpOnly: the page's scripts cannot read it.
    const cookies = await page.context().cookies(`${harness.base}/${tenant}/login`);
    expect(cookies.find((c) => c.name === 'gh_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
    });
    await page.close();
  });
});

describe('the switch-user and sign-out questions, in Chromium', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("switches users and signs out only on the person's yes, and each yes reaches the app", async () => {
    const harness = await startAuthorize(kafkaRedisStack('authorize-browser-sessions'), cleanups);
    const tenant = await harness.newTenant();
    const redirectUri = `${appOrigin}/callback`;
    const signedOutUri = `${appOrigin}/signed-out`;
    const client = await harness.newClient(tenant, {
      client_name: 'Orders App',
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [signedOutUri],
      grant_types: ['authorization_code', 'implicit'],
      response_types: ['code', 'id_token'],
      consent_method: 'TRUSTED',
    });
    const users = { ada: 'ada@example.com', bob: 'bob@example.com' };
    for (const login of Object.values(users))
      await harness.assign(tenant, client.clientId, {
        userId: await harness.newUser(tenant, login),
      });
    const sessionToken = async (username: string) => {
      const response = await fetch(`${harness.base}/${tenant}/api/v1/authn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: fixturePassword }),
      });
      return ((await response.json()) as { sessionToken: string }).sessionToken;
    };
    const authorizeUrl = (params: Record<string, string>) => {
      const url = new URL(`${harness.base}/${tenant}/oauth2/default/v1/authorize`);
      url.search = new URLSearchParams({
        client_id: client.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid',
        state: 'switch-state',
        nonce: 'switch-nonce',
        ...params,
      }).toString();
      return url.href;
    };

    // The app's last request at a path (Chromium asks the app for a favicon too).
    const lastAt = (path: string) => landed.filter((url) => url.pathname === path).at(-1)!;
    const page = await browser!.newPage();
    await page.goto(authorizeUrl({ sessionToken: await sessionToken(users.ada) }));
    await page.waitForURL(`${redirectUri}?**`);
    // Bob's sessionToken in Ada's browser: the page asks, and Continue reaches the app (the CSP's
    // form-action lets the answer's redirect through).
    await page.goto(authorizeUrl({ sessionToken: await sessionToken(users.bob) }));
    await page.waitForURL(/\/switch-user\?tx=/);
    expect(await page.locator('main').textContent()).toContain(`signed in as ${users.ada}`);
    await saveScreenshot(page, 'authorize-switch-user-page');
    await Promise.all([
      page.waitForURL(`${redirectUri}?**`),
      page.getByRole('button', { name: `Continue as ${users.bob}` }).click(),
    ]);
    expect(lastAt('/callback').searchParams.get('code')).toEqual(expect.any(String));

    // Now Bob's browser; Ada's ID token as the hint: the page asks, and Sign out reaches the app.
    const ada = await fetch(
      authorizeUrl({ response_type: 'id_token', sessionToken: await sessionToken(users.ada) }),
      { redirect: 'manual' },
    );
    const hint = new URLSearchParams(new URL(ada.headers.get('location')!).hash.slice(1)).get(
      'id_token',
    )!;
    const logout = new URL(`${harness.base}/${tenant}/oauth2/default/v1/logout`);
    logout.search = new URLSearchParams({
      id_token_hint: hint,
      post_logout_redirect_uri: signedOutUri,
      state: 'bye',
    }).toString();
    await page.goto(logout.href);
    expect(await page.locator('main').textContent()).toContain(`signed in as ${users.bob}`);
    await saveScreenshot(page, 'authorize-confirm-sign-out-page');
    await Promise.all([
      page.waitForURL(`${signedOutUri}?**`),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    expect(lastAt('/signed-out').searchParams.get('state')).toBe('bye');
    await page.close();
  });
});
