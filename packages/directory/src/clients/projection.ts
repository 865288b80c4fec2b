// The client read model: a hash per client (deletion is a tombstone field) and the sets of users and
// groups assigned to it. Every client event comes from gatehouse.directory, in log order.
import { type ClientMetadata, type Envelope, SealedClientSecret } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { keys } from '../read-model.js';
import type { ClientEvent } from './client.js';
import { storedClientMetadata } from './metadata.js';

export interface ClientView {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  created: string;
  lastUpdated: string;
  metadata: ClientMetadata;
  secretSha256: string;
  /** The secret sealed under the KEK, for client_secret_jwt; absent for secrets made before. */
  secretSealed?: SealedClientSecret;
}

/** A sealed secret in the client's hash: its proto JSON (bytes in base64); '' for none. */
const sealedField = (sealed: SealedClientSecret | undefined): string =>
  sealed ? JSON.stringify(SealedClientSecret.toJSON(sealed)) : '';

export function projectClientEvent(envelope: Envelope, event: ClientEvent): WriteOp[] {
  const { tenant, aggregateId: id } = envelope;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  const set = (fields: Record<string, string>): WriteOp => ({
    op: 'hset',
    key: keys.client(tenant, id),
    fields: { ...fields, lastUpdated: at },
  });
  switch (event.type) {
    case 'gatehouse.events.v1.ClientRegistered':
      return [
        set({
          id,
          created: at,
          status: 'ACTIVE',
          metadata: JSON.stringify(event.data.metadata),
          secretSha256: event.data.clientSecretSha256,
          secretSealed: sealedField(event.data.clientSecretSealed),
        }),
        { op: 'sadd', key: keys.clients(tenant), members: [id] },
        { op: 'indexPut', key: keys.clientIndex(tenant), id, value: id },
      ];
    case 'gatehouse.events.v1.ClientUpdated':
      return [set({ metadata: JSON.stringify(event.data.metadata) })];
    case 'gatehouse.events.v1.ClientSecretRotated':
      return [
        set({
          secretSha256: event.data.clientSecretSha256,
          secretSealed: sealedField(event.data.clientSecretSealed),
        }),
      ];
    case 'gatehouse.events.v1.ClientActivated':
      return [set({ status: 'ACTIVE' })];
    case 'gatehouse.events.v1.ClientDeactivated':
      return [set({ status: 'INACTIVE' })];
    case 'gatehouse.events.v1.ClientDeleted':
      return [
        set({ deleted: at }),
        { op: 'srem', key: keys.clients(tenant), members: [id] },
        { op: 'indexDelete', key: keys.clientIndex(tenant), id },
      ];
    case 'gatehouse.events.v1.AppUserAssigned':
      return [
        set({}),
        { op: 'sadd', key: keys.appUsers(tenant, id), members: [event.data.userId] },
        {
          op: 'indexPut',
          key: keys.appUserIndex(tenant, id),
          id: event.data.userId,
          value: event.data.userId,
        },
      ];
    case 'gatehouse.events.v1.AppUserUnassigned':
      return [
        set({}),
        { op: 'srem', key: keys.appUsers(tenant, id), members: [event.data.userId] },
        { op: 'indexDelete', key: keys.appUserIndex(tenant, id), id: event.data.userId },
      ];
    case 'gatehouse.events.v1.AppGroupAssigned':
      return [
        set({}),
        { op: 'sadd', key: keys.appGroups(tenant, id), members: [event.data.groupId] },
        { op: 'sadd', key: keys.groupApps(tenant, event.data.groupId), members: [id] },
        {
          op: 'indexPut',
          key: keys.appGroupIndex(tenant, id),
          id: event.data.groupId,
          value: event.data.groupId,
        },
      ];
    case 'gatehouse.events.v1.AppGroupUnassigned':
      return [
        set({}),
        { op: 'srem', key: keys.appGroups(tenant, id), members: [event.data.groupId] },
        { op: 'srem', key: keys.groupApps(tenant, event.data.groupId), members: [id] },
        { op: 'indexDelete', key: keys.appGroupIndex(tenant, id), id: event.data.groupId },
      ];
  }
}

export function clientViewOf(fields: Record<string, string>): ClientView | undefined {
  if (!fields.id || !fields.metadata || fields.deleted) return undefined;
  return {
    id: fields.id,
    status: fields.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE',
    created: fields.created ?? '',
    lastUpdated: fields.lastUpdated ?? '',
    metadata: storedClientMetadata(JSON.parse(fields.metadata)),
    secretSha256: fields.secretSha256 ?? '',
    ...(fields.secretSealed
      ? { secretSealed: SealedClientSecret.fromJSON(JSON.parse(fields.secretSealed)) }
      : {}),
  };
}
