// The users and groups collections: what their `q`, `filter` and `search` accept (Okta's
// documented attributes and operators), their indexes, and a page of each from the read model.
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type GroupView, groupViewOf } from '../groups/projection.js';
import { keys } from '../read-model.js';
import { type UserView, userViewOf } from '../users/projection.js';
import {
  type Attributes,
  bothCriteria,
  type Criteria,
  type CriteriaRules,
  type Literal,
  parseCriteria,
  prefixCriteria,
} from './criteria.js';
import { type AttributeKind, groupIndexedAttributes, userIndexedAttributes } from './indexes.js';
import { type Indexes, type Page, plan, readPage } from './pages.js';

/** A collection request's parameters, as given (undefined when absent). */
export interface CollectionQuery {
  q?: string;
  filter?: string;
  search?: string;
  limit: number;
  after?: string;
}

const userDates = new Set([
  'created',
  'activated',
  'statusChanged',
  'lastUpdated',
  'passwordChanged',
  'lastLogin',
]);
const userKind = (attribute: string): AttributeKind =>
  userDates.has(attribute)
    ? 'date'
    : attribute === 'id' || attribute === 'status'
      ? 'exact'
      : 'text';
const userFilterAttributes = new Set([
  'status',
  'lastUpdated',
  'id',
  'profile.login',
  'profile.email',
  'profile.firstName',
  'profile.lastName',
]);

export const userFilterRules: CriteriaRules = {
  operators: ['eq', 'gt', 'ge', 'lt', 'le'],
  allows: (attribute) => userFilterAttributes.has(attribute),
  kindOf: userKind,
};
export const userSearchRules: CriteriaRules = {
  operators: ['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le', 'pr'],
  allows: (attribute) =>
    attribute.startsWith('profile.') || userDates.has(attribute) || userKind(attribute) === 'exact',
  kindOf: userKind,
};

const groupDates = new Set(['created', 'lastUpdated', 'lastMembershipUpdated']);
const groupKind = (attribute: string): AttributeKind =>
  groupDates.has(attribute)
    ? 'date'
    : attribute === 'id' || attribute === 'type'
      ? 'exact'
      : 'text';
export const groupFilterRules: CriteriaRules = {
  operators: ['eq', 'gt', 'ge', 'lt', 'le'],
  allows: (attribute) => ['id', 'type', 'lastUpdated', 'lastMembershipUpdated'].includes(attribute),
  kindOf: groupKind,
};
export const groupSearchRules: CriteriaRules = {
  operators: ['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le', 'pr'],
  allows: (attribute) =>
    attribute === 'profile.name' ||
    attribute === 'profile.description' ||
    groupDates.has(attribute) ||
    groupKind(attribute) === 'exact',
  kindOf: groupKind,
};

export function userAttributes(user: UserView): Attributes {
  return (attribute) => {
    if (attribute.startsWith('profile.'))
      return (user.profile as unknown as Record<string, Literal | undefined>)[attribute.slice(8)];
    const value = (user as unknown as Record<string, Literal | undefined>)[attribute];
    return typeof value === 'object' && value !== null ? undefined : value;
  };
}

export function groupAttributes(group: GroupView): Attributes {
  return (attribute) => {
    if (attribute === 'profile.name') return group.name;
    if (attribute === 'profile.description') return group.description;
    return (group as unknown as Record<string, Literal | undefined>)[attribute];
  };
}

function criteriaOf(
  query: CollectionQuery,
  qAttributes: readonly string[],
  filterRules: CriteriaRules,
  searchRules: CriteriaRules,
): Criteria | undefined {
  return bothCriteria(
    bothCriteria(
      query.q === undefined || query.q === '' ? undefined : prefixCriteria(query.q, qAttributes),
      query.filter === undefined ? undefined : parseCriteria(query.filter, filterRules),
    ),
    query.search === undefined ? undefined : parseCriteria(query.search, searchRules),
  );
}

/** `q` on users: Okta's startsWith over login, email, first and last name. */
const userQAttributes = ['profile.login', 'profile.email', 'profile.firstName', 'profile.lastName'];

export function userIndexes(tenant: string): Indexes {
  return {
    keyOf: (attribute) =>
      attribute in userIndexedAttributes ? keys.userIndex(tenant, attribute) : undefined,
    kindOf: userKind,
    byId: keys.userIndex(tenant, 'id'),
  };
}

export function groupIndexes(tenant: string): Indexes {
  return {
    keyOf: (attribute) =>
      attribute in groupIndexedAttributes ? keys.groupIndex(tenant, attribute) : undefined,
    kindOf: groupKind,
    byId: keys.groupIndex(tenant, 'id'),
  };
}

export const loadUsers =
  (store: ProjectionStore, tenant: string) => async (ids: readonly string[]) =>
    (
      await store.read(ids.map((id) => ({ op: 'hgetall' as const, key: keys.user(tenant, id) })))
    ).map((fields) => userViewOf(fields));

const loadGroups = (store: ProjectionStore, tenant: string) => async (ids: readonly string[]) =>
  (
    await store.read(ids.map((id) => ({ op: 'hgetall' as const, key: keys.group(tenant, id) })))
  ).map((fields) => groupViewOf(fields));

/** A page of a tenant's users; InvalidCriteriaError, InvalidCursorError on bad parameters. */
export function listUsers(
  store: ProjectionStore,
  tenant: string,
  query: CollectionQuery,
): Promise<Page<UserView>> {
  const criteria = criteriaOf(query, userQAttributes, userFilterRules, userSearchRules);
  return readPage(store, {
    branches: plan(criteria, userIndexes(tenant)),
    limit: query.limit,
    ...(query.after === undefined ? {} : { after: query.after }),
    load: loadUsers(store, tenant),
    attributesOf: userAttributes,
  });
}

/** A page of a tenant's groups (`q`: a prefix of the name). */
export function listGroups(
  store: ProjectionStore,
  tenant: string,
  query: CollectionQuery,
): Promise<Page<GroupView>> {
  const criteria = criteriaOf(query, ['profile.name'], groupFilterRules, groupSearchRules);
  return readPage(store, {
    branches: plan(criteria, groupIndexes(tenant)),
    limit: query.limit,
    ...(query.after === undefined ? {} : { after: query.after }),
    load: loadGroups(store, tenant),
    attributesOf: groupAttributes,
  });
}

/** A page of a group's members by id; Everyone's members are every user. */
export function listGroupMembers(
  store: ProjectionStore,
  tenant: string,
  group: GroupView,
  page: { limit: number; after?: string },
): Promise<Page<UserView>> {
  const key =
    group.type === 'BUILT_IN'
      ? keys.userIndex(tenant, 'id')
      : keys.groupMemberIndex(tenant, group.id);
  return readPage(store, {
    branches: [{ source: { key, min: null, max: null } }],
    limit: page.limit,
    ...(page.after === undefined ? {} : { after: page.after }),
    load: loadUsers(store, tenant),
    attributesOf: userAttributes,
  });
}
