// An authorization server's custom token claims, in Okta's shapes (SPEC section 3), each a whole
// replacement on PUT:
//   POST|GET /api/v1/authorizationServers/{asId}/claims   GET|PUT|DELETE .../claims/{claimId}
import type { Claim } from '@gatehouse/contracts';
import { keys, newId, readStreams, type StreamReads, streams } from '@gatehouse/directory';
import { readJsonObject } from '@gatehouse/http';
import type Router from '@koa/router';
import { fieldsOf, type ServerContext } from './server-context.js';

export function claimRoutes(
  router: Router,
  { tenantOf, mustLoad, collection, run, idParam, loadJson }: ServerContext,
): void {
  const claimsOf = (tenant: string, serverId: string) =>
    collection<Claim>(keys.tokenClaims(tenant, serverId), (id) =>
      keys.tokenClaim(tenant, serverId, id),
    );
  const presentClaim = (claim: Claim) => ({
    id: claim.id,
    name: claim.name,
    status: claim.status,
    claimType: claim.claimType,
    valueType: claim.valueType,
    value: claim.value,
    conditions: { scopes: claim.scopes },
    system: false,
    alwaysIncludeInToken: claim.alwaysIncludeInToken,
    ...(claim.valueType === 'GROUPS' ? { group_filter_type: claim.groupFilterType } : {}),
  });

  router.get('/:asId/claims', async (ctx) => {
    const server = await mustLoad(ctx);
    ctx.body = (await claimsOf(tenantOf(ctx), server.id))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(presentClaim);
  });
  router.post('/:asId/claims', async (ctx) => {
    const server = await mustLoad(ctx);
    const claim = readClaim(await readJsonObject(ctx), newId('ocl'));
    await run(ctx, server.id, async (_state, reads) => ({
      kind: 'CreateClaim',
      id: server.id,
      claim,
      customAttributes: await customAttributesOf(reads),
    }));
    ctx.status = 201;
    ctx.body = presentClaim(
      await loadJson<Claim>(
        keys.tokenClaim(tenantOf(ctx), server.id, claim.id),
        'OAuth2Claim',
        claim.id,
      ),
    );
  });
  router.get('/:asId/claims/:claimId', async (ctx) => {
    const server = await mustLoad(ctx);
    const id = idParam(ctx, 'claimId');
    ctx.body = presentClaim(
      await loadJson<Claim>(keys.tokenClaim(tenantOf(ctx), server.id, id), 'OAuth2Claim', id),
    );
  });
  router.put('/:asId/claims/:claimId', async (ctx) => {
    const server = await mustLoad(ctx);
    const claim = readClaim(await readJsonObject(ctx), idParam(ctx, 'claimId'));
    await run(ctx, server.id, async (_state, reads) => ({
      kind: 'UpdateClaim',
      id: server.id,
      claim,
      customAttributes: await customAttributesOf(reads),
    }));
    ctx.body = presentClaim(
      await loadJson<Claim>(
        keys.tokenClaim(tenantOf(ctx), server.id, claim.id),
        'OAuth2Claim',
        claim.id,
      ),
    );
  });
  router.delete('/:asId/claims/:claimId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server.id, {
      kind: 'DeleteClaim',
      id: server.id,
      claimId: idParam(ctx, 'claimId'),
    });
    ctx.status = 204;
  });
}

/** The custom attributes a `user.<name>` expression may name: the profile schema's, as decided on. */
async function customAttributesOf(reads: StreamReads): Promise<string[]> {
  const [schema] = await readStreams(reads, [streams.userSchema()]);
  return Object.keys(schema.properties);
}

function readClaim(body: Record<string, unknown>, id: string): Claim {
  const f = fieldsOf(body);
  const claim: Claim = {
    id,
    name: f.text('name'),
    status: f.text('status', 'ACTIVE'),
    claimType: f.text('claimType'),
    valueType: f.text('valueType', 'EXPRESSION'),
    value: f.text('value'),
    scopes: f.list('conditions.scopes'),
    alwaysIncludeInToken: f.flag('alwaysIncludeInToken', true),
    groupFilterType: f.text('group_filter_type'),
  };
  f.done();
  return claim;
}
