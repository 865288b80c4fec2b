// GET and POST {org}/oauth2/v1/logout and {org}/oauth2/{serverId}/v1/logout (OpenID Connect
// RP-Initiated Logout 1.0): ends the browser's session, asking first when the id_token_hint is of
// another user than the session's (logout CSRF), then goes to the client's sign-out URI or a page.
import type { TenancyConfig } from '@gatehouse/directory';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { FlowState } from '../../flow-state.js';
import type { LogoutRequests } from '../../logout-requests.js';
import { formTargets, signedOutPage } from '../../pages/html.js';
import { confirmSignOutPage, stillSignedInPage } from '../../pages/session-pages.js';
import {
  type BrowserCookies,
  browserCookie,
  sameSecret,
  sessionCookie,
  sha256,
} from '../browser-cookies.js';
import { loginOf } from '../display-names.js';
import { type RawParameters, readForm, readParameters } from '../parameters.js';
import { orgPath, redirect, sendPage, showError } from '../responses.js';
import { verifyIdTokenHint } from './id-token-hint.js';

export interface LogoutRoutesDeps {
  directory: DirectoryCache;
  store: ProjectionStore;
  flow: FlowState;
  logoutRequests: LogoutRequests;
  /** Verifies id_token_hint (the servers' published keys). */
  ring: KeyRing;
  cookies: BrowserCookies;
  tenancy: TenancyConfig;
}

export function logoutRoutes(
  { directory, store, flow, logoutRequests, ring, cookies, tenancy }: LogoutRoutesDeps,
  /** Where the routes go; the service puts every page on one router. */
  router: Router = new Router(),
): Router {
  const logout = async (ctx: Context, serverId: string) => {
    const tenant = ctx.state.tenant as string;
    const raw = ctx.method === 'POST' ? await readForm(ctx) : readParameters(ctx.querystring);
    if (!raw) return;
    if (raw.repeated.size > 0)
      return showError(ctx, 400, 'invalid_request', 'A parameter was sent more than once.');
    const config = await directory.server(tenant, serverId);
    if (!config || config.server?.status === 'INACTIVE')
      return showError(
        ctx,
        404,
        'invalid_request',
        'The authorization server was not found or is not active.',
      );
    if (ctx.method === 'POST' && raw.values.has('logout_request')) return confirmLogout(ctx, raw);
    const hint = raw.values.get('id_token_hint');
    if (!hint)
      return showError(ctx, 400, 'invalid_request', "The 'id_token_hint' parameter is required.");
    const claims = await verifyIdTokenHint(ring, hint, tenant, serverId, config.issuer);
    if (!claims)
      return showError(
        ctx,
        400,
        'invalid_request',
        "The 'id_token_hint' is not an ID token of this authorization server.",
      );
    const client = await directory.client(tenant, claims.aud);
    if (!client)
      return showError(ctx, 400, 'invalid_client', 'The client of the ID token is unknown.');
    const postLogout = raw.values.get('post_logout_redirect_uri');
    if (postLogout !== undefined && !client.metadata.postLogoutRedirectUris.includes(postLogout))
      return showError(
        ctx,
        400,
        'invalid_request',
        "The 'post_logout_redirect_uri' must be a sign-out redirect URI in the client app settings.",
      );
    const state = raw.values.get('state');
    const session = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    // Any ID token of this server is a valid hint, an attacker's own too (logout CSRF): the
    // session of another user than the hint's ends only when its user says so.
    if (session && session.userId !== claims.sub) {
      const pending = await logoutRequests.create(tenant, {
        browserSha256: cookies.browserOf(ctx),
        userId: session.userId,
        ...(postLogout !== undefined ? { postLogoutRedirectUri: postLogout } : {}),
        ...(state !== undefined ? { state } : {}),
      });
      return sendPage(
        ctx,
        confirmSignOutPage({
          action: `${orgPath(tenancy, tenant)}/oauth2/${serverId === orgServerId ? '' : `${encodeURIComponent(serverId)}/`}v1/logout`,
          ...(postLogout !== undefined ? { formAction: formTargets(postLogout) } : {}),
          requestId: pending.id,
          csrf: pending.csrf,
          clientName: client.metadata.clientName || client.id,
          login: await loginOf(store, tenant, session.userId),
        }),
      );
    }
    return signOut(ctx, postLogout, state);
  };

  /** Ends the browser's session and answers the logout: the sign-out URI with the state, or a page. */
  const signOut = async (
    ctx: Context,
    postLogout: string | undefined,
    state: string | undefined,
  ) => {
    await flow.endSession(ctx.state.tenant, ctx.cookies.get(sessionCookie));
    cookies.set(ctx, sessionCookie, '', 0);
    if (postLogout === undefined) return sendPage(ctx, signedOutPage());
    const url = new URL(postLogout);
    if (state !== undefined) url.searchParams.append('state', state);
    redirect(ctx, url.href);
  };

  /** The user's answer on the sign-out confirmation page. */
  const confirmLogout = async (ctx: Context, form: RawParameters) => {
    const tenant = ctx.state.tenant as string;
    const id = form.values.get('logout_request');
    const pending = await logoutRequests.get(tenant, id);
    const browser = ctx.cookies.get(browserCookie);
    const expired = () =>
      showError(
        ctx,
        400,
        'invalid_request',
        'This sign-out request has expired, was answered, or was started in another browser.',
      );
    if (!pending || !browser || sha256(browser) !== pending.browserSha256) return expired();
    if (!sameSecret(form.values.get('csrf') ?? '', pending.csrf))
      return showError(ctx, 403, 'invalid_request', 'The form could not be verified.');
    if (!(await logoutRequests.take(tenant, pending.id))) return expired();
    if (form.values.get('decision') !== 'sign-out') {
      const session = await flow.session(tenant, ctx.cookies.get(sessionCookie));
      return sendPage(
        ctx,
        stillSignedInPage(session ? await loginOf(store, tenant, session.userId) : ''),
      );
    }
    return signOut(ctx, pending.postLogoutRedirectUri, pending.state);
  };

  router.get('/oauth2/v1/logout', (ctx) => logout(ctx, orgServerId));
  router.post('/oauth2/v1/logout', (ctx) => logout(ctx, orgServerId));
  router.get('/oauth2/:serverId/v1/logout', (ctx) => logout(ctx, ctx.params.serverId!));
  router.post('/oauth2/:serverId/v1/logout', (ctx) => logout(ctx, ctx.params.serverId!));
  return router;
}
