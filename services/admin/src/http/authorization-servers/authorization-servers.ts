// Custom authorization servers, per tenant, in Okta's shapes (SPEC section 3), and the one router
// that serves them with their sub-resources (scopes.ts, claims.ts, policies.ts, policy-rules.ts):
//   POST|GET /api/v1/authorizationServers          GET|PUT|DELETE /api/v1/authorizationServers/{asId}
//   POST /api/v1/authorizationServers/{asId}/lifecycle/{activate|deactivate}
import {
  type FieldProblem,
  issuerOf,
  keys,
  newId,
  newServerSystemScopes,
  orgBaseUrl,
  type ServerSettings,
  type ServerView,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import Router from '@koa/router';
import { claimRoutes } from './claims.js';
import { policyRoutes } from './policies.js';
import { policyRuleRoutes } from './policy-rules.js';
import { scopeRoutes } from './scopes.js';
import { type ServerContext, type ServerRoutesDeps, serverContext } from './server-context.js';

export type { ServerRoutesDeps } from './server-context.js';

export function authorizationServerRoutes(deps: ServerRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/authorizationServers' });
  const context = serverContext(deps);
  serverRoutes(router, context);
  scopeRoutes(router, context);
  claimRoutes(router, context);
  policyRoutes(router, context);
  policyRuleRoutes(router, context);
  return router;
}

function serverRoutes(
  router: Router,
  { store, tenancy, signingKeys, tenantOf, load, mustLoad, run }: ServerContext,
): void {
  const present = (tenant: string, server: ServerView) => {
    const base = issuerOf(tenancy, tenant, server.id);
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

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const settings = readSettings(await readJsonObject(ctx));
    const id = newId('aus');
    // Okta's system scopes come with every new server (SPEC section 3), no default policy.
    const systemScopes = newServerSystemScopes(() => newId('scp'));
    await run(ctx, id, { kind: 'CreateServer', id, settings, systemScopes });
    // It signs from the moment the creation answers.
    await signingKeys(tenant, [id]);
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
    const settings = readSettings(await readJsonObject(ctx));
    await run(ctx, server.id, { kind: 'UpdateServer', id: server.id, settings });
    ctx.body = present(tenantOf(ctx), (await load(tenantOf(ctx), server.id))!);
  });

  router.delete('/:asId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server.id, { kind: 'DeleteServer', id: server.id });
    ctx.status = 204;
  });

  router.post('/:asId/lifecycle/:action', async (ctx) => {
    const kind = ({ activate: 'ActivateServer', deactivate: 'DeactivateServer' } as const)[
      ctx.params.action as 'activate'
    ];
    if (!kind) throw OktaApiError.pathNotFound();
    const server = await mustLoad(ctx);
    await run(ctx, server.id, { kind, id: server.id });
    ctx.status = 204;
  });
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
