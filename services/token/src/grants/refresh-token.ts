// refresh_token (RFC 6749 section 6): opaque, kept only as its SHA-256, rotated on every use. The
// exchange marks the token spent with compare-and-set, so of concurrent uses exactly one rotates; a
// spent token presented again means the family leaked, and the whole grant is revoked (RFC 9700
// section 4.14.2) — whatever state the projector is in: the spent mark is this service's own write,
// versioned by the family's sequence so that no late projection of an older event undoes it.
// Scopes may only narrow. The family keeps its absolute end; each token its idle one. A public
// client's refresh token sent with a DPoP proof is bound to its key, and so is every later token of
// the family (RFC 9449 section 5).
//
// A rotation the client never received is undone: when the exchange fails after the spent mark (the
// log refused or never acknowledged TokensIssued, no signing key), the client is answered an error
// and still holds the token it sent, so the token is made current again — with the same version
// as the spent mark, so that the projection of a TokensIssued that did reach the log (its
// acknowledgement lost) cannot spend it either. The client's retry then rotates it for real; only
// a token that was exchanged and answered is reuse. The log may then hold two rotations of the
// token at one sequence, the abandoned one's successor known to nobody; after the retry, a
// rebuild from the log reaches the state the service wrote.
import { grantKeys, type RefreshRecord, sha256Hex } from '@gatehouse/grants';
import { InvalidDpopProof, InvalidGrant, InvalidRequest, InvalidScope } from '@gatehouse/http';
import { loadSubject } from '@gatehouse/oauth-reads';
import type { Revocations } from '../revocations.js';
import { grantStillValid } from '../token-checks.js';
import { lifetimesOf } from '../token-issuer.js';
import {
  type GrantHandler,
  refreshDpopBinding,
  requestedScopes,
  requireGrantType,
  undoneOnFailure,
} from './grant-context.js';

const invalidRefreshToken = () => new InvalidGrant('The refresh token is invalid or expired.');

export function refreshTokenGrant(revocations: Revocations): GrantHandler {
  return async (request) => {
    const { form, config, authenticated, store } = request;
    requireGrantType(request, 'refresh_token');
    const token = form.get('refresh_token');
    if (!token) throw new InvalidRequest('The refresh_token parameter is required.');
    if (token.length > 256) throw invalidRefreshToken();
    const tokenSha256 = sha256Hex(token);
    const key = grantKeys.refresh(config.tenant, tokenSha256);
    const causationId = request.requestId;
    const stored = await store.get(key);
    if (stored === null) throw invalidRefreshToken();
    const record = JSON.parse(stored) as RefreshRecord;
    if (record.clientId !== authenticated.client.id || record.serverId !== config.serverId)
      throw invalidRefreshToken();
    const reused = async () => {
      await revocations.revokeGrant(
        config.tenant,
        record.grantId,
        'refresh_token_reused',
        record.familyExpiresAt,
        causationId,
      );
      return new InvalidGrant('The refresh token was already used; its whole family is revoked.');
    };
    // A DPoP-bound refresh token (RFC 9449 section 5) is of no use without its key, not even to
    // set off the reuse detection: checked first.
    if (record.dpopJkt) {
      if (!request.dpopJkt)
        throw new InvalidDpopProof(
          'The refresh token is bound to a DPoP key: send a DPoP proof made with that key.',
        );
      if (request.dpopJkt !== record.dpopJkt)
        throw new InvalidGrant(
          'The DPoP proof was not made with the key the refresh token is bound to.',
        );
    }
    // Reuse first: revoking needs no read model, so it holds even when they are behind.
    if (record.state === 'spent') throw await reused();
    // Revoked, or implicitly invalidated (SPEC section 6): the family's binding changed.
    if (!(await grantStillValid(store, config, record, request.guard))) throw invalidRefreshToken();
    const now = request.now();
    if (record.idleExpiresAt <= now || (record.familyExpiresAt ?? Infinity) <= now)
      throw invalidRefreshToken();
    const scopes = requestedScopes(form) ?? record.scopes;
    const wider = scopes.filter((scope) => !record.scopes.includes(scope));
    if (wider.length > 0)
      throw new InvalidScope(
        `The requested scopes must be a subset of the refresh token's; not granted: ${wider.join(' ')}.`,
      );
    // Everything the exchange reads is read before the token is spent.
    const subject = await loadSubject(store, config.tenant, record.userId, record);
    if (!subject) throw new InvalidGrant('The user of this grant is not active.');
    const spent = JSON.stringify({ ...record, state: 'spent' } satisfies RefreshRecord);
    const familyEnd = record.familyExpiresAt ?? now + 90 * 24 * 3600_000;
    const sequence = (record.sequence ?? 0) + 1;
    if (
      !(await store.compareAndSet(key, stored, spent, {
        ttlMs: Math.max(1, familyEnd - now),
        version: sequence,
      }))
    )
      throw await reused();

    const issue = () =>
      request.issuer.issue({
        config,
        client: authenticated.client,
        grantId: record.grantId,
        bindingDigest: record.bindingDigest,
        grantType: 'refresh_token',
        scopes,
        subject,
        lifetimes: lifetimesOf(record),
        ...(scopes.includes('openid') ? { idToken: {} } : {}),
        refreshToken: {
          replacesSha256: tokenSha256,
          familyExpiresAt: record.familyExpiresAt,
          sequence,
          ...refreshDpopBinding(request),
        },
        // Native SSO: the family's ID tokens keep naming its session and device secret.
        ...(record.deviceSecretSha256
          ? { deviceSecret: { sha256: record.deviceSecretSha256 } }
          : {}),
        causationId,
      });
    // No tokens for the client: the token it sent is current again (see the top of this file).
    return undoneOnFailure(issue, {
      store,
      key,
      spent,
      previous: stored,
      ttlMs: () => Math.min(record.idleExpiresAt, familyEnd) - request.now(),
      version: sequence,
    });
  };
}
