// The group read model: one hash per group and member sets both ways. (Names are unique by the
// write model's group-name streams, which a creation decides on.) The ordered indexes that the
// collections page through: the groups by attribute, and each group's members by id.
import type { Envelope } from '@gatehouse/contracts';
import { GroupType } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { groupIndexDeletes, groupIndexWrites } from '../collections/indexes.js';
import { keys } from '../read-model.js';
import type { GroupEvent } from './group.js';

export interface GroupView {
  id: string;
  type: 'OKTA_GROUP' | 'BUILT_IN';
  name: string;
  description: string;
  created: string;
  lastUpdated: string;
  lastMembershipUpdated: string;
}

export function projectGroupEvent(envelope: Envelope, event: GroupEvent): WriteOp[] {
  const { tenant, aggregateId: id } = envelope;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  switch (event.type) {
    case 'gatehouse.events.v1.GroupCreated':
      return [
        {
          op: 'hset',
          key: keys.group(tenant, id),
          fields: {
            id,
            type: event.data.type === GroupType.GROUP_TYPE_BUILT_IN ? 'BUILT_IN' : 'OKTA_GROUP',
            name: event.data.name,
            description: event.data.description,
            created: at,
            lastUpdated: at,
            lastMembershipUpdated: at,
          },
        },
        { op: 'sadd', key: keys.groups(tenant), members: [id] },
        ...groupIndexWrites(tenant, id, {
          id,
          type: event.data.type === GroupType.GROUP_TYPE_BUILT_IN ? 'BUILT_IN' : 'OKTA_GROUP',
          created: at,
          lastUpdated: at,
          lastMembershipUpdated: at,
          'profile.name': event.data.name,
        }),
      ];
    case 'gatehouse.events.v1.GroupProfileUpdated':
      return [
        {
          op: 'hset',
          key: keys.group(tenant, id),
          fields: { name: event.data.name, description: event.data.description, lastUpdated: at },
        },
        ...groupIndexWrites(tenant, id, { lastUpdated: at, 'profile.name': event.data.name }),
      ];
    case 'gatehouse.events.v1.GroupDeleted':
      // Its members and app assignments left by their own events, just before.
      return [
        { op: 'del', key: keys.group(tenant, id) },
        { op: 'del', key: keys.groupMembers(tenant, id) },
        { op: 'del', key: keys.groupApps(tenant, id) },
        { op: 'srem', key: keys.groups(tenant), members: [id] },
        ...groupIndexDeletes(tenant, id),
      ];
    case 'gatehouse.events.v1.GroupMemberAdded':
      return [
        { op: 'sadd', key: keys.groupMembers(tenant, id), members: [event.data.userId] },
        { op: 'sadd', key: keys.userGroups(tenant, event.data.userId), members: [id] },
        { op: 'hset', key: keys.group(tenant, id), fields: { lastMembershipUpdated: at } },
        {
          op: 'indexPut',
          key: keys.groupMemberIndex(tenant, id),
          id: event.data.userId,
          value: event.data.userId,
        },
        ...groupIndexWrites(tenant, id, { lastMembershipUpdated: at }),
      ];
    case 'gatehouse.events.v1.GroupMemberRemoved':
      return [
        { op: 'srem', key: keys.groupMembers(tenant, id), members: [event.data.userId] },
        { op: 'srem', key: keys.userGroups(tenant, event.data.userId), members: [id] },
        { op: 'hset', key: keys.group(tenant, id), fields: { lastMembershipUpdated: at } },
        { op: 'indexDelete', key: keys.groupMemberIndex(tenant, id), id: event.data.userId },
        ...groupIndexWrites(tenant, id, { lastMembershipUpdated: at }),
      ];
  }
}

export function groupViewOf(fields: Record<string, string>): GroupView | undefined {
  if (!fields.id) return undefined;
  return {
    id: fields.id,
    type: fields.type === 'BUILT_IN' ? 'BUILT_IN' : 'OKTA_GROUP',
    name: fields.name ?? '',
    description: fields.description ?? '',
    created: fields.created ?? '',
    lastUpdated: fields.lastUpdated ?? '',
    lastMembershipUpdated: fields.lastMembershipUpdated ?? '',
  };
}
