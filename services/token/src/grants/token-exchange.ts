// urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693), as Okta's On-Behalf-Of Token
// Exchange: a confidential client (an API's service app) presents the access token a user's app sent
// it, issued by this custom authorization server or another custom one of the tenant, and gets an
// access token of this server for the same user, scoped by this server's policies for itself. Custom
// servers only, as Okta. An access token and nothing else (no ID or refresh token).
//
// The new token dies with the one it was exchanged for (SPEC section 6): it names it in its `sbj`
// claim, and every check of it reads that token's revocations, status and generations too, in the
// same round trip. A token that was itself exchanged is not exchanged again, so that no chain
// outlives the token it started from.
//
// The same grant with a device secret as the actor token is Native SSO (native-sso.ts).
import { tokenExchangeGrantType } from '@gatehouse/directory';
import { evaluateAccessPolicy, newGrantId, subjectTokenClaim } from '@gatehouse/grants';
import {
  InvalidRequest,
  InvalidScope,
  InvalidTarget,
  UnauthorizedClient,
  UnsupportedGrantType,
} from '@gatehouse/http';
import { type DirectoryCache, loadSubject, type ServerConfig } from '@gatehouse/oauth-reads';
import type { KeyRing } from '@gatehouse/signing-keys';
import { inspectToken, serverAudiences } from '../token-checks.js';
import { lifetimesOf } from '../token-issuer.js';
import {
  type GrantHandler,
  type GrantRequest,
  policyRefusal,
  requestedScopes,
  requireGrantType,
} from './grant-context.js';
import { nativeSso } from './native-sso.js';
import { accessTokenType, deviceSecretTokenType } from './token-types.js';

export interface TokenExchangeDeps {
  directory: DirectoryCache;
  ring: KeyRing;
}

const invalidSubjectToken = () =>
  new InvalidRequest('The subject_token is invalid, expired or revoked.');

export function tokenExchangeGrant(deps: TokenExchangeDeps): GrantHandler {
  return async (request) => {
    requireGrantType(request, tokenExchangeGrantType);
    const { form } = request;
    if (form.get('actor_token_type') === deviceSecretTokenType) return nativeSso(request, deps);
    return onBehalfOf(request, deps);
  };
}

async function onBehalfOf(request: GrantRequest, deps: TokenExchangeDeps) {
  const { form, config, authenticated, store } = request;
  if (!config.server)
    throw new UnsupportedGrantType(
      'Token exchange is supported by custom authorization servers only.',
    );
  if (authenticated.method === 'none')
    throw new UnauthorizedClient('A public client cannot exchange a token on behalf of a user.');
  const subjectToken = form.get('subject_token');
  const subjectType = form.get('subject_token_type');
  if (!subjectToken) throw new InvalidRequest('The subject_token parameter is required.');
  if (!subjectType) throw new InvalidRequest('The subject_token_type parameter is required.');
  if (subjectType !== accessTokenType)
    throw new InvalidRequest(
      `The subject_token_type must be ${accessTokenType} (or, with a device secret as the actor_token, Native SSO's ID token).`,
    );
  if (form.has('actor_token') || form.has('actor_token_type'))
    throw new InvalidRequest(
      'An actor_token is taken only as a device secret (Native SSO); on-behalf-of exchanges take none.',
    );
  const requested = form.get('requested_token_type');
  if (requested !== undefined && requested !== accessTokenType)
    throw new InvalidRequest(
      `Only access tokens are issued: requested_token_type ${accessTokenType}.`,
    );
  const audiences = serverAudiences(config);
  const audience = form.get('audience');
  if (audience !== undefined && !audiences.includes(audience))
    throw new InvalidTarget(
      `The audience must be this authorization server's: ${audiences.join(', ')}.`,
    );

  // The subject token: an access token of a user, from a custom server of this tenant, still valid.
  const source = await sourceServer(subjectToken, config, deps.directory);
  if (!source) throw invalidSubjectToken();
  const found = await inspectToken(subjectToken, source, '', { ...request, ring: deps.ring });
  if (found?.kind !== 'access_token') throw invalidSubjectToken();
  const { claims } = found;
  if (typeof claims.uid !== 'string' || typeof claims.jti !== 'string')
    throw new InvalidRequest('The subject_token must be an access token issued to a user.');
  if (claims[subjectTokenClaim] !== undefined)
    throw new InvalidRequest('A token issued by a token exchange cannot be exchanged again.');

  const scopes = requestedScopes(form);
  if (scopes?.includes('openid') || scopes?.includes('offline_access'))
    throw new InvalidScope(
      'A token exchange issues an access token only: openid and offline_access cannot be requested.',
    );
  const subject = await loadSubject(store, config.tenant, claims.uid, {
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time : 0,
    amr: [],
  });
  if (!subject) throw invalidSubjectToken();
  const decision = evaluateAccessPolicy({
    policies: config.policies,
    rules: config.rules,
    serverScopes: config.scopes,
    clientId: authenticated.client.id,
    grantType: tokenExchangeGrantType,
    user: { id: subject.user.id, groupIds: subject.user.groups.map((group) => group.id) },
    requestedScopes: scopes ?? [],
  });
  if (!decision.allowed) throw policyRefusal(decision);
  const tokens = await request.issuer.issue({
    config,
    client: authenticated.client,
    grantId: newGrantId(),
    grantType: tokenExchangeGrantType,
    scopes: decision.scopes,
    subject,
    lifetimes: lifetimesOf(decision),
    subjectToken: { jti: claims.jti, server: source.serverId, cid: found.clientId },
    causationId: request.requestId,
  });
  return { ...tokens, issued_token_type: accessTokenType };
}

/**
 * The custom authorization server of this tenant that issued `token` (by its unverified `iss`: the
 * token is then verified with that server's keys), or undefined.
 */
async function sourceServer(
  token: string,
  config: ServerConfig,
  directory: DirectoryCache,
): Promise<ServerConfig | undefined> {
  let iss: unknown;
  try {
    iss = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).iss;
  } catch {
    return undefined;
  }
  if (typeof iss !== 'string') return undefined;
  if (iss === config.issuer) return config;
  // Custom servers' issuers are {org}/oauth2/{serverId}: this one's, with another server id.
  const prefix = config.issuer.slice(0, config.issuer.lastIndexOf('/') + 1);
  const serverId = iss.startsWith(prefix) ? iss.slice(prefix.length) : '';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(serverId)) return undefined;
  const source = await directory.server(config.tenant, serverId);
  return source?.server && source.issuer === iss ? source : undefined;
}
