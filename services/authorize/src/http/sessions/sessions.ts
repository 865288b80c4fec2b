// DELETE {org}/api/v1/sessions/me (Okta's Sessions API): ends the browser's session, as
// okta-auth-js's closeSession() asks. Okta answers 204, or 404 E0000007 when there is no session.
import { OktaApiError } from '@gatehouse/http';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import Router from '@koa/router';
import type { FlowState } from '../../flow-state.js';
import { type BrowserCookies, sessionCookie } from '../browser-cookies.js';

export interface SessionRoutesDeps {
  directory: DirectoryCache;
  flow: FlowState;
  cookies: BrowserCookies;
}

export function sessionRoutes(
  { directory, flow, cookies }: SessionRoutesDeps,
  /** Where the routes go; the service puts the JSON API on one router. */
  router: Router = new Router(),
): Router {
  router.delete('/api/v1/sessions/me', async (ctx) => {
    const tenant = ctx.state.tenant as string | undefined;
    if (!tenant || (await directory.tenantStatus(tenant)) !== 'ACTIVE')
      throw OktaApiError.pathNotFound();
    const sid = ctx.cookies.get(sessionCookie);
    const session = await flow.session(tenant, sid);
    if (!session) throw OktaApiError.notFound('Session', 'me');
    await flow.endSession(tenant, sid);
    cookies.set(ctx, sessionCookie, '', 0);
    ctx.status = 204;
  });
  return router;
}
