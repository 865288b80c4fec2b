// Pushed authorization requests (RFC 9126): POST {issuer}/v1/par takes an authorization request in
// the back channel from an authenticated client (every method /token takes), checks it as
// /authorize would, keeps it for 60 seconds and answers a one-time `request_uri`. The browser then
// carries only `client_id` and that `request_uri` to /authorize, which takes the pushed parameters
// and ignores the front channel's (but for a `sessionToken`, which is the user's sign-in, not part
// of the request). A pushed request is the client's: another client cannot use it, and it dies with
// any change that invalidates the client's tokens (SPEC section 6: its binding digest is kept with
// it and compared when it is used).
import { createHash, randomBytes } from 'node:crypto';
import { authenticateClient, type ClientAuthDeps } from '@gatehouse/client-auth';
import { grantKeys } from '@gatehouse/grants';
import { InvalidRequest, OAuthError } from '@gatehouse/http';
import { currentBindingDigest, type DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { orgServerId } from '@gatehouse/signing-keys';
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  checkScopesDefined,
  credentialParameters,
  readBackChannelRequest,
} from '../back-channel.js';
import type { RawParameters } from '../parameters.js';
import { checkAuthorizationRequest } from './checks/index.js';

export const requestUriPrefix = 'urn:ietf:params:oauth:request_uri:';
/** How long a pushed request waits for the browser (RFC 9126 suggests 5 to 600 seconds). */
export const pushedRequestLifetimeSeconds = 60;

/** What is kept of a pushed request until it is used (once) or expires. */
interface PushedRequest {
  clientId: string;
  serverId: string;
  /** The authorization request's parameters, as pushed, less the client's credentials. */
  parameters: [string, string][];
  /** The client's binding digest when it was pushed (SPEC section 6). */
  bindingDigest: string;
}

const referenceKey = (tenant: string, reference: string) =>
  grantKeys.pushedRequest(tenant, createHash('sha256').update(reference).digest('hex'));

export function pushedRequestRoutes(
  deps: {
    directory: DirectoryCache;
    store: ProjectionStore;
    clientAuth: ClientAuthDeps;
  },
  router: Router,
): Router {
  const push = async (ctx: Context, serverId: string) => {
    const { tenant, config, raw } = await readBackChannelRequest(ctx, deps.directory, serverId);
    // RFC 9126 section 2.1: a pushed request cannot itself refer to another.
    if (raw.values.has('request_uri'))
      throw new InvalidRequest('A pushed authorization request cannot carry a request_uri.');
    const { client, rateLimit } = await authenticateClient(
      ctx,
      raw.values,
      config,
      'par',
      deps.clientAuth,
    );
    ctx.set(rateLimit);
    for (const name of credentialParameters) raw.values.delete(name);
    // With Basic authentication the body need not name the client; the request does.
    raw.values.set('client_id', client.id);
    const read = checkAuthorizationRequest(raw, { tenant, serverId, client });
    // Every problem is the pushing client's to hear, in the back channel (RFC 9126 section 2.3).
    if ('problem' in read) throw new OAuthError(400, read.problem.error, read.problem.description);
    // Scopes the server does not have: what /authorize would answer once the user signed in, told
    // now. The rest of the policy needs the user, and is decided at /authorize.
    checkScopesDefined(config, read.request.scopes);
    const reference = randomBytes(32).toString('base64url');
    const pushed: PushedRequest = {
      clientId: client.id,
      serverId,
      parameters: [...raw.values],
      bindingDigest: await currentBindingDigest(deps.store, {
        tenant,
        serverId,
        clientId: client.id,
      }),
    };
    await deps.store.set(referenceKey(tenant, reference), JSON.stringify(pushed), {
      ttlMs: pushedRequestLifetimeSeconds * 1000,
    });
    ctx.status = 201;
    ctx.body = {
      request_uri: `${requestUriPrefix}${reference}`,
      expires_in: pushedRequestLifetimeSeconds,
    };
  };
  router.post('/oauth2/v1/par', (ctx) => push(ctx, orgServerId));
  router.post('/oauth2/:serverId/v1/par', (ctx) => push(ctx, ctx.params.serverId!));
  return router;
}

export type TakenRequest =
  | { parameters: RawParameters }
  | { problem: { status: number; error: string; description: string } };

/**
 * The pushed request a front-channel `request_uri` names, taken once: the parameters /authorize
 * goes on with (the front channel's `sessionToken` kept), or the problem to show on a page (nothing
 * of the front channel can be trusted to redirect to).
 */
export async function takePushedRequest(
  store: ProjectionStore,
  tenant: string,
  serverId: string,
  front: RawParameters,
): Promise<TakenRequest> {
  const invalid = (description: string) => ({
    problem: { status: 400, error: 'invalid_request_uri', description },
  });
  const requestUri = front.values.get('request_uri')!;
  const clientId = front.values.get('client_id');
  if (front.repeated.has('request_uri') || front.repeated.has('client_id'))
    return invalid('The request_uri and client_id parameters may each be given once.');
  if (!clientId)
    return {
      problem: {
        status: 400,
        error: 'invalid_request',
        description: 'A request_uri needs the client_id that pushed it.',
      },
    };
  if (!requestUri.startsWith(requestUriPrefix) || requestUri.length > 200)
    return invalid('The request_uri is not one this server issued.');
  const kept = await store.getDel(referenceKey(tenant, requestUri.slice(requestUriPrefix.length)));
  if (kept === null)
    return invalid('The request_uri is unknown, expired or already used: push the request again.');
  const pushed = JSON.parse(kept) as PushedRequest;
  if (pushed.clientId !== clientId || pushed.serverId !== serverId)
    return invalid('The request_uri was pushed by another client or to another server.');
  const digest = await currentBindingDigest(store, { tenant, serverId, clientId });
  if (digest !== pushed.bindingDigest)
    return invalid('The request_uri is no longer valid: its client changed since it was pushed.');
  const values = new Map(pushed.parameters);
  const sessionToken = front.values.get('sessionToken');
  if (sessionToken) values.set('sessionToken', sessionToken);
  return { parameters: { values, repeated: new Set() } };
}
