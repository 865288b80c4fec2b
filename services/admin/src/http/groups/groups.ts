// The per-tenant groups API, in Okta's shapes (SPEC section 3):
//   POST /api/v1/groups {profile: {name, description}}     GET /api/v1/groups/{gid}
//   PUT|DELETE /api/v1/groups/{gid}/users/{uid}            GET /api/v1/groups/{gid}/users
//   GET /api/v1/users/{id}/groups (Everyone included)
import {
  DomainError,
  decideGroup,
  type GroupView,
  groupViewOf,
  idPattern,
  keys,
  loginKey,
  newId,
  orgBaseUrl,
  readStreams,
  streams,
  type TenancyConfig,
  userViewOf,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter } from '../../directory-writer.js';
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
    const body = await readJsonObject(ctx);
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
    const id = newId('00g');
    const name = profile!.name as string;
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
          description: (profile!.description as string | undefined) ?? '',
        },
        group,
      );
      if (holder !== null)
        throw DomainError.invalid([
          {
            field: 'profile.name',
            message: 'An object with this field already exists in the current organization',
          },
        ]);
      return changesOf(id, events);
    });
    ctx.body = present(tenant, (await loadGroup(tenant, id))!);
  });

  router.get('/groups/:gid', async (ctx) => {
    ctx.body = present(tenantOf(ctx), await mustLoadGroup(ctx));
  });

  router.get('/groups/:gid/users', async (ctx) => {
    const tenant = tenantOf(ctx);
    const group = await mustLoadGroup(ctx);
    const ids = (
      await store.smembers(
        group.type === 'BUILT_IN' ? keys.users(tenant) : keys.groupMembers(tenant, group.id),
      )
    ).sort();
    const users = await store.read(
      ids.map((id) => ({ op: 'hgetall' as const, key: keys.user(tenant, id) })),
    );
    ctx.body = users
      .map(userViewOf)
      .flatMap((user) => (user ? [presentUser(tenancy, tenant, user)] : []));
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
    const everyone = await store.hget(keys.tenant(tenant), 'everyoneGroupId');
    const ids = [
      ...(everyone ? [everyone] : []),
      ...(await store.smembers(keys.userGroups(tenant, userId))).sort(),
    ];
    const groups = await store.read(
      ids.map((id) => ({ op: 'hgetall' as const, key: keys.group(tenant, id) })),
    );
    ctx.body = groups.map(groupViewOf).flatMap((group) => (group ? [present(tenant, group)] : []));
  });

  return router;
}
