// The one check of implicit token invalidation (SPEC section 6), for every path that accepts a token:
// in a single round trip, the token's and its grant's revocation entries, the current status of its
// tenant, server, client and user, and the generations its binding digest was made of.
import { keys } from '@gatehouse/directory';
import {
  generationReads,
  grantKeys,
  invalidationDigest,
  type TokenBinding,
} from '@gatehouse/grants';
import type { ProjectionStore, ReadQuery } from '@gatehouse/projection-store';

/** The digest of the binding's generations as they are now. */
export async function currentBindingDigest(
  store: ProjectionStore,
  binding: TokenBinding,
): Promise<string> {
  return invalidationDigest((await store.read(generationReads(binding))) as (string | null)[]);
}

export interface ValidityQuery {
  binding: TokenBinding;
  /** The digest the token (or code, or refresh family) was issued with. */
  bindingDigest: string;
  grantId: string;
  /** The token's own id, for its revocation entry; absent for codes and refresh tokens. */
  jti?: string;
}

/**
 * Whether nothing has invalidated the token since it was issued: not revoked (itself or its grant),
 * tenant, server, client and user still ACTIVE, and none of them changed in a way that invalidates
 * (their generations give the digest the token carries).
 */
export async function stillValid(store: ProjectionStore, query: ValidityQuery): Promise<boolean> {
  const { tenant, serverId, clientId, userId } = query.binding;
  const statuses: ReadQuery[] = [
    { op: 'hget', key: keys.tenant(tenant), field: 'status' },
    { op: 'hget', key: keys.client(tenant, clientId), field: 'status' },
    ...(serverId === 'org'
      ? []
      : [
          { op: 'hget', key: keys.authorizationServer(tenant, serverId), field: 'status' } as const,
        ]),
    ...(userId === undefined
      ? []
      : [{ op: 'hget', key: keys.user(tenant, userId), field: 'status' } as const]),
  ];
  const generations = generationReads(query.binding);
  const values = (await store.read([
    { op: 'get', key: grantKeys.revokedGrant(tenant, query.grantId) },
    ...(query.jti ? [{ op: 'get', key: grantKeys.revokedToken(tenant, query.jti) } as const] : []),
    ...statuses,
    ...generations,
  ])) as (string | null)[];
  const revocations = query.jti ? 2 : 1;
  if (values.slice(0, revocations).some((value) => value !== null)) return false;
  const current = values.slice(revocations, revocations + statuses.length);
  if (current.some((status) => status !== 'ACTIVE')) return false;
  return invalidationDigest(values.slice(revocations + statuses.length)) === query.bindingDigest;
}
