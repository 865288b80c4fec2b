// The system tenant API (SPEC section 3): create, list, get, deactivate.
//   POST /api/v1/tenants {"id","name"} -> 201 {id, name, status, issuer, created, lastUpdated, apiToken}
//   GET  /api/v1/tenants, GET /api/v1/tenants/{id}
//   POST /api/v1/tenants/{id}/lifecycle/deactivate
import { createHash, randomBytes } from 'node:crypto';
import {
  decideNewTenant,
  decideTenant,
  defaultServerId,
  keys,
  orgBaseUrl,
  readStreams,
  streams,
  type TenancyConfig,
  type TenantView,
  tenantViewOf,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import { changesOf, type DirectoryWriter, type SigningKeysWait } from '../../directory-writer.js';

export interface TenantRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
  signingKeys: SigningKeysWait;
}

export function tenantRoutes({ store, writer, tenancy, signingKeys }: TenantRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/tenants' });
  const present = (view: TenantView) => ({ ...view, issuer: orgBaseUrl(tenancy, view.id) });
  const load = async (id: string) => tenantViewOf(await store.hgetall(keys.tenant(id)));

  router.post('/', async (ctx) => {
    const body = await readJsonObject(ctx, 16 * 1024);
    const problems = [];
    if (typeof body.id !== 'string') problems.push({ field: 'id', message: 'must be a string' });
    if (typeof body.name !== 'string')
      problems.push({ field: 'name', message: 'must be a string' });
    if (problems.length > 0) throw OktaApiError.validation(problems);
    const id = body.id as string;
    // 256 random bits: a hash of it is as strong as the token, so SHA-256 is enough (SPEC section 3).
    const apiToken = randomBytes(32).toString('base64url');
    const apiTokenSha256 = createHash('sha256').update(apiToken).digest('hex');
    // One command: the tenant, its Everyone group and its server `default`, all new or none.
    await writer.run(id, ctx.state.requestId as string, undefined, async (reads) => {
      const [tenant] = await readStreams(reads, [streams.tenant(id)]);
      return decideNewTenant({ id, name: body.name as string, apiTokenSha256 }, tenant);
    });
    // Its org server and its server `default` sign from the moment the creation answers.
    await signingKeys(id, [orgServerId, defaultServerId]);
    ctx.status = 201;
    ctx.body = { ...present((await load(id))!), apiToken };
  });

  router.get('/', async (ctx) => {
    const ids = (await store.smembers(keys.tenants())).sort();
    const views = await Promise.all(ids.map(load));
    ctx.body = views.filter((view): view is TenantView => view !== undefined).map(present);
  });

  router.get('/:id', async (ctx) => {
    const view = await load(ctx.params.id!);
    if (!view) throw OktaApiError.notFound('tenant', ctx.params.id!);
    ctx.body = present(view);
  });

  router.post('/:id/lifecycle/deactivate', async (ctx) => {
    const id = ctx.params.id!;
    if (!(await load(id))) throw OktaApiError.notFound('tenant', id);
    await writer.run(id, ctx.state.requestId as string, `tenant/${id}`, async (reads) => {
      const [tenant] = await readStreams(reads, [streams.tenant(id)]);
      return changesOf(id, decideTenant({ kind: 'DeactivateTenant', id }, tenant));
    });
    ctx.body = present((await load(id))!);
  });

  return router;
}
