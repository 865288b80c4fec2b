// GET {org}/oauth2/v1/keys and {org}/oauth2/{asId}/v1/keys: the server's published keys (NEXT,
// ACTIVE, RETIRED; never a revoked one) as a JWK Set. Cacheable for less than a key is published
// before it signs, so a cached set always holds the key of any token it must verify.

import { publicJwkOf, publicKeyFromJwk } from '@gatehouse/jwt';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { loadServerKeys, orgServerId, type PublishedKey } from '@gatehouse/signing-keys';
import Router, { type RouterContext } from '@koa/router';
import { requireServer, requireTenant } from '../server-lookup.js';

const order = { ACTIVE: 0, NEXT: 1, RETIRED: 2 } as const;

export function jwkOf(key: PublishedKey) {
  return publicJwkOf(key.kid, publicKeyFromJwk({ kty: 'RSA', n: key.n, e: key.e }));
}

export function jwksRoutes(deps: { store: ProjectionStore; maxAgeSeconds: number }): Router {
  const router = new Router();
  const serve = async (ctx: RouterContext, serverId: string) => {
    const tenant = await requireTenant(deps.store, ctx.state.tenant as string | undefined);
    if (serverId !== orgServerId) await requireServer(deps.store, tenant, serverId);
    const { keys } = await loadServerKeys(deps.store, tenant, serverId);
    // A server whose keys are still being made must not have its empty set cached.
    ctx.set(
      'Cache-Control',
      keys.some((key) => key.status === 'ACTIVE')
        ? `max-age=${deps.maxAgeSeconds}, must-revalidate`
        : 'no-cache',
    );
    ctx.body = {
      keys: [...keys].sort((a, b) => order[a.status] - order[b.status]).map(jwkOf),
    };
  };
  router.get('/oauth2/v1/keys', (ctx) => serve(ctx, orgServerId));
  router.get('/oauth2/:asId/v1/keys', (ctx) => serve(ctx, ctx.params.asId!));
  return router;
}
