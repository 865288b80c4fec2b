// The management API of a server's signing keys (SPEC section 3), with the tenant's API token:
//   GET  /api/v1/authorizationServers/{asId}/credentials/keys[/{kid}]
//   POST /api/v1/authorizationServers/{asId}/credentials/lifecycle/keyRotate   {"use":"sig"}
//   POST /api/v1/authorizationServers/{asId}/credentials/keys/{kid}/lifecycle/revoke  (emergency;
//        not in Okta's API: the key and every token it signed are dead at once)
// Okta names a retired key EXPIRED.
import { orgBaseUrl, type TenancyConfig } from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { CommandConflictError } from '@gatehouse/projections';
import {
  loadServerKeys,
  type PublishedKey,
  type ServerKeysView,
  SigningKeyError,
} from '@gatehouse/signing-keys';
import Router, { type RouterContext } from '@koa/router';
import { type KeyKeeper, KeysBusyError, KeysUnavailableError } from '../../key-keeper.js';
import { jwkOf } from '../jwks/jwks.js';
import { requireServer } from '../server-lookup.js';

const okta = { ACTIVE: 'ACTIVE', NEXT: 'NEXT', RETIRED: 'EXPIRED' } as const;
const order = { ACTIVE: 0, NEXT: 1, RETIRED: 2 } as const;

export function credentialsRoutes(deps: {
  store: ProjectionStore;
  keeper: KeyKeeper;
  tenancy: TenancyConfig;
}): Router {
  const { store, keeper } = deps;
  const router = new Router({ prefix: '/api/v1/authorizationServers/:asId/credentials' });
  const present = (ctx: RouterContext, key: PublishedKey) => ({
    status: okta[key.status],
    ...jwkOf(key),
    _links: {
      self: {
        href: `${orgBaseUrl(deps.tenancy, ctx.state.tenant as string)}/api/v1/authorizationServers/${ctx.params.asId}/credentials/keys/${key.kid}`,
        hints: { allow: ['GET'] },
      },
    },
  });
  const list = (ctx: RouterContext, view: ServerKeysView) =>
    [...view.keys]
      .sort((a, b) => order[a.status] - order[b.status])
      .map((key) => present(ctx, key));
  const server = async (ctx: RouterContext) =>
    (await requireServer(store, ctx.state.tenant as string, ctx.params.asId!)).id;

  router.get('/keys', async (ctx) => {
    ctx.body = list(
      ctx,
      await loadServerKeys(store, ctx.state.tenant as string, await server(ctx)),
    );
  });
  router.get('/keys/:kid', async (ctx) => {
    const view = await loadServerKeys(store, ctx.state.tenant as string, await server(ctx));
    const key = view.keys.find((candidate) => candidate.kid === ctx.params.kid);
    if (!key) throw OktaApiError.notFound('JsonWebKey', ctx.params.kid!);
    ctx.body = present(ctx, key);
  });
  router.post('/lifecycle/keyRotate', async (ctx) => {
    const serverId = await server(ctx);
    const body = await readJsonObject(ctx);
    const problems = [
      ...(body.use !== 'sig' ? [{ field: 'use', message: 'must be "sig"' }] : []),
      ...Object.keys(body)
        .filter((field) => field !== 'use')
        .map((field) => ({ field, message: 'is not a property of a key rotation' })),
    ];
    if (problems.length > 0) throw OktaApiError.validation(problems);
    ctx.body = list(
      ctx,
      await keeping(() =>
        keeper.rotate(ctx.state.tenant as string, serverId, ctx.state.requestId as string),
      ),
    );
  });
  router.post('/keys/:kid/lifecycle/revoke', async (ctx) => {
    const serverId = await server(ctx);
    ctx.body = list(
      ctx,
      await keeping(() =>
        keeper.revoke(
          ctx.state.tenant as string,
          serverId,
          ctx.params.kid!,
          ctx.state.requestId as string,
        ),
      ),
    );
  });
  return router;
}

/** Runs a key change, waiting out another replica's change a few times, with errors in Okta's shape. */
async function keeping(change: () => Promise<ServerKeysView>): Promise<ServerKeysView> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await change();
    } catch (error) {
      if (error instanceof KeysBusyError && attempt < 10) {
        await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
        continue;
      }
      if (error instanceof KeysBusyError || error instanceof KeysUnavailableError)
        throw OktaApiError.unavailable(
          `The keys cannot be changed now: ${error.message}. Try again.`,
        );
      if (error instanceof CommandConflictError)
        throw OktaApiError.conflict(
          'The keys were changed by other requests at the same time, again and again; this change was not applied. Try again.',
        );
      if (error instanceof SigningKeyError) {
        if (error.kind === 'not_found')
          throw new OktaApiError(404, 'E0000007', `Not found: ${error.message}`);
        throw OktaApiError.invalidState(error.message);
      }
      throw error;
    }
  }
}
