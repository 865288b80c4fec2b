// The names the pages show: the client's, and the user's login.
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';

export const clientName = async (directory: DirectoryCache, tenant: string, clientId: string) =>
  (await directory.client(tenant, clientId))?.metadata.clientName || clientId;

export const loginOf = async (store: ProjectionStore, tenant: string, userId: string) => {
  const profile = await store.hget(`rm:user:${tenant}:${userId}`, 'profile');
  return profile ? ((JSON.parse(profile) as { login?: string }).login ?? '') : '';
};
