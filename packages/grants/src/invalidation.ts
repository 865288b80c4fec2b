// Implicit token invalidation (SPEC section 6), the read model side. Every event that must kill the
// tokens issued before it (a client deactivated, reactivated or deleted; a user deactivated,
// suspended, reactivated or deleted; a user unassigned from a client, directly or through a group;
// a server deactivated or its settings, policies, rules, scopes or claims changed; a tenant
// deactivated) moves a generation: a field set to the event's id. Only admitted commands' events
// move it, in log order (the directory write model decides them), so redelivery and replay give the
// same value. A token carries a digest of the
// generations its minting service saw; the check recomputes it from the current ones. Any change
// since, even one the minting service had not seen yet, makes the digests differ: there is no
// window in which a token minted during a deactivation's propagation survives it.
import { createHash } from 'node:crypto';
import type { Envelope } from '@gatehouse/contracts';
import {
  decodeDirectoryEvent,
  directoryWriteModel,
  readsDirectoryEvent,
} from '@gatehouse/directory';
import { Topics } from '@gatehouse/events';
import type { ReadQuery, WriteOp } from '@gatehouse/projection-store';

export const invalidationKeys = {
  tenant: (tenant: string) => `rm:inv:${tenant}:tenant`,
  client: (tenant: string, clientId: string) => `rm:inv:${tenant}:client:${clientId}`,
  /** Moves when any group is unassigned from the client. */
  appGroups: (tenant: string, clientId: string) => `rm:inv:${tenant}:app-groups:${clientId}`,
  appUser: (tenant: string, clientId: string, userId: string) =>
    `rm:inv:${tenant}:app-user:${clientId}:${userId}`,
  user: (tenant: string, userId: string) => `rm:inv:${tenant}:user:${userId}`,
  /** Moves when the user leaves any group (a group may be what assigned them). */
  memberships: (tenant: string, userId: string) => `rm:inv:${tenant}:memberships:${userId}`,
  server: (tenant: string, serverId: string) => `rm:inv:${tenant}:server:${serverId}`,
};

/** What a token is bound to: the generations of these decide whether it still stands. */
export interface TokenBinding {
  tenant: string;
  serverId: string;
  clientId: string;
  /** Absent for client_credentials tokens. */
  userId?: string;
}

const serverEvents = new Set([
  'gatehouse.events.v1.AuthorizationServerUpdated',
  'gatehouse.events.v1.AuthorizationServerActivated',
  'gatehouse.events.v1.AuthorizationServerDeactivated',
  'gatehouse.events.v1.AuthorizationServerDeleted',
  'gatehouse.events.v1.PolicyCreated',
  'gatehouse.events.v1.PolicyUpdated',
  'gatehouse.events.v1.PolicyDeleted',
  'gatehouse.events.v1.RuleCreated',
  'gatehouse.events.v1.RuleUpdated',
  'gatehouse.events.v1.RuleDeleted',
  'gatehouse.events.v1.ScopeCreated',
  'gatehouse.events.v1.ScopeUpdated',
  'gatehouse.events.v1.ScopeDeleted',
  'gatehouse.events.v1.ClaimCreated',
  'gatehouse.events.v1.ClaimUpdated',
  'gatehouse.events.v1.ClaimDeleted',
]);
const clientEvents = new Set([
  'gatehouse.events.v1.ClientActivated',
  'gatehouse.events.v1.ClientDeactivated',
  'gatehouse.events.v1.ClientDeleted',
]);
const userEvents = new Set([
  'gatehouse.events.v1.UserActivated',
  'gatehouse.events.v1.UserDeactivated',
  'gatehouse.events.v1.UserSuspended',
  'gatehouse.events.v1.UserUnsuspended',
  'gatehouse.events.v1.UserDeleted',
]);

/** The generation key an event moves, if any. */
export function invalidatedBy(envelope: Envelope): string | undefined {
  const event = decodeDirectoryEvent(envelope);
  if (!event) return undefined;
  const { tenant, aggregateId } = envelope;
  if (event.type === 'gatehouse.events.v1.TenantDeactivated')
    return invalidationKeys.tenant(tenant);
  if (clientEvents.has(event.type)) return invalidationKeys.client(tenant, aggregateId);
  if (userEvents.has(event.type)) return invalidationKeys.user(tenant, aggregateId);
  if (serverEvents.has(event.type)) return invalidationKeys.server(tenant, aggregateId);
  if (event.type === 'gatehouse.events.v1.AppUserUnassigned')
    return invalidationKeys.appUser(tenant, aggregateId, event.data.userId);
  if (event.type === 'gatehouse.events.v1.AppGroupUnassigned')
    return invalidationKeys.appGroups(tenant, aggregateId);
  if (event.type === 'gatehouse.events.v1.GroupMemberRemoved')
    return invalidationKeys.memberships(tenant, event.data.userId);
  return undefined;
}

export function projectInvalidation(envelope: Envelope): WriteOp[] {
  const key = invalidatedBy(envelope);
  return key ? [{ op: 'hset', key, fields: { gen: envelope.id } }] : [];
}

export const invalidationProjection = {
  name: 'invalidation',
  topics: [Topics.directory, Topics.clientLifecycle],
  keyPrefixes: ['rm:inv:'],
  project: (envelope: Envelope) => projectInvalidation(envelope),
  accepts: readsDirectoryEvent,
  writeModel: directoryWriteModel,
} as const;

/** The generation keys of a binding, in the order the digest takes them. */
export function bindingKeys(binding: TokenBinding): string[] {
  const { tenant, serverId, clientId, userId } = binding;
  return [
    invalidationKeys.tenant(tenant),
    invalidationKeys.server(tenant, serverId),
    invalidationKeys.client(tenant, clientId),
    invalidationKeys.appGroups(tenant, clientId),
    ...(userId === undefined
      ? []
      : [
          invalidationKeys.user(tenant, userId),
          invalidationKeys.memberships(tenant, userId),
          invalidationKeys.appUser(tenant, clientId, userId),
        ]),
  ];
}

/** Reads of a binding's generations, for one `store.read` round trip. */
export const generationReads = (binding: TokenBinding): ReadQuery[] =>
  bindingKeys(binding).map((key) => ({ op: 'hget', key, field: 'gen' }));

/** 12 base64url characters (72 bits) of SHA-256 over the generations read. */
export function invalidationDigest(generations: readonly (string | null)[]): string {
  return createHash('sha256')
    .update(generations.map((gen) => gen ?? '').join('|'))
    .digest('base64url')
    .slice(0, 12);
}
