// The per-tenant users API, in Okta's shapes (SPEC section 3):
//   POST   /api/v1/users?activate=true|false   {profile, credentials: {password: {value}}}
//   GET    /api/v1/users?q=&filter=&search=&limit=&after=  (collection-paging.ts)
//   GET    /api/v1/users/{id|login}            POST /api/v1/users/{id} {profile} (partial update)
//   POST   /api/v1/users/{id}/lifecycle/{activate|deactivate|suspend|unsuspend}
//   DELETE /api/v1/users/{id}                  (deactivated users; on others it deactivates)
import {
  checkPasswordPolicy,
  DomainError,
  decideUser,
  hashPassword,
  idPattern,
  keys,
  listUsers,
  loginKey,
  newId,
  readProfile,
  readStreams,
  type ScryptCost,
  streams,
  type TenancyConfig,
  type UserCommand,
  type UserView,
  userViewOf,
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
  setPageLinks,
} from '../collection-paging.js';
import { loadCustomSchema } from '../schemas/user-schema.js';
import { presentUser } from './present.js';

const loginTaken = () =>
  DomainError.invalid([
    {
      field: 'login',
      message: 'An object with this field already exists in the current organization',
    },
  ]);

export interface UserRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
  scryptCost?: ScryptCost;
}

export function userRoutes({ store, writer, tenancy, scryptCost }: UserRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/users' });
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const loadById = async (tenant: string, id: string) =>
    idPattern.test(id) ? userViewOf(await store.hgetall(keys.user(tenant, id))) : undefined;
  const load = async (tenant: string, idOrLogin: string): Promise<UserView | undefined> => {
    const byId = await loadById(tenant, idOrLogin);
    if (byId) return byId;
    const id = await store.get(keys.userByLogin(tenant, loginKey(idOrLogin)));
    return id ? loadById(tenant, id) : undefined;
  };
  const mustLoad = async (ctx: Context) => {
    const user = await load(tenantOf(ctx), ctx.params.id!);
    if (!user) throw OktaApiError.notFound('User', ctx.params.id!);
    return user;
  };
  const present = async (tenant: string, user: UserView) =>
    presentUser(tenancy, tenant, user, await loadCustomSchema(store, tenant));
  /** A command on one user, decided on its state in the write model. */
  const run = (ctx: Context, id: string, command: UserCommand) =>
    writer.run(tenantOf(ctx), ctx.state.requestId as string, `user/${id}`, async (reads) => {
      const [user] = await readStreams(reads, [streams.user(id)]);
      return changesOf(id, decideUser(command, user));
    });

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const activate =
      ctx.query.activate === undefined ? true : parseBoolean(ctx.query.activate, 'activate');
    const body = await readJsonObject(ctx);
    const unknown = Object.keys(body).filter(
      (key) => key !== 'profile' && key !== 'credentials' && key !== 'type',
    );
    // Checked on the schema the read models have, for the password policy's sake; again below on
    // the schema as the write model has it when the command is decided.
    const { profile, problems } = readProfile(
      body.profile,
      undefined,
      await loadCustomSchema(store, tenant),
    );
    const password = readPassword(body.credentials);
    const all = [
      ...unknown.map((field) => ({ field, message: 'is not a known property' })),
      ...problems,
      ...password.problems,
    ];
    if (profile && password.value !== undefined)
      all.push(...checkPasswordPolicy(password.value, profile.login));
    if (all.length > 0 || !profile) throw OktaApiError.validation(all);
    const passwordHash =
      password.value === undefined ? undefined : await hashPassword(password.value, scryptCost);
    const id = newId('00u');
    await writer.run(tenant, ctx.state.requestId as string, undefined, async (reads) => {
      const [user, holder, schema] = await readStreams(reads, [
        streams.user(id),
        streams.login(profile.login),
        streams.userSchema(),
      ]);
      if (holder !== null) throw loginTaken();
      const checked = readProfile(body.profile, undefined, schema);
      if (!checked.profile) throw OktaApiError.validation(checked.problems);
      return changesOf(
        id,
        decideUser(
          { kind: 'CreateUser', id, profile: checked.profile, passwordHash, activate },
          user,
        ),
      );
    });
    ctx.body = await present(tenant, (await loadById(tenant, id))!);
  });

  router.get('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const query = readCollectionQuery(ctx, pageSizes.users);
    const page = await pageOrBadRequest(() => listUsers(store, tenant, query));
    setPageLinks(ctx, tenancy, tenant, query.limit, page.next);
    const schema = await loadCustomSchema(store, tenant);
    ctx.body = page.items.map((user) => presentUser(tenancy, tenant, user, schema));
  });

  router.get('/:id', async (ctx) => {
    ctx.body = await present(tenantOf(ctx), await mustLoad(ctx));
  });

  router.post('/:id', async (ctx) => {
    const tenant = tenantOf(ctx);
    const user = await mustLoad(ctx);
    const body = await readJsonObject(ctx);
    const unknown = Object.keys(body).filter((key) => key !== 'profile');
    if (unknown.length > 0 || body.profile === undefined) {
      throw OktaApiError.validation([
        ...unknown.map((field) => ({
          field,
          message: 'cannot be changed here; only profile attributes can',
        })),
        ...(body.profile === undefined ? [{ field: 'profile', message: 'is required' }] : []),
      ]);
    }
    // A partial update: the attributes given, merged into the profile as the write model has it now
    // (again on every attempt, so that concurrent updates of other attributes are all kept).
    const id = user.id;
    await writer.run(tenant, ctx.state.requestId as string, `user/${id}`, async (reads) => {
      const [current, schema] = await readStreams(reads, [streams.user(id), streams.userSchema()]);
      if (current.status === 'NONE') throw OktaApiError.notFound('User', id);
      const { profile, problems } = readProfile(body.profile, current.profile, schema);
      if (!profile) throw OktaApiError.validation(problems);
      if (loginKey(profile.login) !== loginKey(current.profile.login)) {
        const [holder] = await readStreams(reads, [streams.login(profile.login)]);
        if (holder !== null && holder !== id) throw loginTaken();
      }
      return changesOf(id, decideUser({ kind: 'UpdateUserProfile', id, profile }, current));
    });
    ctx.body = await present(tenant, (await loadById(tenant, id))!);
  });

  // PUT replaces the whole profile (Okta: attributes left out are removed; login and the other
  // required ones must be given). Read-only fields an SDK sends back with the user are ignored.
  router.put('/:id', async (ctx) => {
    const tenant = tenantOf(ctx);
    const user = await mustLoad(ctx);
    const body = await readJsonObject(ctx);
    const credentials = body.credentials as Record<string, unknown> | undefined;
    const problems = [
      ...(body.profile === undefined ? [{ field: 'profile', message: 'is required' }] : []),
      ...(credentials && typeof credentials === 'object'
        ? Object.keys(credentials)
            .filter((key) => key !== 'provider')
            .map((key) => ({
              field: `credentials.${key}`,
              message: 'cannot be changed here; use the credentials operations',
            }))
        : []),
    ];
    if (problems.length > 0) throw OktaApiError.validation(problems);
    const id = user.id;
    await writer.run(tenant, ctx.state.requestId as string, `user/${id}`, async (reads) => {
      const [current, schema] = await readStreams(reads, [streams.user(id), streams.userSchema()]);
      if (current.status === 'NONE') throw OktaApiError.notFound('User', id);
      const { profile, problems: invalid } = readProfile(body.profile, undefined, schema);
      if (!profile) throw OktaApiError.validation(invalid);
      if (loginKey(profile.login) !== loginKey(current.profile.login)) {
        const [holder] = await readStreams(reads, [streams.login(profile.login)]);
        if (holder !== null && holder !== id) throw loginTaken();
      }
      return changesOf(id, decideUser({ kind: 'UpdateUserProfile', id, profile }, current));
    });
    ctx.body = await present(tenant, (await loadById(tenant, id))!);
  });

  const lifecycle = {
    activate: 'ActivateUser',
    deactivate: 'DeactivateUser',
    suspend: 'SuspendUser',
    unsuspend: 'UnsuspendUser',
  } as const;
  router.post('/:id/lifecycle/:action', async (ctx) => {
    const kind = lifecycle[ctx.params.action as keyof typeof lifecycle];
    if (!kind) throw OktaApiError.pathNotFound();
    const user = await mustLoad(ctx);
    await run(ctx, user.id, { kind, id: user.id } as UserCommand);
    ctx.body = {};
  });

  router.delete('/:id', async (ctx) => {
    const user = await mustLoad(ctx);
    const id = user.id;
    await writer.run(tenantOf(ctx), ctx.state.requestId as string, `user/${id}`, async (reads) => {
      const [current] = await readStreams(reads, [streams.user(id)]);
      const events = decideUser({ kind: 'DeleteUser', id }, current);
      // A user that goes away leaves its groups first, so that no projection has to look them up;
      // its groups are those of its state, which no concurrent membership change can slip past.
      const leaving =
        current.status !== 'NONE' &&
        events.some((e) => e.type === 'gatehouse.events.v1.UserDeleted')
          ? [...current.groups].sort().map((groupId) => ({
              aggregateId: groupId,
              event: {
                type: 'gatehouse.events.v1.GroupMemberRemoved' as const,
                data: { userId: id },
              },
            }))
          : [];
      return [...leaving, ...changesOf(id, events)];
    });
    ctx.status = 204;
  });

  return router;
}

function parseBoolean(value: unknown, field: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw OktaApiError.validation([{ field, message: 'must be true or false' }]);
}

function readPassword(credentials: unknown): {
  value?: string;
  problems: { field: string; message: string }[];
} {
  if (credentials === undefined) return { problems: [] };
  const password = (credentials as { password?: { value?: unknown } } | null)?.password;
  if (credentials === null || typeof credentials !== 'object' || password === undefined) {
    return { problems: [{ field: 'credentials', message: 'must be an object with a password' }] };
  }
  if (typeof password?.value !== 'string')
    return { problems: [{ field: 'credentials.password.value', message: 'must be a string' }] };
  return { value: password.value, problems: [] };
}
