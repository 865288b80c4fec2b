// The tenant read model: a pure function from each tenant event to the writes that apply it.
import type { Envelope } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { groupIndexWrites } from '../collections/indexes.js';
import { keys } from '../read-model.js';
import type { TenantEvent } from './tenant.js';

export interface TenantView {
  id: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  created: string;
  lastUpdated: string;
}

export function projectTenantEvent(envelope: Envelope, event: TenantEvent): WriteOp[] {
  const id = envelope.aggregateId;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  switch (event.type) {
    case 'gatehouse.events.v1.TenantCreated':
      return [
        {
          op: 'hset',
          key: keys.tenant(id),
          fields: {
            id,
            name: event.data.name,
            status: 'ACTIVE',
            created: at,
            lastUpdated: at,
            apiTokenSha256: event.data.apiTokenSha256,
            everyoneGroupId: event.data.everyoneGroupId,
          },
        },
        { op: 'sadd', key: keys.tenants(), members: [id] },
        // The built-in group Everyone: its members are the tenant's users (keys.users), not a set.
        {
          op: 'hset',
          key: keys.group(id, event.data.everyoneGroupId),
          fields: {
            id: event.data.everyoneGroupId,
            type: 'BUILT_IN',
            name: 'Everyone',
            description: 'All users in your organization',
            created: at,
            lastUpdated: at,
            lastMembershipUpdated: at,
          },
        },
        { op: 'sadd', key: keys.groups(id), members: [event.data.everyoneGroupId] },
        ...groupIndexWrites(id, event.data.everyoneGroupId, {
          id: event.data.everyoneGroupId,
          type: 'BUILT_IN',
          created: at,
          lastUpdated: at,
          lastMembershipUpdated: at,
          'profile.name': 'Everyone',
        }),
        { op: 'set', key: keys.tenantByToken(event.data.apiTokenSha256), value: id },
      ];
    case 'gatehouse.events.v1.TenantDeactivated':
      return [
        { op: 'hset', key: keys.tenant(id), fields: { status: 'INACTIVE', lastUpdated: at } },
      ];
  }
}

export function tenantViewOf(fields: Record<string, string>): TenantView | undefined {
  if (!fields.id) return undefined;
  return {
    id: fields.id,
    name: fields.name ?? '',
    status: fields.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE',
    created: fields.created ?? '',
    lastUpdated: fields.lastUpdated ?? '',
  };
}
