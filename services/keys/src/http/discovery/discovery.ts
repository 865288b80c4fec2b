// The discovery documents of the org server ({org}/.well-known/...) and of custom servers
// ({org}/oauth2/{asId}/.well-known/...), both kinds for each.

import type { Scope } from '@gatehouse/contracts';
import { keys, type TenancyConfig } from '@gatehouse/directory';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import { requireServer, requireTenant } from '../server-lookup.js';
import { serverMetadata } from './metadata.js';

const kinds = ['openid-configuration', 'oauth-authorization-server'] as const;

export function discoveryRoutes(deps: {
  store: ProjectionStore;
  tenancy: TenancyConfig;
  maxAgeSeconds: number;
}): Router {
  const { store } = deps;
  const router = new Router();
  const publishedScopes = async (tenant: string, serverId: string) => {
    const ids = await store.smembers(keys.scopes(tenant, serverId));
    const values = await store.mget(ids.map((id) => keys.scope(tenant, serverId, id)));
    return values
      .filter((value): value is string => value !== null)
      .map((value) => JSON.parse(value) as Scope)
      .filter((scope) => scope.metadataPublish === 'ALL_CLIENTS')
      .map((scope) => scope.name)
      .sort();
  };
  for (const kind of kinds) {
    router.get(`/.well-known/${kind}`, async (ctx) => {
      const tenant = await requireTenant(store, ctx.state.tenant as string | undefined);
      ctx.set('Cache-Control', `max-age=${deps.maxAgeSeconds}, must-revalidate`);
      ctx.body = serverMetadata({ tenancy: deps.tenancy, tenant }, kind);
    });
    router.get(`/oauth2/:asId/.well-known/${kind}`, async (ctx) => {
      const tenant = await requireTenant(store, ctx.state.tenant as string | undefined);
      const server = await requireServer(store, tenant, ctx.params.asId!);
      ctx.set('Cache-Control', `max-age=${deps.maxAgeSeconds}, must-revalidate`);
      ctx.body = serverMetadata(
        {
          tenancy: deps.tenancy,
          tenant,
          serverId: server.id,
          publishedScopes: await publishedScopes(tenant, server.id),
        },
        kind,
      );
    });
  }
  return router;
}
