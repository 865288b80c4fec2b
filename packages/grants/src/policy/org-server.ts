// The org authorization server has no policies: it knows only the reserved scopes and issues
// tokens of fixed lifetimes (seed 001, "Token lifetime").
import { noScopeRequested, type PolicyDecision, scopesNotConfigured } from './decision.js';
import { distinctScopes, listScopes, openIdConnectScopes } from './openid-scopes.js';

/** Seed 001's reserved scopes: the OpenID Connect ones and `groups`. */
export const orgServerScopes: ReadonlySet<string> = new Set([...openIdConnectScopes, 'groups']);

export const orgServerLifetimes = {
  accessTokenSeconds: 60 * 60,
  refreshTokenSeconds: 90 * 24 * 60 * 60,
  /**
   * The seed fixes the refresh lifetime only; SPEC section 5 wants an idle window, and this is the
   * default server's (its default rule's 7 days), so both servers behave alike out of the box.
   */
  refreshTokenWindowSeconds: 7 * 24 * 60 * 60,
} as const;

/**
 * The org server's decision for a request. It has no policy or rule, so `policyId` and `ruleId`
 * are empty: a token it issues is never invalidated by a policy change (SPEC section 6, item 5).
 */
export function orgServerDecision(requestedScopes: readonly string[]): PolicyDecision {
  const scopes = distinctScopes(requestedScopes);
  if (scopes.length === 0) {
    return noScopeRequested();
  }
  const unknown = scopes.filter((scope) => !orgServerScopes.has(scope));
  if (unknown.length > 0) {
    return scopesNotConfigured(
      unknown,
      `The org authorization server knows only ${listScopes([...orgServerScopes])}; custom scopes need a custom authorization server.`,
    );
  }
  return {
    allowed: true,
    policyId: '',
    ruleId: '',
    scopes,
    accessTokenLifetimeSeconds: orgServerLifetimes.accessTokenSeconds,
    refreshTokenLifetimeSeconds: orgServerLifetimes.refreshTokenSeconds,
    refreshTokenWindowSeconds: orgServerLifetimes.refreshTokenWindowSeconds,
  };
}
