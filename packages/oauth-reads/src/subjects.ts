// The user a grant is for, as the claims need them: profile (with the custom attributes the
// tenant's profile schema declares now), login, and groups (Everyone included).
import type { UserProfile } from '@gatehouse/contracts';
import { groupViewOf, keys, parseCustomSchema, userViewOf } from '@gatehouse/directory';
import type { TokenSubject } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';

/** The reads a subject is made of (one round trip; `subjectFrom` takes their results). */
export const subjectReads = (tenant: string, userId: string) =>
  [
    { op: 'hgetall', key: keys.user(tenant, userId) },
    { op: 'smembers', key: keys.userGroups(tenant, userId) },
    { op: 'hget', key: keys.tenant(tenant), field: 'everyoneGroupId' },
    { op: 'hget', key: keys.userSchema(tenant), field: 'custom' },
  ] as const;

/** What subjectReads reads, in its order. */
export type SubjectReadResults = [Record<string, string>, string[], string | null, string | null];

/**
 * The subject from the results of subjectReads, or undefined when the user no longer exists or is
 * not ACTIVE. Its groups are read (one more round trip) only when `withGroups`: claims need them
 * for a groups claim only.
 */
export async function subjectFrom(
  store: ProjectionStore,
  tenant: string,
  [fields, groupIds, everyone, schema]: SubjectReadResults,
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
      profile: declaredOnly(user.profile, schema),
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

/**
 * The profile without the values of custom attributes the schema no longer declares: a user keeps
 * them stored until their next change (as Okta drops them), but no claim maps them meanwhile.
 */
function declaredOnly(profile: UserProfile, schema: string | null): UserProfile {
  if (!profile.customJson) return profile;
  const declared = parseCustomSchema(schema ?? undefined).properties;
  const values = JSON.parse(profile.customJson) as Record<string, unknown>;
  const kept = Object.entries(values).filter(([name]) => Object.hasOwn(declared, name));
  if (kept.length === Object.keys(values).length) return profile;
  const { customJson: _, ...base } = profile;
  return kept.length === 0
    ? base
    : { ...base, customJson: JSON.stringify(Object.fromEntries(kept)) };
}
