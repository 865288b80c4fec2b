// The client read model. Metadata and lifecycle come from two topics, which a projector may apply in
// either order; so registration never writes the status (absent means ACTIVE), and deletion leaves a
// tombstone that later metadata writes cannot undo.
import type { ClientMetadata, Envelope } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { keys } from '../read-model.js';
import type { ClientEvent } from './client.js';

export interface ClientView {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  created: string;
  lastUpdated: string;
  metadata: ClientMetadata;
  secretSha256: string;
}

export function projectClientEvent(envelope: Envelope, event: ClientEvent): WriteOp[] {
  const { tenant, aggregateId: id } = envelope;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  const key = keys.client(tenant, id);
  switch (event.type) {
    case 'gatehouse.events.v1.ClientRegistered':
      return [
        {
          op: 'hset',
          key,
          fields: {
            id,
            created: at,
            lastUpdated: at,
            metadata: JSON.stringify(event.data.metadata),
            secretSha256: event.data.clientSecretSha256,
          },
        },
        { op: 'sadd', key: keys.clients(tenant), members: [id] },
      ];
    case 'gatehouse.events.v1.ClientUpdated':
      return [
        {
          op: 'hset',
          key,
          fields: { metadata: JSON.stringify(event.data.metadata), lastUpdated: at },
        },
      ];
    case 'gatehouse.events.v1.ClientSecretRotated':
      return [
        {
          op: 'hset',
          key,
          fields: { secretSha256: event.data.clientSecretSha256, lastUpdated: at },
        },
      ];
    case 'gatehouse.events.v1.ClientActivated':
      return [{ op: 'hset', key, fields: { status: 'ACTIVE', lastUpdated: at } }];
    case 'gatehouse.events.v1.ClientDeactivated':
      return [{ op: 'hset', key, fields: { status: 'INACTIVE', lastUpdated: at } }];
    case 'gatehouse.events.v1.ClientDeleted':
      return [
        { op: 'hset', key, fields: { deleted: at, lastUpdated: at } },
        { op: 'srem', key: keys.clients(tenant), members: [id] },
        { op: 'del', key: keys.appUsers(tenant, id) },
        { op: 'del', key: keys.appGroups(tenant, id) },
      ];
    case 'gatehouse.events.v1.AppUserAssigned':
      return [{ op: 'sadd', key: keys.appUsers(tenant, id), members: [event.data.userId] }];
    case 'gatehouse.events.v1.AppUserUnassigned':
      return [{ op: 'srem', key: keys.appUsers(tenant, id), members: [event.data.userId] }];
    case 'gatehouse.events.v1.AppGroupAssigned':
      return [{ op: 'sadd', key: keys.appGroups(tenant, id), members: [event.data.groupId] }];
    case 'gatehouse.events.v1.AppGroupUnassigned':
      return [{ op: 'srem', key: keys.appGroups(tenant, id), members: [event.data.groupId] }];
  }
}

export function clientViewOf(fields: Record<string, string>): ClientView | undefined {
  if (!fields.id || !fields.metadata || fields.deleted) return undefined;
  return {
    id: fields.id,
    status: fields.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE',
    created: fields.created ?? '',
    lastUpdated: fields.lastUpdated ?? '',
    metadata: JSON.parse(fields.metadata) as ClientMetadata,
    secretSha256: fields.secretSha256 ?? '',
  };
}
