// The user a grant is for, as the claims need them: profile, login, and groups (Everyone included).
import { groupViewOf, keys, userViewOf } from '@gatehouse/directory';
import type { TokenSubject } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';

/** The reads a subject is made of (one round trip; `subjectFrom` takes their results). */
export const subjectReads = (tenant: string, userId: string) =>
  [
    { op: 'hgetall', key: keys.user(tenant, userId) },
    { op: 'smembers', key: keys.userGroups(tenant, userId) },
    { op: 'hget', key: keys.tenant(tenant), field: 'everyoneGroupId' },
  ] as const;

/**
 * The subject from the results of subjectReads, or undefined when the user no longer exists or is
 * not ACTIVE. Its groups are read (one more round trip) only when `withGroups`: claims need them
 * for a groups claim only.
 */
export async function subjectFrom(
  store: ProjectionStore,
  tenant: string,
  [fields, groupIds, everyone]: [Record<string, string>, string[], string | null],
  authentication: { authTime: number; amr: readonly string[] },
  withGroups = true,
): Promise<TokenSubject | undefined> {
  const user = userViewOf(fields);
  if (user?.status !== 'ACTIVE') return undefined;
  const ids = withGroups ? [...(everyone ? [everyone] : []), ...groupIds] : [];
  const groups =
    ids.length === 0
      ? []
      : await store.read(
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

/** The subject, or undefined when the user no longer exists or is not ACTIVE. */
export async function loadSubject(
  store: ProjectionStore,
  tenant: string,
  userId: string,
  authentication: { authTime: number; amr: readonly string[] },
): Promise<TokenSubject | undefined> {
  const results = await store.read(subjectReads(tenant, userId));
  return subjectFrom(store, tenant, results, authentication);
}
