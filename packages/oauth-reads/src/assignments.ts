// "A user gets tokens for a client only when assigned directly or through a group" (SPEC section 3).
import { keys } from '@gatehouse/directory';
import type { ProjectionStore } from '@gatehouse/projection-store';

/**
 * Whether the user is assigned to the client, directly or through one of `groupIds` (the user's
 * groups, Everyone included), in one round trip.
 */
export async function isAssigned(
  store: ProjectionStore,
  tenant: string,
  clientId: string,
  userId: string,
  groupIds: readonly string[],
): Promise<boolean> {
  const [direct, groups] = await store.read([
    { op: 'sismember', key: keys.appUsers(tenant, clientId), member: userId },
    { op: 'smembers', key: keys.appGroups(tenant, clientId) },
  ] as const);
  if (direct) return true;
  const assigned = new Set(groups);
  return groupIds.some((id) => assigned.has(id));
}
