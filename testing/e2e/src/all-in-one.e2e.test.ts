// The suite against `pnpm start` (one process, embedded log under its data directory), then what only
// the all-in-one mode promises: the demo it prints signs in through the browser, and a crash and a
// restart keep every tenant, user, client, grant and revocation.
import { type Browser, launchChromium, saveScreenshot } from '@gatehouse/testkit';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineLogSecretsCheck, watchSecrets } from './log-secrets.js';
import { expectRouteTemplates, exportedSeries, samples, total } from './metrics.js';
import { defineOktaSdkSuite } from './okta-sdks.js';
import { defineSessionAttacks } from './security/sessions.js';
import { defineDataAtRest, defineThrottleAttacks } from './security/throttles.js';
import {
  ClientApp,
  connect,
  defineE2eSuite,
  managementApi,
  newE2eTenant,
  signInInBrowser,
} from './suite.js';
import { type AllInOneTarget, startAllInOneTarget } from './targets.js';

let target: AllInOneTarget;
watchSecrets();

beforeAll(async () => {
  target = await startAllInOneTarget();
  process.stdout.write(`pnpm start: listening ${target.startMs} ms after the command\n`);
});
afterAll(async () => {
  await target?.stop();
});

defineE2eSuite('all-in-one (pnpm start)', () => target);
defineSessionAttacks('all-in-one (pnpm start)', () => target);
defineThrottleAttacks('all-in-one (pnpm start)', () => target);
defineOktaSdkSuite('all-in-one (pnpm start)', () => target);
defineDataAtRest(() => target);

describe('all-in-one: /metrics on its own port', () => {
  it('exports every series, moved by the suites above, with route templates as http_route', async () => {
    const answer = await fetch(target.metricsUrl());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await answer.text();
    for (const name of exportedSeries) expect(text, name).toContain(`# TYPE ${name} `);
    const duration = 'http_server_request_duration_seconds_count';
    expect(total(text, duration, /http_route="\/oauth2(\/:asId)?\/v1\/token"/)).toBeGreaterThan(0);
    expect(
      total(text, duration, /http_route="\/oauth2(\/:serverId)?\/v1\/userinfo"/),
    ).toBeGreaterThan(0);
    expect(
      total(text, duration, /http_route="\/oauth2(\/:asId)?\/v1\/introspect"/),
    ).toBeGreaterThan(0);
    expect(
      total(text, 'gatehouse_tokens_issued_total', 'grant_type="authorization_code"'),
    ).toBeGreaterThan(0);
    expect(
      total(text, 'gatehouse_tokens_issued_total', 'grant_type="refresh_token"'),
    ).toBeGreaterThan(0);
    expect(total(text, 'gatehouse_token_checks_total', 'outcome="valid"')).toBeGreaterThan(0);
    expect(total(text, 'gatehouse_token_checks_total', 'outcome="invalid"')).toBeGreaterThan(0);
    expect(total(text, 'gatehouse_projection_events_applied_total')).toBeGreaterThan(0);
    expect(
      total(text, 'gatehouse_event_publish_duration_seconds_count', 'outcome="ok"'),
    ).toBeGreaterThan(0);
    expect(total(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    // Never a user, client or tenant as a label: only the bounded ones.
    // Grant types as the protocol names them, the device grant's URN (RFC 8628) included.
    for (const sample of samples(text, 'gatehouse_tokens_issued_total'))
      expect(sample.labels).toMatch(
        /^\{grant_type="(?:[a-z_]+|urn:ietf:params:oauth:grant-type:[a-z_-]+)",server_kind="(org|custom)"\}$/,
      );
    const routes = samples(text, duration).map(
      (sample) => /http_route="([^"]*)"/.exec(sample.labels)![1]!,
    );
    expectRouteTemplates([...new Set(routes)], []);
  });

  it('is not on the public port, with or without a tenant', async () => {
    const bare = await fetch(`${target.url}/metrics`);
    expect(bare.status).toBe(404);
    expect(await bare.text()).not.toContain('# TYPE');
    // A tenant's path is the management API's: refused (401 without a token), never the exposition.
    const tenantPath = await fetch(`${target.url}/acme/metrics`);
    expect(tenantPath.status).toBeGreaterThanOrEqual(400);
    expect(await tenantPath.text()).not.toContain('# TYPE');
  });
});

/** The value printed after `label` in the banner. */
function printed(output: string[], pattern: RegExp): string {
  for (const line of output) {
    const match = pattern.exec(line);
    if (match) return match[1]!;
  }
  throw new Error(`nothing printed matches ${pattern}:\n${output.join('\n')}`);
}

describe('all-in-one: the demo it prints', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the printed authorize URL signs the printed user in through the browser; the code redeems', async () => {
    const { output } = target;
    const url = printed(output, /^\s+(http\S+\/v1\/authorize\?\S+)$/);
    const verifier = printed(output, /PKCE code_verifier for it: (\S+)/);
    const [login, secret] = printed(output, /^\s+user\s+(\S+ \/ \S+)$/).split(' / ');
    const clientId = printed(output, /web app\s+client_id (\S+)/);
    const clientSecret = printed(output, /client_secret (\S+)/);
    const issuer = printed(output, /^\s+issuer\s+(\S+)$/);

    const page = await browser.newPage();
    await page.goto(url);
    await signInInBrowser(page, login!, secret!);
    await page.waitForURL(/\/_demo\/callback\?/);
    expect(await page.locator('h1').textContent()).toBe('Signed in');
    await saveScreenshot(page, 'e2e-all-in-one-demo-callback');
    const code = (await page.locator('#code').textContent())!;
    const redirectUri = new URL(url).searchParams.get('redirect_uri')!;
    const response = await fetch(`${issuer}/v1/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }),
    });
    const tokens = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(tokens)).toBe(200);
    expect(tokens.id_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    await page.close();
  });
});

describe('all-in-one: a crash and a restart keep everything', () => {
  const app = new ClientApp();
  beforeAll(() => app.start());
  afterAll(() => app.stop());

  it('keeps every tenant, user, client, grant and revocation, and the demo', async () => {
    const tenant = await newE2eTenant(target, app);
    const before = await connect(tenant, app);
    const kept = await before.codeFlowTokens();
    const revoked = await before.codeFlowTokens();
    await oidc.tokenRevocation(before.web, revoked.access_token);
    const demoUser = printed(target.output, /^\s+user\s+(\S+ \/ \S+)$/);

    await target.crashAndRestart();

    // The demo is not made again: the same user is printed.
    expect(printed(target.output, /^\s+user\s+(\S+ \/ \S+)$/)).toBe(demoUser);
    const api = managementApi(target);
    const path = new URL(tenant.org).pathname;
    expect((await api.call('GET', `/api/v1/tenants/${tenant.id}`, target.adminToken)).status).toBe(
      200,
    );
    const user = await api.call('GET', `${path}/api/v1/users/${tenant.user.id}`, tenant.apiToken);
    expect(user.body).toMatchObject({ id: tenant.user.id, status: 'ACTIVE' });
    const client = await api.call(
      'GET',
      `${path}/oauth2/v1/clients/${tenant.web.clientId}`,
      tenant.apiToken,
    );
    expect(client.body).toMatchObject({ client_id: tenant.web.clientId });

    const after = await connect(tenant, app);
    // The grant: its tokens still work and its refresh token still refreshes.
    const first = await after.userinfoStatus(kept.access_token);
    expect(first.status, JSON.stringify(first)).toBe(200);
    const refreshed = await oidc.refreshTokenGrant(after.web, kept.refresh_token!);
    expect((await after.userinfoStatus(refreshed.access_token)).status).toBe(200);
    // The revocation.
    expect((await after.userinfoStatus(revoked.access_token)).status).toBe(401);
    expect(await oidc.tokenIntrospection(after.web, revoked.access_token)).toEqual({
      active: false,
    });
    // And sign-ins go on.
    const fresh = await after.codeFlowTokens();
    expect((await after.userinfoStatus(fresh.access_token)).status).toBe(200);
  });
});

// Last: the process's log lines (its JSON lines; the banner it prints for the developer at start,
// with the demo's credentials, is not a log) hold none of the secrets the whole run used.
defineLogSecretsCheck('all-in-one (pnpm start)', () =>
  target.output.filter((line) => line.trimStart().startsWith('{')).join('\n'),
);
