// The tenant and authorization server a request is for; unknown ones are a 404 in OAuth's shape.
import { InvalidRequest } from '@gatehouse/http';
import type { DirectoryCache, ServerConfig } from '@gatehouse/oauth-reads';

export async function requireServerConfig(
  directory: DirectoryCache,
  tenant: string | undefined,
  serverId: string,
): Promise<ServerConfig> {
  const notFound = () => new InvalidRequest('The authorization server was not found.', 404);
  if (!tenant || !/^[0-9A-Za-z]{1,20}$/.test(serverId)) throw notFound();
  if ((await directory.tenantStatus(tenant)) !== 'ACTIVE') throw notFound();
  const config = await directory.server(tenant, serverId);
  if (!config || config.server?.status === 'INACTIVE') throw notFound();
  return config;
}
