// The user a grant is for, as the claims need them: profile, login, and groups (Everyone included).
import { groupViewOf, keys, userViewOf } from '@gatehouse/directory';
import type { TokenSubject } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';

/** The subject, or undefined when the user no longer exists or is not ACTIVE. */
export async function loadSubject(
  store: ProjectionStore,
  tenant: string,
  userId: string,
  authentication: { authTime: number; amr: readonly string[] },
): Promise<TokenSubject | undefined> {
  const [fields, groupIds, everyone] = await store.read([
    { op: 'hgetall', key: keys.user(tenant, userId) },
    { op: 'smembers', key: keys.userGroups(tenant, userId) },
    { op: 'hget', key: keys.tenant(tenant), field: 'everyoneGroupId' },
  ] as const);
  const user = userViewOf(fields);
  if (user?.status !== 'ACTIVE') return undefined;
  const ids = [...(everyone ? [everyone] : []), ...groupIds];
  const groups = await store.read(
    ids.map((id) => ({ op: 'hgetall', key: keys.group(tenant, id) }) as const),
  );
  return {
    user: {
      id: user.id,
      profile: user.profile,
      login: user.profile.login,
      lastUpdated: user.lastUpdated,
      groups: groups
        .map((group) => groupViewOf(group))
        .filter((group) => group !== undefined)
        .map((group) => ({ id: group.id, name: group.name })),
    },
    authTime: authentication.authTime,
    amr: [...authentication.amr],
  };
}
