// The demo tenant of a first start: a tenant `demo` with one user, a web app (confidential,
// authorization code) and a single-page app (public, PKCE), both assigned to the user. Made through
// the management API like any other tenant; what it made is kept in `{dataDir}/demo.json` (readable
// by the owner only) so that later starts can print it again.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

export interface Demo {
  /** Says what the file is: the demo's credentials, in the clear, for trying Gatehouse out. */
  notice?: string;
  tenant: string;
  /** The tenant's org base URL, and the issuer of its `default` authorization server. */
  orgUrl: string;
  issuer: string;
  apiToken: string;
  user: { id: string; login: string; password: string };
  web: { clientId: string; clientSecret: string; redirectUri: string };
  spa: { clientId: string; redirectUri: string };
}

/** The path of the demo's callback page, served by the all-in-one server itself. */
export const demoCallbackPath = '/_demo/callback';

export async function loadDemo(dataDir: string): Promise<Demo | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, 'demo.json'), 'utf8')) as Demo;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Creates the demo tenant through the management API at `url` (the server itself). */
export async function createDemo(options: {
  url: string;
  publicUrl: URL;
  adminToken: string;
  dataDir: string;
}): Promise<Demo> {
  const base = options.publicUrl.href.replace(/\/$/, '');
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${options.url}${path}`, {
      method,
      headers: {
        authorization: `SSWS ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const tenant = 'demo';
  const created = await call('POST', '/api/v1/tenants', options.adminToken, {
    id: tenant,
    name: 'Demo',
  });
  const apiToken = created.apiToken as string;
  const orgUrl = created.issuer as string;
  const as = (method: string, path: string, body?: unknown) =>
    call(method, `${new URL(orgUrl).pathname.replace(/\/$/, '')}${path}`, apiToken, body);
  const login = 'demo@example.com';
  const password = `Gate-${randomBytes(9).toString('hex')}-Q7`;
  const user = await as('POST', '/api/v1/users?activate=true', {
    profile: { firstName: 'Dana', lastName: 'Demo', email: login, login },
    credentials: { password: { value: password } },
  });
  const redirectUri = `${base}${demoCallbackPath}`;
  const web = await as('POST', '/oauth2/v1/clients', {
    client_name: 'Demo web app',
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    // A first-party app: no consent page, so the README's curl sign-in works as it stands.
    consent_method: 'TRUSTED',
  });
  const spaRedirect = 'http://localhost:5173/callback';
  const spa = await as('POST', '/oauth2/v1/clients', {
    client_name: 'Demo single-page app',
    application_type: 'browser',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [spaRedirect, redirectUri],
    post_logout_redirect_uris: [spaRedirect],
  });
  for (const client of [web, spa]) {
    await as('PUT', `/api/v1/apps/${client.client_id as string}/users/${user.id as string}`);
  }
  const demo: Demo = {
    notice:
      "DEMO ONLY: the demo tenant's credentials in the clear, so that `pnpm start` can print them again. Delete the demo tenant (or start with GATEHOUSE_DEMO=false on a fresh data directory) before real use.",
    tenant,
    orgUrl,
    issuer: `${orgUrl}/oauth2/default`,
    apiToken,
    user: { id: user.id as string, login, password },
    web: {
      clientId: web.client_id as string,
      clientSecret: web.client_secret as string,
      redirectUri,
    },
    spa: { clientId: spa.client_id as string, redirectUri: spaRedirect },
  };
  await writeFile(join(options.dataDir, 'demo.json'), `${JSON.stringify(demo, null, 2)}\n`, {
    mode: 0o600,
  });
  return demo;
}

/** A ready-to-open authorization request of the web app, with PKCE; the verifier goes with it. */
export function demoAuthorizeUrl(demo: Demo, state = randomBytes(12).toString('base64url')) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${demo.issuer}/v1/authorize`);
  url.search = new URLSearchParams({
    client_id: demo.web.clientId,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    redirect_uri: demo.web.redirectUri,
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier, state };
}

/** What a first or later start prints: where the issuer is and how to sign in. */
export function demoBanner(demo: Demo, authorize: { url: string; verifier: string }): string {
  return [
    '',
    'Gatehouse is running (all-in-one). Demo tenant:',
    `  issuer          ${demo.issuer}`,
    `  discovery       ${demo.issuer}/.well-known/openid-configuration`,
    `  user            ${demo.user.login} / ${demo.user.password}`,
    `  web app         client_id ${demo.web.clientId}  client_secret ${demo.web.clientSecret}`,
    `  single-page app client_id ${demo.spa.clientId} (public, PKCE), redirect ${demo.spa.redirectUri}`,
    `  tenant API      Authorization: SSWS ${demo.apiToken}  (${demo.orgUrl}/api/v1/...)`,
    '',
    'Open this to sign in (the callback page shows the code and how to redeem it):',
    `  ${authorize.url}`,
    `  PKCE code_verifier for it: ${authorize.verifier}`,
    '',
  ].join('\n');
}

/**
 * The demo web app's redirect target: shows what came back and the curl command that redeems the
 * code. It holds no state: the code verifier to use is the one printed with the authorize URL.
 */
export function demoCallbackPage(demo: () => Demo | undefined, verifier: () => string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const current = demo();
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    // Only a well-formed code goes into the command shown for copying into a shell.
    const given = params.get('code');
    const code = given && /^[\w-]{1,256}$/.test(given) ? given : null;
    const error = params.get('error') ?? (code ? null : 'invalid_request');
    const curl = current
      ? [
          // The secret stays in the terminal that printed it: this page is open to anyone who can
          // reach the server.
          "CLIENT_SECRET=...   # the web app's client_secret, printed at start (data/demo.json)",
          `curl -s -u "${current.web.clientId}:$CLIENT_SECRET" \\`,
          `  -d grant_type=authorization_code -d code='${code ?? ''}' \\`,
          `  --data-urlencode redirect_uri='${current.web.redirectUri}' \\`,
          `  -d code_verifier='${verifier()}' \\`,
          `  '${current.issuer}/v1/token'`,
        ].join('\n')
      : '';
    const body = error
      ? `<h1>The sign-in ended with an error</h1><p><code>${escapeHtml(error)}</code>: ${escapeHtml(params.get('error_description') ?? 'no well-formed authorization code came back')}</p>`
      : `<h1>Signed in</h1><p>Authorization code: <code id="code">${escapeHtml(code ?? '')}</code> (valid for 60 seconds, once).</p><p>Redeem it:</p><pre>${escapeHtml(curl)}</pre>`;
    res.writeHead(error ? 400 : 200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'referrer-policy': 'no-referrer',
    });
    res.end(
      `<!doctype html><html><head><meta charset="utf-8"><title>Gatehouse demo</title></head><body style="font-family:sans-serif;max-width:60rem;margin:2rem auto">${body}</body></html>`,
    );
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
