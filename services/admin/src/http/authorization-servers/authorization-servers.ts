// Custom authorization servers and their scopes, per tenant, in Okta's shapes (SPEC section 3):
//   POST|GET /api/v1/authorizationServers          GET|PUT|DELETE /api/v1/authorizationServers/{asId}
//   POST /api/v1/authorizationServers/{asId}/lifecycle/{activate|deactivate}
//   POST|GET /api/v1/authorizationServers/{asId}/scopes   GET|PUT|DELETE .../scopes/{scopeId}
import type { Scope } from '@gatehouse/contracts';
import {
  consentNames,
  consentOf,
  decideServer,
  type FieldProblem,
  keys,
  newId,
  orgBaseUrl,
  type ServerCommand,
  type ServerSettings,
  type ServerState,
  type ServerView,
  serverViewOf,
  type TenancyConfig,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectoryWriter } from '../../directory-writer.js';

export interface ServerRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
}

const serverIdPattern = /^(default|[0-9A-Za-z]{20})$/;

export function authorizationServerRoutes({ store, writer, tenancy }: ServerRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/authorizationServers' });
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const load = async (tenant: string, id: string) =>
    serverIdPattern.test(id)
      ? serverViewOf(await store.hgetall(keys.authorizationServer(tenant, id)))
      : undefined;
  const mustLoad = async (ctx: Context) => {
    const server = await load(tenantOf(ctx), ctx.params.asId!);
    if (!server) throw OktaApiError.notFound('AuthorizationServer', ctx.params.asId!);
    return server;
  };
  const scopesOf = async (tenant: string, serverId: string): Promise<Scope[]> => {
    const ids = await store.smembers(keys.scopes(tenant, serverId));
    const values = await store.mget(ids.map((id) => keys.scope(tenant, serverId, id)));
    return values
      .flatMap((value) => (value ? [JSON.parse(value) as Scope] : []))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  };
  const stateOf = async (tenant: string, server: ServerView): Promise<ServerState> => ({
    status: server.status,
    settings: { name: server.name, description: server.description, audiences: server.audiences },
    scopes: new Map((await scopesOf(tenant, server.id)).map((scope) => [scope.id, scope])),
  });
  const run = async (ctx: Context, server: ServerView, command: ServerCommand) => {
    const tenant = tenantOf(ctx);
    await writer.append(
      tenant,
      server.id,
      decideServer(command, await stateOf(tenant, server)),
      ctx.state.requestId as string,
    );
  };
  const present = (tenant: string, server: ServerView) => {
    const base = `${orgBaseUrl(tenancy, tenant)}/oauth2/${server.id}`;
    return {
      id: server.id,
      name: server.name,
      description: server.description,
      audiences: server.audiences,
      issuer: base,
      issuerMode: 'ORG_URL',
      status: server.status,
      created: server.created,
      lastUpdated: server.lastUpdated,
      credentials: { signing: { rotationMode: 'AUTO' } },
      _links: {
        self: { href: `${orgBaseUrl(tenancy, tenant)}/api/v1/authorizationServers/${server.id}` },
        metadata: [
          { href: `${base}/.well-known/openid-configuration` },
          { href: `${base}/.well-known/oauth-authorization-server` },
        ],
      },
    };
  };
  const presentScope = (scope: Scope) => ({
    id: scope.id,
    name: scope.name,
    description: scope.description,
    ...(scope.displayName ? { displayName: scope.displayName } : {}),
    system: scope.system,
    metadataPublish: scope.metadataPublish,
    consent: consentNames[scope.consent as keyof typeof consentNames] ?? 'IMPLICIT',
    optional: scope.isOptional,
    default: scope.isDefault,
  });

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const settings = readSettings(await readJsonObject(ctx));
    const id = newId('aus');
    await writer.append(
      tenant,
      id,
      decideServer({ kind: 'CreateServer', id, settings }, { status: 'NONE' }),
      ctx.state.requestId as string,
    );
    ctx.status = 201;
    ctx.body = present(tenant, (await load(tenant, id))!);
  });

  router.get('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const ids = (await store.smembers(keys.authorizationServers(tenant))).sort();
    const servers = await Promise.all(ids.map((id) => load(tenant, id)));
    ctx.body = servers.flatMap((server) => (server ? [present(tenant, server)] : []));
  });

  router.get('/:asId', async (ctx) => {
    ctx.body = present(tenantOf(ctx), await mustLoad(ctx));
  });

  router.put('/:asId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server, {
      kind: 'UpdateServer',
      id: server.id,
      settings: readSettings(await readJsonObject(ctx)),
    });
    ctx.body = present(tenantOf(ctx), (await load(tenantOf(ctx), server.id))!);
  });

  router.delete('/:asId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server, { kind: 'DeleteServer', id: server.id });
    ctx.status = 204;
  });

  router.post('/:asId/lifecycle/:action', async (ctx) => {
    const kind = ({ activate: 'ActivateServer', deactivate: 'DeactivateServer' } as const)[
      ctx.params.action as 'activate'
    ];
    if (!kind) throw OktaApiError.pathNotFound();
    const server = await mustLoad(ctx);
    await run(ctx, server, { kind, id: server.id });
    ctx.status = 204;
  });

  router.get('/:asId/scopes', async (ctx) => {
    const server = await mustLoad(ctx);
    ctx.body = (await scopesOf(tenantOf(ctx), server.id)).map(presentScope);
  });

  router.post('/:asId/scopes', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const scope = readScope(await readJsonObject(ctx), newId('scp'));
    const claim = `${server.id}:${scope.name}`;
    if (!(await writer.claim('scope-name', tenant, claim, scope.id))) {
      throw OktaApiError.validation([
        { field: 'name', message: 'A scope with this name already exists' },
      ]);
    }
    try {
      await run(ctx, server, { kind: 'CreateScope', id: server.id, scope });
    } catch (error) {
      await writer.release('scope-name', tenant, claim, scope.id);
      throw error;
    }
    ctx.status = 201;
    ctx.body = presentScope(
      JSON.parse((await store.get(keys.scope(tenant, server.id, scope.id)))!) as Scope,
    );
  });

  const mustLoadScope = async (ctx: Context, server: ServerView) => {
    const value = /^[0-9A-Za-z]{20}$/.test(ctx.params.scopeId!)
      ? await store.get(keys.scope(tenantOf(ctx), server.id, ctx.params.scopeId!))
      : null;
    if (!value) throw OktaApiError.notFound('OAuth2Scope', ctx.params.scopeId!);
    return JSON.parse(value) as Scope;
  };

  router.get('/:asId/scopes/:scopeId', async (ctx) => {
    ctx.body = presentScope(await mustLoadScope(ctx, await mustLoad(ctx)));
  });

  router.put('/:asId/scopes/:scopeId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const current = await mustLoadScope(ctx, server);
    const scope = readScope(await readJsonObject(ctx), current.id);
    const renamed = scope.name !== current.name && !current.system;
    const claim = `${server.id}:${scope.name}`;
    if (renamed && !(await writer.claim('scope-name', tenant, claim, scope.id))) {
      throw OktaApiError.validation([
        { field: 'name', message: 'A scope with this name already exists' },
      ]);
    }
    try {
      await run(ctx, server, { kind: 'UpdateScope', id: server.id, scope });
    } catch (error) {
      if (renamed) await writer.release('scope-name', tenant, claim, scope.id);
      throw error;
    }
    ctx.body = presentScope(
      JSON.parse((await store.get(keys.scope(tenant, server.id, scope.id)))!) as Scope,
    );
  });

  router.delete('/:asId/scopes/:scopeId', async (ctx) => {
    const server = await mustLoad(ctx);
    const scope = await mustLoadScope(ctx, server);
    await run(ctx, server, { kind: 'DeleteScope', id: server.id, scopeId: scope.id });
    ctx.status = 204;
  });

  return router;
}

function readSettings(body: Record<string, unknown>): ServerSettings {
  const problems: FieldProblem[] = [];
  if (typeof body.name !== 'string') problems.push({ field: 'name', message: 'must be a string' });
  if (body.description !== undefined && typeof body.description !== 'string')
    problems.push({ field: 'description', message: 'must be a string' });
  if (!Array.isArray(body.audiences) || !body.audiences.every((a) => typeof a === 'string')) {
    problems.push({ field: 'audiences', message: 'must be an array of strings' });
  }
  if (problems.length > 0) throw OktaApiError.validation(problems);
  return {
    name: (body.name as string).trim(),
    description: ((body.description as string | undefined) ?? '').trim(),
    audiences: (body.audiences as string[]).map((a) => a.trim()),
  };
}

function readScope(body: Record<string, unknown>, id: string): Scope {
  const problems: FieldProblem[] = [];
  const text = (name: string) => {
    const value = body[name];
    if (value !== undefined && typeof value !== 'string')
      problems.push({ field: name, message: 'must be a string' });
    return typeof value === 'string' ? value.trim() : '';
  };
  const flag = (name: string) => {
    const value = body[name];
    if (value !== undefined && typeof value !== 'boolean')
      problems.push({ field: name, message: 'must be true or false' });
    return value === true;
  };
  if (typeof body.name !== 'string') problems.push({ field: 'name', message: 'must be a string' });
  const consent = consentOf(text('consent') || 'IMPLICIT');
  if (consent === undefined)
    problems.push({ field: 'consent', message: 'must be IMPLICIT, REQUIRED or FLEXIBLE' });
  const metadataPublish = text('metadataPublish') || 'NO_CLIENTS';
  if (metadataPublish !== 'NO_CLIENTS' && metadataPublish !== 'ALL_CLIENTS')
    problems.push({ field: 'metadataPublish', message: 'must be NO_CLIENTS or ALL_CLIENTS' });
  const scope: Scope = {
    id,
    name: typeof body.name === 'string' ? body.name : '',
    description: text('description'),
    displayName: text('displayName'),
    consent: consent ?? 0,
    isDefault: flag('default'),
    isOptional: flag('optional'),
    metadataPublish,
    system: false,
  };
  if (scope.description.length > 1024 || scope.displayName.length > 255)
    problems.push({ field: 'description', message: 'is too long' });
  if (problems.length > 0) throw OktaApiError.validation(problems);
  return scope;
}
