// The per-tenant groups API, in Okta's shapes (SPEC section 3):
//   GET /api/v1/groups?q=&filter=&search=&limit=&after=    (collection-paging.ts)
//   POST /api/v1/groups {profile: {name, description}}     GET /api/v1/groups/{gid}
//   PUT|DELETE /api/v1/groups/{gid} (replace profile, delete)
//   PUT|DELETE /api/v1/groups/{gid}/users/{uid}            GET /api/v1/groups/{gid}/users
//   GET /api/v1/users/{id}/groups (Everyone included)
import {
  DomainError,
  decideGroup,
  decodeCursor,
  encodeCursor,
  type GroupState,
  type GroupView,
  groupViewOf,
  idPattern,
  keys,
  listGroupMembers,
  listGroups,
  loginKey,
  newId,
  orgBaseUrl,
  readStreams,
  type StreamType,
  streams,
  type TenancyConfig,
  type UserState,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter } from '../../directory-writer.js';
import {
  pageOrBadRequest,
  pageSizes,
  readCollectionQuery,
  readLimit,
  setPageLinks,
} from '../collection-paging.js';
import { loadCustomSchema } from '../schemas/user-schema.js';
import { presentUser } from '../users/present.js';

export interface GroupRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
}

export function groupRoutes({ store, writer, tenancy }: GroupRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const present = (tenant: string, group: GroupView) => ({
    id: group.id,
    created: group.created,
    lastUpdated: group.lastUpdated,
    lastMembershipUpdated: group.lastMembershipUpdated,
    objectClass: ['okta:user_group'],
    type: group.type,
    profile: { name: group.name, description: group.description },
    _links: { self: { href: `${orgBaseUrl(tenancy, tenant)}/api/v1/groups/${group.id}` } },
  });
  const loadGroup = async (tenant: string, id: string) =>
    idPattern.test(id) ? groupViewOf(await store.hgetall(keys.group(tenant, id))) : undefined;
  const mustLoadGroup = async (ctx: Context) => {
    const group = await loadGroup(tenantOf(ctx), ctx.params.gid!);
    if (!group) throw OktaApiError.notFound('UserGroup', ctx.params.gid!);
    return group;
  };
  const loadUserId = async (tenant: string, idOrLogin: string) => {
    const id = idPattern.test(idOrLogin)
      ? idOrLogin
      : await store.get(keys.userByLogin(tenant, loginKey(idOrLogin)));
    return id && (await store.read([{ op: 'exists', key: keys.user(tenant, id) }]))[0]
      ? id
      : undefined;
  };

  router.post('/groups', async (ctx) => {
    const tenant = tenantOf(ctx);
    const profile = readGroupProfile(await readJsonObject(ctx));
    const id = newId('00g');
    const { name } = profile;
    await writer.run(tenant, ctx.state.requestId as string, undefined, async (reads) => {
      const [group, holder] = await readStreams(reads, [
        streams.group(id),
        streams.groupName(name),
      ]);
      const events = decideGroup(
        {
          kind: 'CreateGroup',
          id,
          name,
          description: profile.description,
        },
        group,
      );
      if (holder !== null) throw nameTaken();
      return changesOf(id, events);
    });
    ctx.body = present(tenant, (await loadGroup(tenant, id))!);
  });

  router.get('/groups', async (ctx) => {
    const tenant = tenantOf(ctx);
    const query = readCollectionQuery(ctx, pageSizes.groups);
    const page = await pageOrBadRequest(() => listGroups(store, tenant, query));
    setPageLinks(ctx, tenancy, tenant, query.limit, page.next);
    ctx.body = page.items.map((group) => present(tenant, group));
  });

  router.get('/groups/:gid', async (ctx) => {
    ctx.body = present(tenantOf(ctx), await mustLoadGroup(ctx));
  });

  // PUT replaces the group's profile (name unique as on creation); Everyone cannot be changed.
  router.put('/groups/:gid', async (ctx) => {
    const tenant = tenantOf(ctx);
    const { id } = await mustLoadGroup(ctx);
    const profile = readGroupProfile(await readJsonObject(ctx));
    await writer.run(tenant, ctx.state.requestId as string, `group/${id}`, async (reads) => {
      const [group, holder] = await readStreams(reads, [
        streams.group(id),
        streams.groupName(profile.name),
      ]);
      const events = decideGroup({ kind: 'ReplaceGroupProfile', id, ...profile }, group);
      if (holder !== null && holder !== id) throw nameTaken();
      return changesOf(id, events);
    });
    ctx.body = present(tenant, (await loadGroup(tenant, id))!);
  });

  // DELETE ends the group's memberships and app assignments with it (Okta); Everyone stays.
  router.delete('/groups/:gid', async (ctx) => {
    const tenant = tenantOf(ctx);
    const { id } = await mustLoadGroup(ctx);
    await writer.run(tenant, ctx.state.requestId as string, `group/${id}`, async (reads) => {
      // Who and what to release, as the read model lists them, confirmed on the write model's
      // streams (whose versions the command is admitted on).
      const [memberIds, appIds] = await Promise.all([
        store.smembers(keys.groupMembers(tenant, id)),
        store.smembers(keys.groupApps(tenant, id)),
      ]);
      const [group, ...states] = await readStreams(reads, [
        streams.group(id),
        ...memberIds.map((userId) => streams.user(userId)),
        ...appIds.map((clientId) => streams.appGroup(clientId, id)),
      ] as StreamType<unknown>[]);
      const users = states.slice(0, memberIds.length) as UserState[];
      const assigned = states.slice(memberIds.length) as boolean[];
      const members = memberIds.filter((_, i) => {
        const user = users[i]!;
        return user.status !== 'NONE' && user.groups.includes(id);
      });
      const events = decideGroup({ kind: 'DeleteGroup', id, members }, group as GroupState);
      const unassigned = appIds.flatMap((clientId, i) =>
        assigned[i]
          ? [
              {
                aggregateId: clientId,
                event: {
                  type: 'gatehouse.events.v1.AppGroupUnassigned' as const,
                  data: { groupId: id },
                },
              },
            ]
          : [],
      );
      return [...unassigned, ...changesOf(id, events)];
    });
    ctx.status = 204;
  });

  router.get('/groups/:gid/users', async (ctx) => {
    const tenant = tenantOf(ctx);
    const group = await mustLoadGroup(ctx);
    const query = readCollectionQuery(ctx, pageSizes.groupMembers);
    const page = await pageOrBadRequest(() =>
      listGroupMembers(store, tenant, group, {
        limit: query.limit,
        ...(query.after === undefined ? {} : { after: query.after }),
      }),
    );
    setPageLinks(ctx, tenancy, tenant, query.limit, page.next);
    const schema = await loadCustomSchema(store, tenant);
    ctx.body = page.items.map((user) => presentUser(tenancy, tenant, user, schema));
  });

  for (const [method, kind] of [
    ['put', 'AddGroupMember'],
    ['delete', 'RemoveGroupMember'],
  ] as const) {
    router[method]('/groups/:gid/users/:uid', async (ctx) => {
      const tenant = tenantOf(ctx);
      const group = await mustLoadGroup(ctx);
      const userId = await loadUserId(tenant, ctx.params.uid!);
      if (!userId) throw OktaApiError.notFound('User', ctx.params.uid!);
      // Decided on the group and on the user, whose state lists its groups (see decideGroup).
      await writer.run(tenant, ctx.state.requestId as string, `user/${userId}`, async (reads) => {
        const [current, user] = await readStreams(reads, [
          streams.group(group.id),
          streams.user(userId),
        ]);
        return changesOf(group.id, decideGroup({ kind, id: group.id, userId }, current, user));
      });
      ctx.status = 204;
    });
  }

  router.get('/users/:id/groups', async (ctx) => {
    const tenant = tenantOf(ctx);
    const userId = await loadUserId(tenant, ctx.params.id!);
    if (!userId) throw OktaApiError.notFound('User', ctx.params.id!);
    const limit = readLimit(ctx, pageSizes.userGroups);
    // A user's groups are few (a set per user): Everyone first, then by id, paged in memory.
    const everyone = await store.hget(keys.tenant(tenant), 'everyoneGroupId');
    const ids = [
      ...(everyone ? [everyone] : []),
      ...(await store.smembers(keys.userGroups(tenant, userId))).sort(),
    ];
    const after = ctx.query.after;
    let start = 0;
    if (after !== undefined) {
      const cursor = await pageOrBadRequest(async () =>
        decodeCursor(typeof after === 'string' ? after : '', 1),
      );
      start = ids.indexOf(cursor.m) + 1;
      if (start === 0) start = ids.filter((id) => id !== everyone && id <= cursor.m).length + 1;
    }
    const slice = ids.slice(start, start + limit);
    const groups = await store.read(
      slice.map((id) => ({ op: 'hgetall' as const, key: keys.group(tenant, id) })),
    );
    const next =
      start + limit < ids.length ? encodeCursor({ b: 0, m: slice[slice.length - 1]! }) : undefined;
    setPageLinks(ctx, tenancy, tenant, limit, next);
    ctx.body = groups.map(groupViewOf).flatMap((group) => (group ? [present(tenant, group)] : []));
  });

  return router;
}

const nameTaken = () =>
  DomainError.invalid([
    {
      field: 'profile.name',
      message: 'An object with this field already exists in the current organization',
    },
  ]);

/** A group profile from a request body: `{profile: {name, description?}}`, nothing else. */
function readGroupProfile(body: Record<string, unknown>): { name: string; description: string } {
  const profile = body.profile as Record<string, unknown> | undefined;
  const problems = [];
  if (!profile || typeof profile !== 'object' || Array.isArray(profile))
    problems.push({ field: 'profile', message: 'must be an object' });
  else {
    if (typeof profile.name !== 'string')
      problems.push({ field: 'profile.name', message: 'must be a string' });
    if (profile.description !== undefined && typeof profile.description !== 'string')
      problems.push({ field: 'profile.description', message: 'must be a string' });
    for (const key of Object.keys(profile)) {
      if (key !== 'name' && key !== 'description')
        problems.push({
          field: `profile.${key}`,
          message: `Property name '${key}' is not defined in profile`,
        });
    }
  }
  if (problems.length > 0) throw OktaApiError.validation(problems);
  return {
    name: profile!.name as string,
    description: (profile!.description as string | undefined) ?? '',
  };
}
