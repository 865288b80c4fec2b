// The user read model: one hash per user, the tenant's set of users, and the login index (which is
// also the login's uniqueness claim), and the ordered indexes that collections page through (each
// index write moves the user's entry, whatever it was). Pure: the writes depend on the event alone.
import type { Envelope, UserProfile } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import {
  userIndexDeletes,
  userIndexWrites,
  userProfileIndexValues,
} from '../collections/indexes.js';
import { keys } from '../read-model.js';
import { type CustomSchema, parseCustomSchema, type UserSchemaEvent } from './schema.js';
import { statusNames, type UserEvent, type UserStatusName } from './user.js';

export interface UserView {
  id: string;
  status: UserStatusName;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastLogin: null;
  lastUpdated: string;
  passwordChanged: string | null;
  profile: UserProfile;
  hasPassword: boolean;
}

export function projectUserEvent(envelope: Envelope, event: UserEvent): WriteOp[] {
  const { tenant, aggregateId: id } = envelope;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  const key = keys.user(tenant, id);
  const status = (name: string, extra: Record<string, string> = {}): WriteOp[] => [
    { op: 'hset', key, fields: { status: name, statusChanged: at, lastUpdated: at, ...extra } },
    ...userIndexWrites(tenant, id, { status: name, lastUpdated: at }),
  ];
  switch (event.type) {
    case 'gatehouse.events.v1.UserCreated': {
      const name = statusNames[event.data.status] ?? 'STAGED';
      const active = name === 'ACTIVE' || name === 'PROVISIONED';
      return [
        {
          op: 'hset',
          key,
          fields: {
            id,
            status: name,
            created: at,
            activated: active ? at : '',
            statusChanged: active ? at : '',
            lastUpdated: at,
            passwordChanged: event.data.passwordHash ? at : '',
            profile: JSON.stringify(event.data.profile),
            passwordHash: event.data.passwordHash,
          },
        },
        { op: 'sadd', key: keys.users(tenant), members: [id] },
        { op: 'set', key: keys.userByLogin(tenant, event.data.profile!.login), value: id },
        ...userIndexWrites(tenant, id, {
          id,
          status: name,
          created: at,
          lastUpdated: at,
          ...userProfileIndexValues(event.data.profile!),
        }),
      ];
    }
    case 'gatehouse.events.v1.UserProfileUpdated': {
      const writes: WriteOp[] = [
        {
          op: 'hset',
          key,
          fields: { profile: JSON.stringify(event.data.profile), lastUpdated: at },
        },
        ...userIndexWrites(tenant, id, {
          lastUpdated: at,
          ...userProfileIndexValues(event.data.profile!),
        }),
      ];
      if (event.data.previousLogin) {
        writes.push({ op: 'del', key: keys.userByLogin(tenant, event.data.previousLogin) });
        writes.push({
          op: 'set',
          key: keys.userByLogin(tenant, event.data.profile!.login),
          value: id,
        });
      }
      return writes;
    }
    case 'gatehouse.events.v1.UserPasswordChanged':
      return [
        {
          op: 'hset',
          key,
          fields: { passwordHash: event.data.passwordHash, passwordChanged: at, lastUpdated: at },
        },
        ...userIndexWrites(tenant, id, { lastUpdated: at }),
      ];
    case 'gatehouse.events.v1.UserActivated':
      return status(statusNames[event.data.status] ?? 'ACTIVE', { activated: at });
    case 'gatehouse.events.v1.UserDeactivated':
      return status('DEPROVISIONED');
    case 'gatehouse.events.v1.UserSuspended':
      return status('SUSPENDED');
    case 'gatehouse.events.v1.UserUnsuspended':
      return status('ACTIVE');
    case 'gatehouse.events.v1.UserDeleted':
      return [
        { op: 'del', key },
        { op: 'srem', key: keys.users(tenant), members: [id] },
        { op: 'del', key: keys.userByLogin(tenant, event.data.login) },
        ...userIndexDeletes(tenant, id),
      ];
  }
}

/** The schema's read model: its custom definition as the event has it, and when it changed. */
export function projectUserSchemaEvent(envelope: Envelope, event: UserSchemaEvent): WriteOp[] {
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  return [
    {
      op: 'hset',
      key: keys.userSchema(envelope.tenant),
      fields: { custom: event.data.customJson, lastUpdated: at },
    },
  ];
}

export function userViewOf(fields: Record<string, string>): UserView | undefined {
  if (!fields.id || !fields.profile) return undefined;
  return {
    id: fields.id,
    status: (fields.status ?? 'STAGED') as UserStatusName,
    created: fields.created ?? '',
    activated: fields.activated || null,
    statusChanged: fields.statusChanged || null,
    lastLogin: null,
    lastUpdated: fields.lastUpdated ?? '',
    passwordChanged: fields.passwordChanged || null,
    profile: JSON.parse(fields.profile) as UserProfile,
    hasPassword: Boolean(fields.passwordHash),
  };
}

export interface UserSchemaView {
  custom: CustomSchema;
  /** When the schema last changed; null while it is the tenant's initial one. */
  lastUpdated: string | null;
}

export function userSchemaViewOf(fields: Record<string, string>): UserSchemaView {
  return { custom: parseCustomSchema(fields.custom), lastUpdated: fields.lastUpdated || null };
}
