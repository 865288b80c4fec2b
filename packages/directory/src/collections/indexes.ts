// Which attributes of users and groups have an ordered index in the read model, how each is
// compared, and the index writes of a user's or a group's current attributes. The projections
// call these with the attributes an event sets; a collection query reads the same indexes.
import type { UserProfile } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { keys } from '../read-model.js';

/**
 * How an attribute compares: `text` case-insensitively (folded to lower case, in the index too),
 * `exact` as written (ids, statuses, types), `date` as an instant (ISO 8601, which sorts as text).
 */
export type AttributeKind = 'text' | 'exact' | 'date';

/** Folds a text value as the indexes and the queries compare it. */
export function foldText(value: string): string {
  return value.toLowerCase().replaceAll('\u0000', '').replaceAll('\u{10ffff}', '');
}

export const userIndexedAttributes = {
  id: 'exact',
  status: 'exact',
  created: 'date',
  lastUpdated: 'date',
  'profile.login': 'text',
  'profile.email': 'text',
  'profile.firstName': 'text',
  'profile.lastName': 'text',
} as const satisfies Record<string, AttributeKind>;

export const groupIndexedAttributes = {
  id: 'exact',
  type: 'exact',
  created: 'date',
  lastUpdated: 'date',
  lastMembershipUpdated: 'date',
  'profile.name': 'text',
} as const satisfies Record<string, AttributeKind>;

/** The index value of an attribute's value. */
export function indexValue(kind: AttributeKind, value: string): string {
  return kind === 'text' ? foldText(value) : value;
}

type UserAttribute = keyof typeof userIndexedAttributes;
type GroupAttribute = keyof typeof groupIndexedAttributes;

/** The index writes for the user attributes given (the ones an event changes). */
export function userIndexWrites(
  tenant: string,
  id: string,
  values: Partial<Record<UserAttribute, string>>,
): WriteOp[] {
  return Object.entries(values).map(([attribute, value]) => ({
    op: 'indexPut' as const,
    key: keys.userIndex(tenant, attribute),
    id,
    value: indexValue(userIndexedAttributes[attribute as UserAttribute], value),
  }));
}

/** The index writes of a profile's indexed attributes. */
export function userProfileIndexValues(
  profile: UserProfile,
): Partial<Record<UserAttribute, string>> {
  return {
    'profile.login': profile.login,
    'profile.email': profile.email ?? '',
    'profile.firstName': profile.firstName ?? '',
    'profile.lastName': profile.lastName ?? '',
  };
}

/** Takes a user out of every user index. */
export function userIndexDeletes(tenant: string, id: string): WriteOp[] {
  return Object.keys(userIndexedAttributes).map((attribute) => ({
    op: 'indexDelete' as const,
    key: keys.userIndex(tenant, attribute),
    id,
  }));
}

/** The index writes for the group attributes given. */
export function groupIndexWrites(
  tenant: string,
  id: string,
  values: Partial<Record<GroupAttribute, string>>,
): WriteOp[] {
  return Object.entries(values).map(([attribute, value]) => ({
    op: 'indexPut' as const,
    key: keys.groupIndex(tenant, attribute),
    id,
    value: indexValue(groupIndexedAttributes[attribute as GroupAttribute], value),
  }));
}

/** Takes a group out of every group index (for a group's deletion). */
export function groupIndexDeletes(tenant: string, id: string): WriteOp[] {
  return Object.keys(groupIndexedAttributes).map((attribute) => ({
    op: 'indexDelete' as const,
    key: keys.groupIndex(tenant, attribute),
    id,
  }));
}
