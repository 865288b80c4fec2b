// The tenant and authorization server a request is for; unknown ones are a 404 in OAuth's shape.
import { keys, type TenancyConfig } from '@gatehouse/directory';
import { OAuthError } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { Context } from 'koa';
import { loadServerConfig, type ServerConfig } from '../server-config.js';

export async function requireServerConfig(
  store: ProjectionStore,
  tenancy: TenancyConfig,
  ctx: Context,
  serverId: string,
): Promise<ServerConfig> {
  const tenant = ctx.state.tenant as string | undefined;
  const notFound = () =>
    new OAuthError(404, 'invalid_request', 'The authorization server was not found.');
  if (!tenant || !/^[0-9A-Za-z]{1,20}$/.test(serverId)) throw notFound();
  if ((await store.hget(keys.tenant(tenant), 'status')) !== 'ACTIVE') throw notFound();
  const config = await loadServerConfig(store, tenancy, tenant, serverId);
  if (!config || config.server?.status === 'INACTIVE') throw notFound();
  return config;
}
