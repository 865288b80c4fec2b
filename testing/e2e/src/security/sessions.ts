// Attacks on a victim's browser session, through the public URL only (issue 16, findings 2 and 3):
// a login CSRF that swaps the victim's session for the attacker's through a sessionToken in an
// /authorize link, and a logout CSRF with the attacker's own ID token as id_token_hint. Each
// browser is a cookie jar over fetch, as a browser sends cookies on a top-level navigation.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApp, type E2eTenant, managementApi, newE2eTenant, password } from '../suite.js';
import type { Target } from '../targets.js';

interface Reply {
  status: number;
  location: string;
  text: string;
}

/** A browser's cookies for one origin, over fetch that never follows redirects itself. */
function cookieBrowser() {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}): Promise<Reply> => {
    const headers = new Headers(init.headers);
    if (jar.size > 0)
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    return {
      status: response.status,
      location: location ? new URL(location, url).href : '',
      text: await response.text(),
    };
  };
  return {
    jar,
    get: (url: string) => send(url),
    post: (url: string, form: Record<string, string>) =>
      send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
  };
}

/** Everything in a redirect: query and fragment parameters together. */
const redirectParams = (location: string) => {
  const url = new URL(location);
  const params = new URLSearchParams(url.search);
  for (const [key, value] of new URLSearchParams(url.hash.slice(1))) params.set(key, value);
  return params;
};

const subOf = (idToken: string) =>
  (JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;

/** The first form of a page: its action (absolute) and its hidden fields. */
const formOf = (html: string, pageUrl: string) => {
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[match[1]!] = match[2]!.replace(/&amp;/g, '&');
  return { action: action ? new URL(action.replace(/&amp;/g, '&'), pageUrl).href : '', fields };
};

export function defineSessionAttacks(label: string, getTarget: () => Target): void {
  describe(`security: browser sessions (${label})`, () => {
    const app = new ClientApp();
    let tenant: E2eTenant;
    let mallory: { id: string; login: string };

    beforeAll(async () => {
      const target = getTarget();
      await app.start();
      tenant = await newE2eTenant(target, app);
      // The attacker: a user of the same tenant, assigned to the same app, as anyone may be.
      const api = managementApi(target);
      const path = new URL(tenant.org).pathname.replace(/\/$/, '');
      const login = `mallory-${randomBytes(3).toString('hex')}@example.com`;
      const user = await api.ok('POST', `${path}/api/v1/users?activate=true`, tenant.apiToken, {
        profile: { firstName: 'Mallory', lastName: 'Attacker', email: login, login },
        credentials: { password: { value: password } },
      });
      await api.ok(
        'PUT',
        `${path}/api/v1/apps/${tenant.web.clientId}/users/${user.id as string}`,
        tenant.apiToken,
      );
      mallory = { id: user.id as string, login };
    });
    afterAll(() => app.stop());

    const sessionTokenOf = async (login: string) => {
      const response = await fetch(`${tenant.org}/api/v1/authn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ username: login, password }),
      });
      const body = (await response.json()) as { sessionToken?: string };
      expect(response.status, JSON.stringify(body)).toBe(200);
      return body.sessionToken!;
    };
    const authorizeUrl = (params: Record<string, string>) => {
      const url = new URL(`${tenant.issuer}/v1/authorize`);
      url.search = new URLSearchParams({
        client_id: tenant.web.clientId,
        redirect_uri: app.callback,
        response_type: 'id_token',
        response_mode: 'fragment',
        scope: 'openid',
        state: randomBytes(8).toString('hex'),
        nonce: randomBytes(8).toString('hex'),
        ...params,
      }).toString();
      return url.href;
    };
    /** A browser signed in as `login`, and the ID token of that sign-in. */
    const signedIn = async (login: string) => {
      const browser = cookieBrowser();
      const reply = await browser.get(authorizeUrl({ sessionToken: await sessionTokenOf(login) }));
      expect(reply.location.startsWith(app.callback), reply.location).toBe(true);
      expect(browser.jar.has('gh_session')).toBe(true);
      return { browser, idToken: redirectParams(reply.location).get('id_token')! };
    };
    /** What a silent sign-in (prompt=none) in this browser answers: whose ID token, or the error. */
    const silently = async (browser: ReturnType<typeof cookieBrowser>) => {
      const reply = await browser.get(authorizeUrl({ prompt: 'none' }));
      expect(reply.location.startsWith(app.callback), `${reply.status} ${reply.location}`).toBe(
        true,
      );
      const params = redirectParams(reply.location);
      const idToken = params.get('id_token');
      return idToken ? { sub: subOf(idToken) } : { error: params.get('error') };
    };

    it("a link with the attacker's sessionToken does not swap the victim's session (login CSRF)", async () => {
      const who = `victim ${tenant.user.id}, attacker ${mallory.id}`;
      const victim = await signedIn(tenant.user.login);
      expect(await silently(victim.browser)).toEqual({ sub: tenant.user.id });

      // The attacker signs in without a browser and sends the victim a link that uses the token.
      const link = authorizeUrl({
        response_type: 'code',
        response_mode: 'query',
        sessionToken: await sessionTokenOf(mallory.login),
      });
      const followed = await victim.browser.get(link);
      // The victim's browser is still the victim's: silent sign-ins are as the victim.
      expect(await silently(victim.browser), who).toEqual({ sub: tenant.user.id });
      // And no sign-in as the attacker reached the app without the victim's say.
      expect(redirectParams(followed.location || 'http://x/').has('code')).toBe(false);

      // The victim is asked instead (a page of the org, through the edge), and says no.
      expect(followed.location).toMatch(/\/switch-user\?tx=/);
      const asked = await victim.browser.get(followed.location);
      expect(asked.status).toBe(200);
      expect(asked.text).toContain(mallory.login);
      const form = formOf(asked.text, followed.location);
      const stayed = await victim.browser.post(form.action, { ...form.fields, decision: 'stay' });
      expect(stayed.location.startsWith(app.callback), stayed.location).toBe(true);
      expect(redirectParams(stayed.location).get('error')).toBe('access_denied');
      expect(await silently(victim.browser), who).toEqual({ sub: tenant.user.id });
    });

    it("logout with the attacker's own ID token keeps the victim's session until the victim confirms", async () => {
      const victim = await signedIn(tenant.user.login);
      // Any ID token of the server will do for the attacker: one of their own.
      const attacker = await signedIn(mallory.login);
      expect(subOf(attacker.idToken)).toBe(mallory.id);
      const logout = new URL(`${tenant.issuer}/v1/logout`);
      logout.search = new URLSearchParams({
        id_token_hint: attacker.idToken,
        post_logout_redirect_uri: app.loggedOut,
        state: 'bye',
      }).toString();

      const asked = await victim.browser.get(logout.href);
      expect(await silently(victim.browser), 'the victim, after the foreign logout').toEqual({
        sub: tenant.user.id,
      });
      expect(asked.location).toBe('');

      // The victim confirms on the page: then, and only then, the session ends.
      expect(asked.status).toBe(200);
      const form = formOf(asked.text, logout.href);
      const confirmed = await victim.browser.post(form.action, {
        ...form.fields,
        decision: 'sign-out',
      });
      expect(confirmed.location).toBe(`${app.loggedOut}?state=bye`);
      expect(await silently(victim.browser)).toEqual({ error: 'login_required' });
    });
  });
}
