// Access policy evaluation of a custom authorization server, as Okta does it: the first active
// policy (by priority) that governs the client decides alone, through its first active rule (by
// priority) that matches the grant type, the person and the scopes.
import { type Policy, type Rule, type Scope, ScopeConsent } from '@gatehouse/contracts';
import { everyoneInRule } from '@gatehouse/directory';
import {
  accessDenied,
  invalidScope,
  noScopeRequested,
  type PolicyDecision,
  type PolicyDenial,
  type PolicyGrant,
  type PolicyGrantType,
  type PolicyInput,
  scopesNotConfigured,
} from './decision.js';
import { distinctScopes, listScopes, openIdConnectScopes } from './openid-scopes.js';

const allClients = 'ALL_CLIENTS';
const everyScope = '*';

/**
 * The rule grant types a request is evaluated as. A refresh continues the grant that issued its
 * refresh token, and rules cannot list refresh_token (directory's ruleGrantTypes), so a refresh is
 * allowed by a rule that allows a grant issuing refresh tokens: authorization_code, password or the
 * device authorization grant.
 */
const ruleGrantTypesFor: Readonly<Record<PolicyGrantType, readonly string[]>> = {
  authorization_code: ['authorization_code'],
  implicit: ['implicit'],
  client_credentials: ['client_credentials'],
  password: ['password'],
  refresh_token: [
    'refresh_token',
    'authorization_code',
    'password',
    'urn:ietf:params:oauth:grant-type:device_code',
  ],
  'urn:ietf:params:oauth:grant-type:device_code': ['urn:ietf:params:oauth:grant-type:device_code'],
  'urn:ietf:params:oauth:grant-type:token-exchange': [
    'urn:ietf:params:oauth:grant-type:token-exchange',
  ],
};

export function evaluateAccessPolicy(input: PolicyInput): PolicyDecision {
  const scopes = scopesToEvaluate(input);
  if (scopes.length === 0) return noScopeRequested();
  const scopeRefusal = unknownScopes(scopes, input) ?? clientCredentialsScopes(scopes, input);
  if (scopeRefusal) return scopeRefusal;

  const policy = governingPolicy(input.policies, input.clientId);
  if (!policy) {
    return accessDenied(
      `No active access policy of this authorization server applies to client ${input.clientId}.`,
    );
  }
  const rule = activeRulesOf(policy, input.rules).find((candidate) =>
    ruleMatches(candidate, input, scopes),
  );
  if (!rule) {
    return accessDenied(
      `No active rule of policy "${policy.name}" (${policy.id}) matches grant type ` +
        `${input.grantType}, ${input.user ? `user ${input.user.id}` : 'no user'} and scopes ` +
        `${listScopes(scopes)}.`,
    );
  }
  return grantedBy(policy, rule, scopes);
}

/** The requested scopes, each once; none requested means the server's default scopes (Okta). */
function scopesToEvaluate(input: PolicyInput): string[] {
  const requested = distinctScopes(input.requestedScopes);
  if (requested.length > 0) return requested;
  return input.serverScopes.filter((scope) => scope.isDefault).map((scope) => scope.name);
}

/** Okta refuses the whole request when any scope is not defined on the server. */
function unknownScopes(scopes: readonly string[], input: PolicyInput): PolicyDenial | undefined {
  const defined = new Set(input.serverScopes.map((scope) => scope.name));
  const unknown = scopes.filter((scope) => !defined.has(scope) && !openIdConnectScopes.has(scope));
  if (unknown.length === 0) return undefined;
  return scopesNotConfigured(unknown);
}

/**
 * client_credentials has no user: nobody to identify (SPEC section 5: no `openid`, nor the other
 * OpenID Connect scopes, which are about a user) and nobody to consent (seed 001: a scope whose
 * consent is REQUIRED is an error; FLEXIBLE is granted without a prompt).
 */
function clientCredentialsScopes(
  scopes: readonly string[],
  input: PolicyInput,
): PolicyDenial | undefined {
  if (input.grantType !== 'client_credentials') return undefined;
  const aboutAUser = scopes.filter((scope) => openIdConnectScopes.has(scope));
  if (aboutAUser.length > 0) {
    return invalidScope(
      `The client_credentials grant cannot request OpenID Connect scopes (${listScopes(aboutAUser)}): it has no user.`,
    );
  }
  const needConsent = scopes.filter(
    (scope) =>
      scopeNamed(input.serverScopes, scope)?.consent === ScopeConsent.SCOPE_CONSENT_REQUIRED,
  );
  if (needConsent.length > 0) {
    return invalidScope(
      `The client_credentials grant cannot request scopes that require user consent (${listScopes(needConsent)}): it has no user to give it.`,
    );
  }
  return undefined;
}

function scopeNamed(scopes: readonly Scope[], name: string): Scope | undefined {
  return scopes.find((scope) => scope.name === name);
}

/** Only the first active policy (by priority) that names the client, or all clients, is used. */
function governingPolicy(policies: readonly Policy[], clientId: string): Policy | undefined {
  return policies
    .filter((policy) => policy.status === 'ACTIVE')
    .sort(byPriority)
    .find((policy) => policy.clientIds.includes(clientId) || policy.clientIds.includes(allClients));
}

function activeRulesOf(policy: Policy, rules: readonly Rule[]): Rule[] {
  return rules
    .filter((rule) => rule.policyId === policy.id && rule.status === 'ACTIVE')
    .sort(byPriority);
}

/** Priority 1 first; equal priorities by id, so that the read model's set order never matters. */
function byPriority(a: { priority: number; id: string }, b: { priority: number; id: string }) {
  if (a.priority !== b.priority) return a.priority - b.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function ruleMatches(rule: Rule, input: PolicyInput, scopes: readonly string[]): boolean {
  return (
    allowsGrantType(rule, input.grantType) &&
    allowsPerson(rule, input) &&
    allowsScopes(rule, scopes)
  );
}

function allowsGrantType(rule: Rule, grantType: PolicyGrantType): boolean {
  return ruleGrantTypesFor[grantType].some((type) => rule.grantTypes.includes(type));
}

/** The people condition is about users; client_credentials has none, so it does not apply. */
function allowsPerson(rule: Rule, input: PolicyInput): boolean {
  if (input.grantType === 'client_credentials') return true;
  const { user } = input;
  if (!user) return false;
  return (
    rule.groupIds.includes(everyoneInRule) ||
    rule.userIds.includes(user.id) ||
    user.groupIds.some((group) => rule.groupIds.includes(group))
  );
}

/** `*` allows every scope; otherwise every scope must be listed, OpenID Connect ones excepted. */
function allowsScopes(rule: Rule, scopes: readonly string[]): boolean {
  if (rule.scopes.includes(everyScope)) return true;
  return scopes.every((scope) => openIdConnectScopes.has(scope) || rule.scopes.includes(scope));
}

function grantedBy(policy: Policy, rule: Rule, scopes: string[]): PolicyGrant {
  const minutes = 60;
  return {
    allowed: true,
    policyId: policy.id,
    ruleId: rule.id,
    scopes,
    accessTokenLifetimeSeconds: rule.accessTokenLifetimeMinutes * minutes,
    // A rule says 0 for "unlimited" (contracts' Rule).
    refreshTokenLifetimeSeconds:
      rule.refreshTokenLifetimeMinutes === 0 ? null : rule.refreshTokenLifetimeMinutes * minutes,
    refreshTokenWindowSeconds: rule.refreshTokenWindowMinutes * minutes,
  };
}
