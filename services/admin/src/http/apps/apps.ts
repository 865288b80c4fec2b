// Okta's Apps API: the tenant's OAuth clients as `oidc_client` apps (the same clients as
// /oauth2/v1/clients), their lifecycle and who is assigned to them. Per tenant, under {org}:
//   POST|GET /api/v1/apps                      GET|PUT|DELETE /api/v1/apps/{appId}
//   POST /api/v1/apps/{appId}/lifecycle/{activate|deactivate}
//   POST|GET /api/v1/apps/{appId}/users        GET|PUT|DELETE /api/v1/apps/{appId}/users/{userId}
//   GET /api/v1/apps/{appId}/groups            GET|PUT|DELETE /api/v1/apps/{appId}/groups/{groupId}
import {
  type ClientView,
  clientViewOf,
  DomainError,
  groupViewOf,
  idPattern,
  keys,
  newId,
  orgBaseUrl,
  readClientMetadata,
  readPage,
  type TenancyConfig,
  userViewOf,
  usesClientSecret,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { KeyEncryptionKeys } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectoryWriter } from '../../directory-writer.js';
import { clientCommands } from '../clients/client-commands.js';
import {
  pageOrBadRequest,
  pageSizes,
  readCollectionQuery,
  setPageLinks,
} from '../collection-paging.js';
import { appProblems, presentApp, registrationOf } from './oidc-app.js';

export interface AppRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
  /** Seals new client secrets (see `newClientSecret`). */
  keks: KeyEncryptionKeys;
}

export function appRoutes({ store, writer, tenancy, keks }: AppRoutesDeps): Router {
  const router = new Router();
  const { tenantOf, load, mustLoad, run, assign, userIdOf, newSecret } = clientCommands({
    store,
    writer,
    keks,
  });
  const orgBase = (ctx: Context) => orgBaseUrl(tenancy, tenantOf(ctx));
  const present = (ctx: Context, client: ClientView, secret?: string) =>
    presentApp(client, orgBase(ctx), secret);

  /** The client metadata an app body stands for, or 400 E0000001 naming the app's fields. */
  const metadataOf = async (ctx: Context, current?: ClientView) => {
    const body = await readJsonObject(ctx);
    const { registration, problems } = registrationOf(body, {
      // Seed 001: apps created here default to TRUSTED consent.
      consentMethod: current?.metadata.consentMethod ?? 'TRUSTED',
      ...(current ? { id: current.id } : {}),
    });
    if (!registration) throw OktaApiError.validation(problems);
    const read = readClientMetadata(registration);
    if (!read.metadata) throw OktaApiError.validation(appProblems(read.problems));
    return read.metadata;
  };

  router.post('/api/v1/apps', async (ctx) => {
    const metadata = await metadataOf(ctx);
    const id = newId('0oa');
    // A private_key_jwt app authenticates with its keys: it gets no secret, as a public one.
    const secret = usesClientSecret(metadata) ? newSecret(ctx, id) : undefined;
    await run(ctx, id, {
      kind: 'RegisterClient',
      id,
      metadata,
      secretSha256: secret?.sha256 ?? '',
      secretSealed: secret?.sealed,
    });
    // Okta activates a new app unless told `activate=false`.
    if (ctx.query.activate === 'false') await run(ctx, id, { kind: 'DeactivateClient', id });
    ctx.body = present(ctx, (await load(tenantOf(ctx), id))!, secret?.secret);
  });

  // Pages of ordered indexes (by id): a page reads about `limit` entries whatever the tenant holds;
  // with `q` or `filter`, at most the scan budget of entries, and a short page still links on.
  router.get('/api/v1/apps', async (ctx) => {
    const tenant = tenantOf(ctx);
    const { limit, after } = readCollectionQuery(ctx, pageSizes.apps);
    const matches = appMatcher(ctx);
    ctx.body = await listed(ctx, keys.clientIndex(tenant), limit, after, async (batch) => {
      const hashes = await store.read(
        batch.map((id) => ({ op: 'hgetall', key: keys.client(tenant, id) }) as const),
      );
      const clients = hashes.map((fields) => clientViewOf(fields));
      const assigned = await matches.assignments(tenant, batch);
      return clients.map((client, i) =>
        client && matches.app(client) && assigned[i] ? present(ctx, client) : undefined,
      );
    });
  });

  router.get('/api/v1/apps/:clientId', async (ctx) => {
    ctx.body = present(ctx, await mustLoad(ctx));
  });

  router.put('/api/v1/apps/:clientId', async (ctx) => {
    const client = await mustLoad(ctx);
    const metadata = await metadataOf(ctx, client);
    try {
      await run(ctx, client.id, { kind: 'UpdateClient', id: client.id, metadata });
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'invalid')
        throw OktaApiError.validation(appProblems(error.problems));
      throw error;
    }
    ctx.body = present(ctx, (await load(tenantOf(ctx), client.id))!);
  });

  router.delete('/api/v1/apps/:clientId', async (ctx) => {
    const client = await mustLoad(ctx);
    // Okta deletes only deactivated apps; decided on the app's state in log order.
    await run(ctx, client.id, { kind: 'DeleteClient', id: client.id }, (state) => {
      if (state.status === 'ACTIVE')
        throw new OktaApiError(403, 'E0000056', 'Delete application forbidden.', [
          { errorSummary: 'The app is active: deactivate it before deleting it.' },
        ]);
    });
    ctx.status = 204;
  });

  router.post('/api/v1/apps/:clientId/lifecycle/:action', async (ctx) => {
    const kind = ({ activate: 'ActivateClient', deactivate: 'DeactivateClient' } as const)[
      ctx.params.action as 'activate'
    ];
    if (!kind) throw OktaApiError.pathNotFound();
    const client = await mustLoad(ctx);
    await run(ctx, client.id, { kind, id: client.id });
    ctx.body = {};
  });

  // --- users assigned to an app ---

  /** An app user (Okta's shape) for a user assigned directly (USER) or through a group (GROUP). */
  const presentAppUser = async (ctx: Context, clientId: string, userId: string, scope: string) => {
    const user = userViewOf(await store.hgetall(keys.user(tenantOf(ctx), userId)));
    if (!user) return undefined;
    const base = orgBase(ctx);
    return {
      id: user.id,
      externalId: null,
      created: user.created,
      lastUpdated: user.lastUpdated,
      scope,
      status: 'ACTIVE',
      statusChanged: user.statusChanged,
      passwordChanged: user.passwordChanged,
      syncState: 'DISABLED',
      credentials: { userName: user.profile.login },
      profile: {},
      _links: {
        app: { href: `${base}/api/v1/apps/${clientId}` },
        user: { href: `${base}/api/v1/users/${user.id}` },
      },
    };
  };
  const assignUser = async (ctx: Context, idOrLogin: string) => {
    const client = await mustLoad(ctx);
    const userId = await userIdOf(tenantOf(ctx), idOrLogin);
    await assign(ctx, client.id, { kind: 'AssignUser', id: client.id, userId });
    ctx.body = await presentAppUser(ctx, client.id, userId, 'USER');
  };

  // Okta's assignment: the user's id in the body; app-specific credentials and profile are not
  // kept (the user's login is the app user name).
  router.post('/api/v1/apps/:clientId/users', async (ctx) => {
    const body = await readJsonObject(ctx);
    const problems = [];
    if (typeof body.id !== 'string' || body.id === '')
      problems.push({ field: 'id', message: "'id' is required: the id of the user to assign" });
    if (body.scope !== undefined && body.scope !== 'USER')
      problems.push({ field: 'scope', message: "'scope' must be USER" });
    if (problems.length > 0) throw OktaApiError.validation(problems);
    await assignUser(ctx, body.id as string);
  });

  router.put('/api/v1/apps/:clientId/users/:userId', async (ctx) => {
    await assignUser(ctx, ctx.params.userId!);
  });

  // The users assigned directly (through a group they are not listed: that set may be everyone).
  router.get('/api/v1/apps/:clientId/users', async (ctx) => {
    const client = await mustLoad(ctx);
    const { limit, after } = readCollectionQuery(ctx, pageSizes.appUsers);
    const index = keys.appUserIndex(tenantOf(ctx), client.id);
    ctx.body = await listed(ctx, index, limit, after, (batch) =>
      Promise.all(batch.map((id) => presentAppUser(ctx, client.id, id, 'USER'))),
    );
  });

  router.get('/api/v1/apps/:clientId/users/:userId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const client = await mustLoad(ctx);
    const userId = await userIdOf(tenant, ctx.params.userId!);
    const scope = await assignmentScope(store, tenant, client.id, userId);
    const appUser = scope && (await presentAppUser(ctx, client.id, userId, scope));
    if (!appUser) throw OktaApiError.notFound('AppUser', ctx.params.userId!);
    ctx.body = appUser;
  });

  router.delete('/api/v1/apps/:clientId/users/:userId', async (ctx) => {
    const client = await mustLoad(ctx);
    await assign(ctx, client.id, {
      kind: 'UnassignUser',
      id: client.id,
      userId: await userIdOf(tenantOf(ctx), ctx.params.userId!),
    });
    ctx.status = 204;
  });

  // --- groups assigned to an app ---

  const presentAppGroup = async (ctx: Context, clientId: string, groupId: string) => {
    const group = groupViewOf(await store.hgetall(keys.group(tenantOf(ctx), groupId)));
    if (!group) return undefined;
    const base = orgBase(ctx);
    return {
      id: group.id,
      lastUpdated: group.lastUpdated,
      priority: 0,
      profile: {},
      _links: {
        app: { href: `${base}/api/v1/apps/${clientId}` },
        group: { href: `${base}/api/v1/groups/${group.id}` },
      },
    };
  };

  router.get('/api/v1/apps/:clientId/groups', async (ctx) => {
    const client = await mustLoad(ctx);
    const { limit, after } = readCollectionQuery(ctx, pageSizes.appGroups);
    const index = keys.appGroupIndex(tenantOf(ctx), client.id);
    ctx.body = await listed(ctx, index, limit, after, (batch) =>
      Promise.all(batch.map((id) => presentAppGroup(ctx, client.id, id))),
    );
  });

  router.get('/api/v1/apps/:clientId/groups/:groupId', async (ctx) => {
    const client = await mustLoad(ctx);
    const groupId = ctx.params.groupId!;
    const assigned =
      idPattern.test(groupId) &&
      (await store.sismember(keys.appGroups(tenantOf(ctx), client.id), groupId));
    const appGroup = assigned && (await presentAppGroup(ctx, client.id, groupId));
    if (!appGroup) throw OktaApiError.notFound('ApplicationGroupAssignment', groupId);
    ctx.body = appGroup;
  });

  router.put('/api/v1/apps/:clientId/groups/:groupId', async (ctx) => {
    const client = await mustLoad(ctx);
    const groupId = ctx.params.groupId!;
    const [exists] = await store.read([{ op: 'exists', key: keys.group(tenantOf(ctx), groupId) }]);
    if (!idPattern.test(groupId) || !exists) throw OktaApiError.notFound('UserGroup', groupId);
    await assign(ctx, client.id, { kind: 'AssignGroup', id: client.id, groupId });
    ctx.body = await presentAppGroup(ctx, client.id, groupId);
  });

  router.delete('/api/v1/apps/:clientId/groups/:groupId', async (ctx) => {
    const client = await mustLoad(ctx);
    await assign(ctx, client.id, {
      kind: 'UnassignGroup',
      id: client.id,
      groupId: ctx.params.groupId!,
    });
    ctx.status = 204;
  });

  /**
   * A page of the ids in an ordered index, each shown by `show` (undefined: skipped, as gone or
   * not matching), with its Link headers.
   */
  const listed = async <T>(
    ctx: Context,
    index: string,
    limit: number,
    after: string | undefined,
    show: (ids: readonly string[]) => Promise<(T | undefined)[]>,
  ): Promise<T[]> => {
    const page = await pageOrBadRequest(() =>
      readPage(store, {
        branches: [{ source: { key: index, min: null, max: null } }],
        limit,
        ...(after === undefined ? {} : { after }),
        load: show,
      }),
    );
    setPageLinks(ctx, tenancy, tenantOf(ctx), limit, page.next);
    return page.items;
  };

  /** What `filter` and `q` of the apps list ask for. */
  const appMatcher = (ctx: Context) => {
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.toLowerCase() : '';
    const filter = readAppFilter(ctx.query.filter);
    return {
      app: (client: ClientView) =>
        (q === '' ||
          client.metadata.clientName.toLowerCase().startsWith(q) ||
          'oidc_client'.startsWith(q)) &&
        (filter.status === undefined || client.status === filter.status) &&
        (filter.name === undefined || filter.name === 'oidc_client'),
      /** Per app of `batch`, whether it has the assignment the filter asks for (if any). */
      assignments: async (tenant: string, batch: readonly string[]): Promise<boolean[]> => {
        if (filter.userId === undefined && filter.groupId === undefined)
          return batch.map(() => true);
        return store.read(
          batch.map((id) =>
            filter.userId !== undefined
              ? ({
                  op: 'sismember',
                  key: keys.appUsers(tenant, id),
                  member: filter.userId,
                } as const)
              : ({
                  op: 'sismember',
                  key: keys.appGroups(tenant, id),
                  member: filter.groupId!,
                } as const),
          ),
        );
      },
    };
  };

  return router;
}

/**
 * Okta's apps filter: `status eq "ACTIVE"`, `name eq "oidc_client"`, `user.id eq "..."`,
 * `group.id eq "..."`, joined by `and`. Anything else is 400 E0000031.
 */
function readAppFilter(raw: unknown): {
  status?: string;
  name?: string;
  userId?: string;
  groupId?: string;
} {
  if (raw === undefined || raw === '') return {};
  const invalid = () =>
    new OktaApiError(400, 'E0000031', 'Invalid search criteria.', [
      {
        errorSummary:
          'filter: supported are status eq "ACTIVE"|"INACTIVE", name eq "...", user.id eq "...", group.id eq "...", joined by and',
      },
    ]);
  if (typeof raw !== 'string' || raw.length > 1000) throw invalid();
  const filter: { status?: string; name?: string; userId?: string; groupId?: string } = {};
  for (const clause of raw.trim().split(/\s+and\s+/i)) {
    const match = /^(status|name|user\.id|group\.id)\s+eq\s+"([^"]*)"$/i.exec(clause.trim());
    if (!match) throw invalid();
    const [, attribute, value] = match;
    switch (attribute!.toLowerCase()) {
      case 'status':
        if (value !== 'ACTIVE' && value !== 'INACTIVE') throw invalid();
        filter.status = value;
        break;
      case 'name':
        filter.name = value!;
        break;
      case 'user.id':
        filter.userId = value!;
        break;
      case 'group.id':
        filter.groupId = value!;
        break;
    }
  }
  return filter;
}

/** USER when assigned directly, GROUP when through one of the user's groups, else undefined. */
async function assignmentScope(
  store: ProjectionStore,
  tenant: string,
  clientId: string,
  userId: string,
): Promise<'USER' | 'GROUP' | undefined> {
  const [direct, groupIds] = await store.read([
    { op: 'sismember', key: keys.appUsers(tenant, clientId), member: userId },
    { op: 'smembers', key: keys.appGroups(tenant, clientId) },
  ] as const);
  if (direct) return 'USER';
  if (groupIds.length === 0) return undefined;
  // Everyone (built in) holds every user; other groups list their members.
  const found = await store.read(
    groupIds.flatMap((groupId) => [
      { op: 'hget', key: keys.group(tenant, groupId), field: 'type' } as const,
      { op: 'sismember', key: keys.groupMembers(tenant, groupId), member: userId } as const,
    ]),
  );
  for (let i = 0; i < groupIds.length; i++)
    if (found[2 * i] === 'BUILT_IN' || found[2 * i + 1] === true) return 'GROUP';
  return undefined;
}
