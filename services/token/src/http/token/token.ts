// POST {org}/oauth2/v1/token and {org}/oauth2/{asId}/v1/token (seed 000 "Create Token"): client
// authentication, then the handler of the grant type.
import { InvalidRequest, readForm, UnsupportedGrantType } from '@gatehouse/http';
import type { DirectoryCache, FreshnessGuard } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import { authenticateClient } from '../../client-auth.js';
import type { ClientThrottle } from '../../client-throttle.js';
import { authorizationCodeGrant } from '../../grants/authorization-code.js';
import { clientCredentialsGrant } from '../../grants/client-credentials.js';
import type { GrantHandler } from '../../grants/grant-context.js';
import { refreshTokenGrant } from '../../grants/refresh-token.js';
import type { Revocations } from '../../revocations.js';
import type { TokenIssuer } from '../../token-issuer.js';
import { requireServerConfig } from '../server.js';

export function tokenRoutes(
  deps: {
    guard: FreshnessGuard;
    store: ProjectionStore;
    directory: DirectoryCache;
    issuer: TokenIssuer;
    revocations: Revocations;
    now: () => number;
    throttle: ClientThrottle;
  },
  /** Where the routes go; the service puts all three on one router. */
  router: Router = new Router(),
): Router {
  const grants = new Map<string, GrantHandler>([
    ['authorization_code', authorizationCodeGrant(deps.revocations)],
    ['refresh_token', refreshTokenGrant(deps.revocations)],
    ['client_credentials', clientCredentialsGrant],
  ]);
  const token = async (ctx: Context, serverId: string) => {
    const config = await requireServerConfig(
      deps.directory,
      ctx.state.tenant as string | undefined,
      serverId,
    );
    const form = await readForm(ctx);
    const grantType = form.get('grant_type');
    if (!grantType) throw new InvalidRequest('The grant_type parameter is required.');
    const handler = grants.get(grantType);
    const authenticated = await authenticateClient(
      ctx,
      form,
      deps.directory,
      config.tenant,
      deps.throttle,
    );
    ctx.set(authenticated.rateLimit);
    if (!handler)
      throw new UnsupportedGrantType(
        `The grant_type ${JSON.stringify(grantType.slice(0, 64))} is not supported.`,
      );
    ctx.body = await handler({
      ctx,
      form,
      config,
      authenticated,
      store: deps.store,
      issuer: deps.issuer,
      now: deps.now,
      guard: deps.guard,
    });
  };
  router.post('/oauth2/v1/token', (ctx) => token(ctx, orgServerId));
  router.post('/oauth2/:asId/v1/token', (ctx) => token(ctx, ctx.params.asId!));
  return router;
}
