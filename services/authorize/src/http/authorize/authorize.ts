// GET and POST {org}/oauth2/v1/authorize and {org}/oauth2/{serverId}/v1/authorize (seed 000): the
// request's checks (./checks), then the browser's sign-in — a sessionToken, or the session — and the
// flow's decision on it.
import type { TenancyConfig } from '@gatehouse/directory';
import { readBodyText } from '@gatehouse/http';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuthorizeFlow } from '../../authorize-flow.js';
import type { Authentication, FlowState } from '../../flow-state.js';
import { type BrowserCookies, sessionCookie } from '../browser-cookies.js';
import type { Interactions } from '../interactions.js';
import { formLimitBytes, type RawParameters, readParameters } from '../parameters.js';
import { deliver, orgPath, redirect, showError } from '../responses.js';
import { checkAuthorizationRequest } from './checks/index.js';
import { takePushedRequest } from './pushed-requests.js';

export interface AuthorizeRoutesDeps {
  directory: DirectoryCache;
  /** Where pushed authorization requests wait (RFC 9126). */
  store: ProjectionStore;
  flow: FlowState;
  engine: AuthorizeFlow;
  interactions: Interactions;
  cookies: BrowserCookies;
  tenancy: TenancyConfig;
}

export function authorizeRoutes(
  { directory, store, flow, engine, interactions, cookies, tenancy }: AuthorizeRoutesDeps,
  /** Where the routes go; the service puts every page on one router. */
  router: Router = new Router(),
): Router {
  const authorize = async (ctx: Context, serverId: string) => {
    const tenant = ctx.state.tenant as string;
    let raw: RawParameters;
    if (ctx.method === 'POST') {
      if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.get('content-type')))
        return showError(
          ctx,
          400,
          'invalid_request',
          'The body must be a form (application/x-www-form-urlencoded).',
        );
      raw = readParameters(await readBodyText(ctx, formLimitBytes));
    } else raw = readParameters(ctx.querystring);
    if ((await directory.tenantStatus(tenant)) !== 'ACTIVE')
      return showError(ctx, 404, 'invalid_request', 'There is no such organization.');
    const config = await directory.server(tenant, serverId);
    if (!config || config.server?.status === 'INACTIVE')
      return showError(
        ctx,
        404,
        'invalid_request',
        'The authorization server was not found or is not active.',
      );
    // A pushed request (RFC 9126): its parameters, not the front channel's, are the request.
    const pushed = raw.values.has('request_uri');
    if (pushed) {
      const taken = await takePushedRequest(store, tenant, serverId, raw);
      if ('problem' in taken)
        return showError(ctx, taken.problem.status, taken.problem.error, taken.problem.description);
      raw = taken.parameters;
    }
    const clientId = raw.values.get('client_id');
    const client =
      clientId && clientId.length <= 100 ? await directory.client(tenant, clientId) : undefined;
    const read = checkAuthorizationRequest(raw, { tenant, serverId, client });
    if ('problem' in read) {
      const { problem } = read;
      if (problem.to === 'page')
        return showError(ctx, problem.status, problem.error, problem.description);
      return deliver(
        ctx,
        {
          redirectUri: problem.redirectUri,
          responseMode: problem.responseMode,
          ...(problem.state !== undefined ? { state: problem.state } : {}),
          issuer: config.issuer,
        },
        { error: problem.error, error_description: problem.description },
      );
    }
    const { request } = read;
    // RFC 9126 section 6: a client registered to push its requests sends none in the front channel.
    if (!pushed && client?.metadata.requirePushedAuthorizationRequests)
      return deliver(ctx, engine.target(request, config), {
        error: 'invalid_request',
        error_description:
          'This client must push its authorization requests (pushed_authorization_request_endpoint) and send the request_uri.',
      });
    const browserSha256 = cookies.browserOf(ctx);
    let authentication: Authentication | undefined;
    let signedInNow = false;
    const sessionToken = raw.values.get('sessionToken');
    if (sessionToken) {
      authentication = await flow.redeemSessionToken(tenant, sessionToken);
      if (authentication) {
        const sid = ctx.cookies.get(sessionCookie);
        const current = await flow.session(tenant, sid);
        // A link can carry anyone's sessionToken (login CSRF): another user's never replaces the
        // session without the user's say. The token is spent either way; it waits in the
        // transaction for the answer.
        if (current && current.userId !== authentication.userId) {
          if (request.prompt.includes('none'))
            return deliver(ctx, engine.target(request, config), {
              error: 'interaction_required',
              error_description:
                'Another user is signed in; switching users needs the user to choose.',
            });
          const transaction = await flow.newTransaction(tenant, request, browserSha256);
          await flow.saveTransaction(tenant, { ...transaction, switchTo: authentication });
          return redirect(
            ctx,
            `${orgPath(tenancy, tenant)}/switch-user?tx=${encodeURIComponent(transaction.id)}`,
          );
        }
        // Same user (or none): a fresh session in place of the old one.
        if (current) await flow.endSession(tenant, sid);
        signedInNow = true;
        await interactions.startSession(ctx, authentication);
      }
    } else {
      authentication = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    }
    const outcome = await engine.decide({
      request,
      authentication,
      signedInNow,
      browserSha256,
      requestId: ctx.state.requestId,
    });
    return interactions.answer(ctx, outcome);
  };

  router.get('/oauth2/v1/authorize', (ctx) => authorize(ctx, orgServerId));
  router.post('/oauth2/v1/authorize', (ctx) => authorize(ctx, orgServerId));
  router.get('/oauth2/:serverId/v1/authorize', (ctx) => authorize(ctx, ctx.params.serverId!));
  router.post('/oauth2/:serverId/v1/authorize', (ctx) => authorize(ctx, ctx.params.serverId!));
  return router;
}
