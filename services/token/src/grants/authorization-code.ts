// authorization_code (RFC 6749 section 4.1.3, RFC 7636): the code is bound to its client and
// redirect_uri, lives 60 s, and is exchanged once: the exchange swaps the record for a "redeemed"
// marker with compare-and-set, so of concurrent exchanges exactly one wins. A code presented again
// is a replay, and every token its first exchange produced is revoked (RFC 6749 section 4.1.2).
// An exchange answered with an error gave nothing, so it is not a use: the code is put back (see
// undoneOnFailure) and the client may send it again within its 60 s.
import { createHash } from 'node:crypto';
import {
  type CodeRecord,
  codeReplayWindowMs,
  grantKeys,
  type RedeemedCode,
  sha256Hex,
} from '@gatehouse/grants';
import { InvalidGrant, InvalidRequest } from '@gatehouse/http';
import { loadSubject } from '@gatehouse/oauth-reads';
import type { Revocations } from '../revocations.js';
import { grantStillValid } from '../token-checks.js';
import { lifetimesOf } from '../token-issuer.js';
import {
  type GrantHandler,
  refreshTokenFor,
  requireGrantType,
  undoneOnFailure,
} from './grant-context.js';

const codeVerifierPattern = /^[A-Za-z0-9._~-]{43,128}$/;

const invalidCode = () => new InvalidGrant('The authorization code is invalid or has expired.');

export function authorizationCodeGrant(revocations: Revocations): GrantHandler {
  return async (request) => {
    const { form, config, authenticated, store } = request;
    requireGrantType(request, 'authorization_code');
    const code = form.get('code');
    if (!code) throw new InvalidRequest('The code parameter is required.');
    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) throw new InvalidRequest('The redirect_uri parameter is required.');
    const verifier = form.get('code_verifier');
    if (verifier !== undefined && !codeVerifierPattern.test(verifier))
      throw new InvalidRequest(
        'The code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-].',
      );
    if (code.length > 256) throw invalidCode();
    const key = grantKeys.code(config.tenant, sha256Hex(code));
    const causationId = request.requestId;

    const replayed = async (redeemed: RedeemedCode) => {
      await revocations.revokeGrant(
        config.tenant,
        redeemed.grantId,
        'code_replayed',
        null,
        causationId,
      );
      return new InvalidGrant(
        'The authorization code was already used; the tokens it gave were revoked.',
      );
    };
    const stored = await store.get(key);
    if (stored === null) throw invalidCode();
    const record = JSON.parse(stored) as CodeRecord | RedeemedCode;
    if ('redeemed' in record) throw await replayed(record);
    // Bindings first: a code shown by another client, or with the wrong redirect_uri or verifier,
    // is refused without being spent, so a thief cannot burn the rightful client's code.
    if (record.clientId !== authenticated.client.id || record.serverId !== config.serverId)
      throw invalidCode();
    if (record.redirectUri !== redirectUri)
      throw new InvalidGrant(
        'The redirect_uri does not match the one of the authorization request.',
      );
    if (record.expiresAt <= request.now()) throw invalidCode();
    // Implicit invalidation (SPEC section 6): nothing the code is bound to changed since its issue.
    if (!(await grantStillValid(store, config, record, request.guard))) throw invalidCode();
    if (record.codeChallenge === undefined) {
      if (verifier !== undefined)
        throw new InvalidGrant(
          'A code_verifier was given, but the authorization request had no code_challenge.',
        );
      if (authenticated.method === 'none')
        throw new InvalidGrant('A public client must use PKCE (RFC 7636).');
    } else {
      if (verifier === undefined)
        throw new InvalidGrant('The code_verifier parameter is required (PKCE).');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (challenge !== record.codeChallenge) throw new InvalidGrant('PKCE verification failed.');
    }
    // Everything the exchange reads is read before the code is spent.
    const subject = await loadSubject(store, config.tenant, record.userId, record);
    if (!subject) throw new InvalidGrant('The user of this authorization is not active.');
    const redeemed = JSON.stringify({
      redeemed: true,
      grantId: record.grantId,
    } satisfies RedeemedCode);
    if (
      !(await store.compareAndSet(key, stored, redeemed, {
        ttlMs: codeReplayWindowMs,
      }))
    ) {
      const now = await store.get(key);
      if (now !== null && 'redeemed' in (JSON.parse(now) as object))
        throw await replayed(JSON.parse(now) as RedeemedCode);
      throw invalidCode();
    }

    const issue = () =>
      request.issuer.issue({
        config,
        client: authenticated.client,
        grantId: record.grantId,
        grantType: 'authorization_code',
        scopes: record.scopes,
        subject,
        lifetimes: lifetimesOf(record),
        ...(record.scopes.includes('openid')
          ? { idToken: record.nonce ? { nonce: record.nonce } : {} }
          : {}),
        ...refreshTokenFor(request, record.scopes),
        // OpenID Connect Native SSO: a native app granted device_sso gets the session's device
        // secret, which the device's other apps exchange with its ID token for their own tokens.
        ...(record.scopes.includes('openid') &&
        record.scopes.includes('device_sso') &&
        authenticated.client.metadata.applicationType === 'native'
          ? { deviceSecret: 'issue' as const }
          : {}),
        preceding: [
          {
            type: 'gatehouse.events.v1.AuthorizationCodeRedeemed',
            data: { codeSha256: sha256Hex(code) },
          },
        ],
        causationId,
      });
    return undoneOnFailure(issue, {
      store,
      key,
      spent: redeemed,
      previous: stored,
      ttlMs: () => record.expiresAt - request.now(),
    });
  };
}
