// Which authorization server a public path names, from the directory read model: the org server
// (`/oauth2/v1/...`, `/.well-known/...`) or a custom one (`/oauth2/{asId}/...`) that exists.
import { keys, type ServerView, serverViewOf } from '@gatehouse/directory';
import { OktaApiError } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';

export async function requireTenant(store: ProjectionStore, tenant: string | undefined) {
  const status = tenant ? await store.hget(keys.tenant(tenant), 'status') : null;
  if (!tenant || status === null) throw OktaApiError.notFound('Organization', tenant ?? '');
  return tenant;
}

export async function requireServer(
  store: ProjectionStore,
  tenant: string,
  serverId: string,
): Promise<ServerView> {
  const server = /^[0-9A-Za-z]{1,20}$/.test(serverId)
    ? serverViewOf(await store.hgetall(keys.authorizationServer(tenant, serverId)))
    : undefined;
  if (!server) throw OktaApiError.notFound('AuthorizationServer', serverId);
  return server;
}
