// The per-tenant users API, in Okta's shapes (SPEC section 3):
//   POST   /api/v1/users?activate=true|false   {profile, credentials: {password: {value}}}
//   GET    /api/v1/users/{id|login}            POST /api/v1/users/{id} {profile} (partial update)
//   POST   /api/v1/users/{id}/lifecycle/{activate|deactivate|suspend|unsuspend}
//   DELETE /api/v1/users/{id}                  (deactivated users; on others it deactivates)
import {
  checkPasswordPolicy,
  decideUser,
  hashPassword,
  idPattern,
  keys,
  loginKey,
  newId,
  readProfile,
  type ScryptCost,
  type TenancyConfig,
  type UserCommand,
  type UserState,
  type UserView,
  userViewOf,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectoryWriter } from '../../directory-writer.js';
import { presentUser } from './present.js';

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
  const present = (tenant: string, user: UserView) => presentUser(tenancy, tenant, user);
  const run = async (ctx: Context, user: UserView, command: UserCommand) => {
    await writer.append(
      tenantOf(ctx),
      user.id,
      decideUser(command, stateOf(user)),
      ctx.state.requestId as string,
    );
  };

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const activate =
      ctx.query.activate === undefined ? true : parseBoolean(ctx.query.activate, 'activate');
    const body = await readJsonObject(ctx);
    const unknown = Object.keys(body).filter(
      (key) => key !== 'profile' && key !== 'credentials' && key !== 'type',
    );
    const { profile, problems } = readProfile(body.profile);
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
    const events = decideUser(
      { kind: 'CreateUser', id, profile, passwordHash, activate },
      { status: 'NONE' },
    );
    const login = loginKey(profile.login);
    await writer.whileClaiming(
      { kind: 'login', tenant, name: login, holder: id, field: 'login' },
      () => writer.append(tenant, id, events, ctx.state.requestId as string),
    );
    ctx.body = present(tenant, (await loadById(tenant, id))!);
  });

  router.get('/:id', async (ctx) => {
    ctx.body = present(tenantOf(ctx), await mustLoad(ctx));
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
    const { profile, problems } = readProfile(body.profile, user.profile);
    if (!profile) throw OktaApiError.validation(problems);
    const oldLogin = loginKey(user.profile.login);
    const newLogin = loginKey(profile.login);
    const loginChanges = oldLogin !== newLogin;
    const update = () => run(ctx, user, { kind: 'UpdateUserProfile', id: user.id, profile });
    if (loginChanges) {
      await writer.whileClaiming(
        { kind: 'login', tenant, name: newLogin, holder: user.id, field: 'login' },
        update,
      );
    } else {
      await update();
    }
    ctx.body = present(tenant, (await loadById(tenant, user.id))!);
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
    await run(ctx, user, { kind, id: user.id } as UserCommand);
    ctx.body = {};
  });

  router.delete('/:id', async (ctx) => {
    const tenant = tenantOf(ctx);
    const user = await mustLoad(ctx);
    const events = decideUser({ kind: 'DeleteUser', id: user.id }, stateOf(user));
    // A user that goes away leaves its groups first, so that no projection has to look it up.
    const leaving = events.some((e) => e.type === 'gatehouse.events.v1.UserDeleted')
      ? (await store.smembers(keys.userGroups(tenant, user.id))).sort().map((groupId) => ({
          aggregateId: groupId,
          event: {
            type: 'gatehouse.events.v1.GroupMemberRemoved' as const,
            data: { userId: user.id },
          },
        }))
      : [];
    await writer.appendAll(
      tenant,
      [...leaving, ...events.map((event) => ({ aggregateId: user.id, event }))],
      ctx.state.requestId as string,
    );
    ctx.status = 204;
  });

  return router;
}

function stateOf(user: UserView): UserState {
  return { status: user.status, profile: user.profile, hasPassword: user.hasPassword };
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
