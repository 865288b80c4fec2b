// POST {org}/api/v1/authn (Okta's Authentication API): a username and password for a sessionToken,
// answered in Okta's JSON and error shape.
import { OktaApiError, rateLimited, rateLimitHeaders, readJsonObject } from '@gatehouse/http';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import Router from '@koa/router';
import type { FlowState } from '../../flow-state.js';
import type { SignInThrottle } from '../../sign-in-throttle.js';
import { formLimitBytes } from '../parameters.js';
import type { SignInAttempts } from '../sign-in-attempts.js';

export interface AuthnRoutesDeps {
  directory: DirectoryCache;
  flow: FlowState;
  throttle: SignInThrottle;
  signIns: SignInAttempts;
  now: () => number;
}

export function authnRoutes(
  { directory, flow, throttle, signIns, now }: AuthnRoutesDeps,
  router: Router = new Router(),
): Router {
  router.post('/api/v1/authn', async (ctx) => {
    const tenant = ctx.state.tenant as string | undefined;
    if (!tenant || (await directory.tenantStatus(tenant)) !== 'ACTIVE')
      throw OktaApiError.pathNotFound();
    const spent = await throttle.spentBySource(ctx.req, tenant);
    if (spent) {
      ctx.set(rateLimitHeaders(spent));
      throw rateLimited(spent, now());
    }
    const body = await readJsonObject(ctx, formLimitBytes);
    const { username, password } = body;
    const causes = [
      ...(typeof username !== 'string' || username === '' || username.length > 256
        ? [{ field: 'username', message: 'a username of at most 256 characters is required' }]
        : []),
      ...(typeof password !== 'string' || password === '' || password.length > 1024
        ? [{ field: 'password', message: 'a password of at most 1024 characters is required' }]
        : []),
    ];
    if (causes.length > 0) throw OktaApiError.validation(causes);
    const attempt = await signIns.attempt(ctx, tenant, username as string, password as string);
    if (attempt.refused) throw attempt.refused;
    const { result } = attempt;
    if (result.outcome === 'locked-out') {
      ctx.status = 200;
      ctx.body = { status: 'LOCKED_OUT' };
      return;
    }
    if (result.outcome === 'failed')
      throw new OktaApiError(401, 'E0000004', 'Authentication failed');
    const { token, expiresAt } = await flow.newSessionToken(tenant, {
      userId: result.user.id,
      authTime: Math.floor(now() / 1000),
      amr: ['pwd'],
    });
    const profile = result.user.profile as unknown as Record<string, unknown>;
    ctx.body = {
      expiresAt: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, '.000Z'),
      status: 'SUCCESS',
      sessionToken: token,
      _embedded: {
        user: {
          id: result.user.id,
          passwordChanged: result.user.passwordChanged,
          profile: {
            login: profile.login,
            firstName: profile.firstName ?? null,
            lastName: profile.lastName ?? null,
            locale: profile.locale ?? 'en_US',
            timeZone: profile.zoneinfo ?? 'America/Los_Angeles',
          },
        },
      },
    };
  });
  return router;
}
