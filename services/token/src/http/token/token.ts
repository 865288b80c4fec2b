// POST {org}/oauth2/v1/token and {org}/oauth2/{asId}/v1/token (seed 000 "Create Token"): client
// authentication, then the handler of the grant type. Answered on node:http directly, as
// /introspect is (DirectRoutesKoa: every token costs koa's context and middleware otherwise), and
// on the koa router for what the direct path leaves to it.

import type { AuthenticatedClient, ClientThrottle, RemoteJwks } from '@gatehouse/client-auth';
import { authenticateClient } from '@gatehouse/client-auth';
import { endpointsBase, tokenExchangeGrantType } from '@gatehouse/directory';
import { type DpopNonces, dpopHeaderOf, verifyDpopProof } from '@gatehouse/dpop';
import {
  type DirectHandler,
  type DirectReply,
  type DirectRequest,
  type EdgeLog,
  InvalidDpopProof,
  InvalidRequest,
  oauthErrorReply,
  readForm,
  UnsupportedGrantType,
} from '@gatehouse/http';
import type { DirectoryCache, FreshnessGuard, ServerConfig } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import { authorizationCodeGrant } from '../../grants/authorization-code.js';
import { clientCredentialsGrant } from '../../grants/client-credentials.js';
import { deviceCodeGrant } from '../../grants/device-code.js';
import type { GrantHandler } from '../../grants/grant-context.js';
import { refreshTokenGrant } from '../../grants/refresh-token.js';
import { tokenExchangeGrant } from '../../grants/token-exchange.js';
import type { Revocations } from '../../revocations.js';
import type { TokenIssuer } from '../../token-issuer.js';
import { requireServerConfig } from '../server.js';

/** The handlers of the org server's and a custom server's token endpoint. */
export function tokenHandlers(deps: {
  guard: FreshnessGuard;
  store: ProjectionStore;
  directory: DirectoryCache;
  issuer: TokenIssuer;
  revocations: Revocations;
  now: () => number;
  throttle: ClientThrottle;
  remoteJwks: RemoteJwks;
  keks: KeyEncryptionKeys;
  /** The servers' verification keys: a token exchange checks the token it is given. */
  ring: KeyRing;
  log: EdgeLog;
  /** The nonces every DPoP proof at /token must carry (RFC 9449 section 8, as Okta requires). */
  dpopNonces: DpopNonces;
}): { org: DirectHandler; custom: DirectHandler } {
  /**
   * The key the request's DPoP proof (RFC 9449 section 5) proves, checked after the client
   * authenticated: absent without a proof, which a client registered with dpop_bound_access_tokens
   * must send.
   */
  const dpopOf = async (
    request: DirectRequest,
    config: ServerConfig,
    authenticated: AuthenticatedClient,
  ): Promise<string | undefined> => {
    const proof = dpopHeaderOf(request.req.headers);
    if (proof === undefined) {
      if (authenticated.client.metadata.dpopBoundAccessTokens)
        throw new InvalidDpopProof('The DPoP proof JWT header is missing.');
      return undefined;
    }
    const { jkt } = await verifyDpopProof(
      proof,
      {
        method: request.method,
        url: `${endpointsBase(config.issuer, config.serverId !== orgServerId)}/token`,
        now: deps.now(),
      },
      { store: deps.store, tenant: config.tenant, nonces: deps.dpopNonces },
    );
    return jkt;
  };
  const grants = new Map<string, GrantHandler>([
    ['authorization_code', authorizationCodeGrant(deps.revocations)],
    ['refresh_token', refreshTokenGrant(deps.revocations)],
    ['client_credentials', clientCredentialsGrant],
    [tokenExchangeGrantType, tokenExchangeGrant(deps)],
    ['urn:ietf:params:oauth:grant-type:device_code', deviceCodeGrant(deps.revocations)],
  ]);
  const token = async (request: DirectRequest, serverId: string): Promise<DirectReply> => {
    const config = await requireServerConfig(deps.directory, request.tenant, serverId);
    const form = await readForm(request);
    const grantType = form.get('grant_type');
    if (!grantType) throw new InvalidRequest('The grant_type parameter is required.');
    const handler = grants.get(grantType);
    const authenticated = await authenticateClient(request, form, config, 'token', deps);
    // From here every answer, a refusal too, carries the client's budget (X-Rate-Limit-*), and
    // once DPoP is used the nonce to use next (RFC 9449 section 8.2).
    let headers = authenticated.rateLimit;
    try {
      if (!handler)
        throw new UnsupportedGrantType(
          `The grant_type ${JSON.stringify(grantType.slice(0, 64))} is not supported.`,
        );
      if (request.req.headers.dpop !== undefined)
        headers = { ...headers, 'DPoP-Nonce': deps.dpopNonces.current() };
      const dpopJkt = await dpopOf(request, config, authenticated);
      const body = await handler({
        requestId: request.requestId,
        form,
        config,
        authenticated,
        store: deps.store,
        // Whatever the grant, its access tokens are bound to the proof's key (RFC 9449 section 5).
        issuer: dpopJkt
          ? { issue: (issue) => deps.issuer.issue({ ...issue, dpopJkt }) }
          : deps.issuer,
        now: deps.now,
        guard: deps.guard,
        ...(dpopJkt ? { dpopJkt } : {}),
      });
      return { body: body as unknown as Record<string, unknown>, headers };
    } catch (caught) {
      const reply = oauthErrorReply(
        deps.log,
        { method: request.method, path: request.path, state: { requestId: request.requestId } },
        caught,
      );
      return { ...reply, headers: { ...headers, ...reply.headers } };
    }
  };
  return {
    org: (request) => token(request, orgServerId),
    custom: (request) => token(request, request.params.asId!),
  };
}
