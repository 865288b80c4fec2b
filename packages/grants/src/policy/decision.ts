// What the token and authorize services ask an authorization server's access policies, and what
// they are told: granted (with the scopes and token lifetimes of the rule that matched) or refused.
import type { Policy, Rule, Scope } from '@gatehouse/contracts';

export type PolicyGrantType =
  | 'authorization_code'
  | 'implicit'
  | 'refresh_token'
  | 'client_credentials'
  | 'password'
  | 'urn:ietf:params:oauth:grant-type:token-exchange'
  | 'urn:ietf:params:oauth:grant-type:device_code';

export interface PolicyInput {
  /** The server's policies, active or not. */
  policies: readonly Policy[];
  /** Every rule of those policies, active or not. */
  rules: readonly Rule[];
  /** Every scope defined on the server, its OpenID Connect system scopes included. */
  serverScopes: readonly Scope[];
  clientId: string;
  grantType: PolicyGrantType;
  /** Absent for client_credentials. `groupIds` includes the tenant's Everyone group. */
  user?: { id: string; groupIds: readonly string[] };
  /** As requested; duplicates collapse, and none at all means the server's default scopes. */
  requestedScopes: readonly string[];
}

export interface PolicyGrant {
  allowed: true;
  policyId: string;
  ruleId: string;
  /** The requested scopes, each once, in the order first requested. */
  scopes: string[];
  accessTokenLifetimeSeconds: number;
  /** null: the refresh token family never ends of age (it still ends when left idle). */
  refreshTokenLifetimeSeconds: number | null;
  /** A refresh token unused for this long expires. */
  refreshTokenWindowSeconds: number;
}

export interface PolicyDenial {
  allowed: false;
  error: 'access_denied' | 'invalid_scope';
  /** error_description: safe to show the client. */
  description: string;
  /**
   * Why, for the system log only (seed 001, "Start with the System Log"): it names policies and
   * rules, which the client must not learn.
   */
  detail: string;
}

export type PolicyDecision = PolicyGrant | PolicyDenial;

/** Okta's words for a request no policy or rule allows. */
export const policyEvaluationFailed =
  'Policy evaluation failed for this request, please check the policy configurations.';

export function accessDenied(detail: string): PolicyDenial {
  return { allowed: false, error: 'access_denied', description: policyEvaluationFailed, detail };
}

export function invalidScope(description: string, detail = description): PolicyDenial {
  return { allowed: false, error: 'invalid_scope', description, detail };
}

/** Nothing requested, and the server has no default scope to stand in (Okta's words). */
export function noScopeRequested(): PolicyDenial {
  return invalidScope(
    "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
  );
}

/** Okta's words, and which scopes, since that is the first thing the developer will ask. */
export function scopesNotConfigured(unknown: readonly string[], detail?: string): PolicyDenial {
  return invalidScope(
    `One or more scopes are not configured for the authorization server resource: ${unknown.join(', ')}.`,
    detail,
  );
}
