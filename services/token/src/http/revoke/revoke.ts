// POST .../v1/revoke (RFC 7009): a client revokes one of its tokens. An access or ID token is revoked
// alone; a refresh token takes its whole grant with it (its family and every access token of the
// grant, SPEC section 5). The answer is 200 whatever the token: unknown, expired, already revoked,
// or another client's (which is left alone), so the endpoint tells nothing about tokens.

import type { ClientThrottle, RemoteJwks } from '@gatehouse/client-auth';
import { authenticateClient } from '@gatehouse/client-auth';
import { InvalidRequest, readForm, UnsupportedTokenType } from '@gatehouse/http';
import type { DirectoryCache, FreshnessGuard } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Revocations } from '../../revocations.js';
import { inspectToken } from '../../token-checks.js';
import { requireServerConfig } from '../server.js';

const hints = new Set(['access_token', 'refresh_token', 'id_token']);

export function revokeRoutes(
  deps: {
    guard: FreshnessGuard;
    store: ProjectionStore;
    directory: DirectoryCache;
    ring: KeyRing;
    revocations: Revocations;
    now: () => number;
    throttle: ClientThrottle;
    remoteJwks: RemoteJwks;
    keks: KeyEncryptionKeys;
  },
  /** Where the routes go; the service puts all three on one router. */
  router: Router = new Router(),
): Router {
  const revoke = async (ctx: Context, serverId: string) => {
    const config = await requireServerConfig(
      deps.directory,
      ctx.state.tenant as string | undefined,
      serverId,
    );
    const form = await readForm(ctx);
    const { client, rateLimit } = await authenticateClient(ctx, form, config, 'revoke', deps, {
      publicClientBasic: true,
    });
    ctx.set(rateLimit);
    const token = form.get('token');
    if (!token) throw new InvalidRequest('The token parameter is required.');
    const hint = form.get('token_type_hint');
    if (hint !== undefined && !hints.has(hint))
      throw new UnsupportedTokenType(
        `The token_type_hint ${JSON.stringify(hint.slice(0, 32))} is not supported.`,
      );
    const found = await inspectToken(token, config, client.id, deps);
    const causationId = ctx.state.requestId as string;
    if (found && found.clientId === client.id) {
      if (found.kind === 'refresh_token')
        await deps.revocations.revokeGrant(
          config.tenant,
          found.grantId,
          'refresh_token_revoked',
          found.record.familyExpiresAt,
          causationId,
        );
      else
        await deps.revocations.revokeToken(
          config.tenant,
          found.grantId,
          found.claims.jti as string,
          (found.claims.exp as number) * 1000,
          causationId,
        );
    }
    // An empty 200 (a null body would make Koa answer 204).
    ctx.status = 200;
    ctx.body = '';
  };
  router.post('/oauth2/v1/revoke', (ctx) => revoke(ctx, orgServerId));
  router.post('/oauth2/:asId/v1/revoke', (ctx) => revoke(ctx, ctx.params.asId!));
  return router;
}
