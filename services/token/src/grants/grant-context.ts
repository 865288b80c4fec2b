// What every grant handler gets, and the errors they share.

import type { AuthenticatedClient } from '@gatehouse/client-auth';
import type { PolicyDenial } from '@gatehouse/grants';
import { AccessDenied, InvalidScope, type OAuthError, UnauthorizedClient } from '@gatehouse/http';
import type { FreshnessGuard, ServerConfig } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { IssuedTokens, TokenIssuer } from '../token-issuer.js';

export interface GrantRequest {
  /** The request's id: the causation id of the events it appends. */
  requestId: string;
  form: Map<string, string>;
  config: ServerConfig;
  authenticated: AuthenticatedClient;
  store: ProjectionStore;
  /** Issues the grant's tokens; with a DPoP proof, every access token bound to its key. */
  issuer: Pick<TokenIssuer, 'issue'>;
  now: () => number;
  /** How stale the read models may be for the grant's checks (SPEC section 6). */
  guard: FreshnessGuard;
  /** The thumbprint of the key the request's DPoP proof proved (RFC 9449): bind the tokens to it. */
  dpopJkt?: string;
}

export type GrantHandler = (request: GrantRequest) => Promise<IssuedTokens>;

/**
 * The DPoP key a refresh token issued now is bound to (RFC 9449 section 5): the proof's, for a
 * public client, whose refresh tokens nothing else ties to it. A confidential client's refresh
 * token is bound to its client authentication; each of its access tokens to the key of the proof
 * sent with the request that issued it.
 */
export function refreshDpopBinding(request: GrantRequest): { dpopJkt?: string } {
  return request.authenticated.method === 'none' && request.dpopJkt
    ? { dpopJkt: request.dpopJkt }
    : {};
}

/**
 * A refresh token for a grant that has `offline_access` and a client registered for refresh
 * (bound to a public client's DPoP key), or none.
 */
export function refreshTokenFor(
  request: GrantRequest,
  scopes: readonly string[],
): { refreshToken?: { dpopJkt?: string } } {
  return scopes.includes('offline_access') &&
    request.authenticated.client.metadata.grantTypes.includes('refresh_token')
    ? { refreshToken: refreshDpopBinding(request) }
    : {};
}

/** A policy's refusal as the OAuth error the client gets (its `detail` is not for the client). */
export const policyRefusal = (denial: PolicyDenial): OAuthError =>
  denial.error === 'access_denied'
    ? new AccessDenied(denial.description)
    : new InvalidScope(denial.description);

/** The client must have registered the grant type (RFC 6749 section 5.2, unauthorized_client). */
export function requireGrantType(request: GrantRequest, grantType: string): void {
  const registered = request.authenticated.client.metadata.grantTypes;
  if (!registered.includes(grantType))
    throw new UnauthorizedClient(
      `The client is not authorized to use the provided grant type. Configured grant types: [${registered.join(', ')}].`,
    );
}

/** A `scope` parameter as a list: space-separated, at most 1024 characters (seed 001). */
export function requestedScopes(form: Map<string, string>): string[] | undefined {
  const scope = form.get('scope');
  if (scope === undefined) return undefined;
  if (scope.length > 1024)
    throw new InvalidScope('The scope parameter must be at most 1024 characters.');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f"\\]/.test(scope))
    throw new InvalidScope('The scope parameter has invalid characters.');
  return [...new Set(scope.split(' ').filter((name) => name.length > 0))];
}

/**
 * Issues what `issue` gives; should it fail, puts back the single-use record the exchange spent
 * (`spent` written over `previous` at `key`), so that the client, answered an error and holding
 * what it sent, can send it again: an exchange that gave the client nothing was not a use. Only if
 * the key still holds `spent`; with the spent mark's `version` where it has one, so that no late
 * projection of an event of the failed attempt (appended, its acknowledgement lost) spends it
 * again. Tried a few times within about a second (the failure, Redis failing over say, may fail
 * the first try too); if the store never answers, the record stays spent: its retry is refused as a
 * reuse, the safe side.
 */
export async function undoneOnFailure<T>(
  issue: () => Promise<T>,
  restore: {
    store: ProjectionStore;
    key: string;
    spent: string;
    previous: string;
    /** How long the put-back record lives; nothing is put back when it would not. */
    ttlMs: () => number;
    version?: number;
  },
): Promise<T> {
  try {
    return await issue();
  } catch (error) {
    const { store, key, spent, previous, version } = restore;
    for (const pause of [0, 100, 300, 600]) {
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      const ttlMs = restore.ttlMs();
      if (ttlMs < 1) break;
      try {
        await store.compareAndSet(key, spent, previous, {
          ttlMs,
          ...(version === undefined ? {} : { version }),
        });
        break;
      } catch {
        // tried again
      }
    }
    throw error;
  }
}
