// POST .../v1/introspect (RFC 7662): a client asks about a token; only its own tokens are ever active
// to it. Inactive tokens, unknown ones and other clients' all answer exactly {"active": false}.
import { OAuthError, readForm, sendJson } from '@gatehouse/http';
import type { DirectoryCache, FreshnessGuard } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import { authenticateClient } from '../../client-auth.js';
import { inspectToken } from '../../token-checks.js';
import { requireServerConfig } from '../server.js';

export function introspectRoutes(
  deps: {
    guard: FreshnessGuard;
    store: ProjectionStore;
    directory: DirectoryCache;
    ring: KeyRing;
    now: () => number;
  },
  /** Where the routes go; the service puts all three on one router. */
  router: Router = new Router(),
): Router {
  const introspect = async (ctx: Context, serverId: string) => {
    const config = await requireServerConfig(deps.directory, ctx, serverId);
    const form = await readForm(ctx);
    const { client } = await authenticateClient(ctx, form, deps.directory, config.tenant);
    const token = form.get('token');
    if (!token) throw new OAuthError(400, 'invalid_request', 'The token parameter is required.');
    const found = await inspectToken(token, config, client.id, deps);
    if (!found || found.clientId !== client.id) {
      sendJson(ctx, { active: false });
      return;
    }
    if (found.kind === 'refresh_token') {
      const { record } = found;
      sendJson(ctx, {
        active: true,
        token_type: 'refresh_token',
        scope: record.scopes.join(' '),
        client_id: record.clientId,
        ...(record.userId ? { uid: record.userId } : {}),
        exp: Math.floor(Math.min(record.idleExpiresAt, record.familyExpiresAt ?? Infinity) / 1000),
        iss: config.issuer,
      });
      return;
    }
    const { claims } = found;
    sendJson(ctx, {
      active: true,
      token_type: found.kind === 'access_token' ? 'Bearer' : 'id_token',
      ...(Array.isArray(claims.scp) ? { scope: (claims.scp as string[]).join(' ') } : {}),
      client_id: client.id,
      username: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
      ...(typeof claims.uid === 'string' ? { uid: claims.uid } : {}),
    });
  };
  router.post('/oauth2/v1/introspect', (ctx) => introspect(ctx, orgServerId));
  router.post('/oauth2/:asId/v1/introspect', (ctx) => introspect(ctx, ctx.params.asId!));
  return router;
}
