// An authorization server's scopes, in Okta's shapes (SPEC section 3):
//   POST|GET /api/v1/authorizationServers/{asId}/scopes   GET|PUT|DELETE .../scopes/{scopeId}
import type { Scope } from '@gatehouse/contracts';
import {
  consentNames,
  consentOf,
  type FieldProblem,
  keys,
  newId,
  type ServerView,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ServerContext } from './server-context.js';

export function scopeRoutes(
  router: Router,
  { store, tenantOf, mustLoad, collection, run }: ServerContext,
): void {
  const scopesOf = async (tenant: string, serverId: string): Promise<Scope[]> =>
    (
      await collection<Scope>(keys.scopes(tenant, serverId), (id) =>
        keys.scope(tenant, serverId, id),
      )
    ).sort((a, b) => (a.name < b.name ? -1 : 1));
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

  router.get('/:asId/scopes', async (ctx) => {
    const server = await mustLoad(ctx);
    ctx.body = (await scopesOf(tenantOf(ctx), server.id)).map(presentScope);
  });

  router.post('/:asId/scopes', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const scope = readScope(await readJsonObject(ctx), newId('scp'));
    await run(ctx, server.id, { kind: 'CreateScope', id: server.id, scope });
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
    await run(ctx, server.id, { kind: 'UpdateScope', id: server.id, scope });
    ctx.body = presentScope(
      JSON.parse((await store.get(keys.scope(tenant, server.id, scope.id)))!) as Scope,
    );
  });

  router.delete('/:asId/scopes/:scopeId', async (ctx) => {
    const server = await mustLoad(ctx);
    const scope = await mustLoadScope(ctx, server);
    await run(ctx, server.id, { kind: 'DeleteScope', id: server.id, scopeId: scope.id });
    ctx.status = 204;
  });
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
