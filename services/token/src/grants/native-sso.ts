// OpenID Connect Native SSO 1.0, on the token exchange grant: a native app signed in with the
// `device_sso` scope got a device secret with its tokens, and its ID tokens name that session
// (`sid`) and secret (`ds_hash`). Another native app of the tenant on the same device presents that
// ID token (subject_token, `...:id_token`) and the device secret (actor_token,
// `urn:x-oath:params:oauth:token-type:device-secret`) and gets tokens of its own for the same user,
// without a new sign-in.
//
// The device secret must be current: its session's grant not revoked, and its client and user not
// changed since it was issued (SPEC section 6: it dies with them). The ID token must be one of this
// server's, unexpired, issued to the device secret's app for its user, of its session and secret.
// The new app must be assigned to the user and allowed by the server's policy, as at /authorize.
import { type ClientView, tokenExchangeGrantType } from '@gatehouse/directory';
import {
  type DeviceSecretRecord,
  deviceSecretHash,
  evaluateAccessPolicy,
  grantKeys,
  newGrantId,
  orgServerDecision,
  sha256Hex,
} from '@gatehouse/grants';
import {
  AccessDenied,
  InvalidGrant,
  InvalidRequest,
  InvalidTarget,
  UnauthorizedClient,
} from '@gatehouse/http';
import { TokenInvalidError, verifyJwt } from '@gatehouse/jwt';
import { isAssigned, loadSubject } from '@gatehouse/oauth-reads';
import { grantStillValid, serverAudiences } from '../token-checks.js';
import { type IssuedTokens, lifetimesOf } from '../token-issuer.js';
import {
  type GrantRequest,
  policyRefusal,
  refreshTokenFor,
  requestedScopes,
} from './grant-context.js';
import type { TokenExchangeDeps } from './token-exchange.js';
import { accessTokenType, idTokenType } from './token-types.js';

const invalidSession = () =>
  new InvalidGrant('The device secret or the ID token is invalid, expired or revoked.');

export async function nativeSso(
  request: GrantRequest,
  deps: TokenExchangeDeps,
): Promise<IssuedTokens> {
  const { form, config, authenticated, store } = request;
  const client: ClientView = authenticated.client;
  if (client.metadata.applicationType !== 'native')
    throw new UnauthorizedClient('Native SSO is for native applications.');
  const deviceSecret = form.get('actor_token');
  const idToken = form.get('subject_token');
  if (!deviceSecret)
    throw new InvalidRequest('The actor_token parameter (the device secret) is required.');
  if (!idToken) throw new InvalidRequest('The subject_token parameter (the ID token) is required.');
  if (form.get('subject_token_type') !== idTokenType)
    throw new InvalidRequest(
      `With a device secret, the subject_token_type must be ${idTokenType}.`,
    );
  const requested = form.get('requested_token_type');
  if (requested !== undefined && requested !== accessTokenType)
    throw new InvalidRequest(
      `Only access tokens are issued: requested_token_type ${accessTokenType}.`,
    );
  const audiences = serverAudiences(config);
  const audience = form.get('audience');
  if (audience !== undefined && audience !== config.issuer && !audiences.includes(audience))
    throw new InvalidTarget(
      `The audience must be this authorization server: ${[config.issuer, ...audiences].join(', ')}.`,
    );

  // The device secret, and the session it was issued with.
  if (deviceSecret.length > 256) throw invalidSession();
  const secretSha256 = sha256Hex(deviceSecret);
  const stored = await store.get(grantKeys.deviceSecret(config.tenant, secretSha256));
  if (stored === null) throw invalidSession();
  const record = JSON.parse(stored) as DeviceSecretRecord;
  if (record.serverId !== config.serverId || record.expiresAt <= request.now())
    throw invalidSession();
  let claims: Record<string, unknown>;
  try {
    claims = verifyJwt(idToken, {
      issuer: config.issuer,
      audience: record.clientId,
      keys: await deps.ring.verificationKeys(config.tenant, config.serverId),
      now: request.now,
    }).claims;
  } catch (error) {
    if (error instanceof TokenInvalidError) throw invalidSession();
    throw error;
  }
  if (
    claims.sub !== record.userId ||
    claims.sid !== record.grantId ||
    claims.ds_hash !== deviceSecretHash(secretSha256)
  )
    throw invalidSession();
  // Revoked, or implicitly invalidated (SPEC section 6): its app or user changed since.
  if (!(await grantStillValid(store, config, record, request.guard))) throw invalidSession();

  // The app asking: the user's, and allowed what it asks by the server.
  const subject = await loadSubject(store, config.tenant, record.userId, record);
  if (!subject) throw invalidSession();
  const groupIds = subject.user.groups.map((group) => group.id);
  if (!(await isAssigned(store, config.tenant, client.id, subject.user.id, groupIds)))
    throw new AccessDenied('User is not assigned to the client application.');
  const scopes = requestedScopes(form) ?? [];
  const decision = config.server
    ? evaluateAccessPolicy({
        policies: config.policies,
        rules: config.rules,
        serverScopes: config.scopes,
        clientId: client.id,
        grantType: tokenExchangeGrantType,
        user: { id: subject.user.id, groupIds },
        requestedScopes: scopes,
      })
    : orgServerDecision(scopes);
  if (!decision.allowed) throw policyRefusal(decision);
  const tokens = await request.issuer.issue({
    config,
    client,
    grantId: newGrantId(),
    grantType: tokenExchangeGrantType,
    scopes: decision.scopes,
    subject,
    lifetimes: lifetimesOf(decision),
    ...(decision.scopes.includes('openid') ? { idToken: {} } : {}),
    ...refreshTokenFor(request, decision.scopes),
    causationId: request.requestId,
  });
  return { ...tokens, issued_token_type: accessTokenType };
}
