// Claims, policies and rules of a custom authorization server: their rules (seed 001, SPEC section 3)
// and the default policy every `default` server starts with (SPEC section 2).

import type { Claim, Policy, Rule, Scope } from '@gatehouse/contracts';
import type { FieldProblem } from '../errors.js';
import { profileAttributes } from '../users/profile.js';
import { compileGroupPattern } from './group-pattern.js';

/** Claims a token has of its own (seed 001's reserved claims, and OIDC's): never custom. */
export const reservedClaims: ReadonlySet<string> = new Set([
  'alg',
  'kid',
  'auth_time',
  'cid',
  'exp',
  'iat',
  'iss',
  'jti',
  'scp',
  'uid',
  'ver',
  'acr',
  'amr',
  'sub',
  'aud',
  'nbf',
  'idp',
  'nonce',
  'at_hash',
  'c_hash',
  'azp',
  'sid',
  // A token issued by token exchange: the token it was exchanged for (RFC 8693, Gatehouse's).
  'sbj',
  // RFC 7800 / RFC 9449: the key a DPoP-bound token is bound to.
  'cnf',
]);
/**
 * Okta's literal in a rule's `conditions.people.groups.include`: every user of the tenant. Kept as
 * written (Okta answers it back so), not as the id of the tenant's Everyone group.
 */
export const everyoneInRule = 'EVERYONE';
export const ruleGrantTypes = [
  'authorization_code',
  'implicit',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;
/**
 * What a new server's default rule allows, as Okta's does: every grant type but the device
 * authorization grant, which a rule must list before a device can use it (Okta's docs have it
 * added to a rule).
 */
export const defaultRuleGrantTypes = ruleGrantTypes.filter(
  (grantType) => grantType !== 'urn:ietf:params:oauth:grant-type:device_code',
);
export const groupFilterTypes = ['STARTS_WITH', 'EQUALS', 'CONTAINS', 'REGEX'] as const;

const namePattern = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/;
const oneOf = (value: string, values: readonly string[]) => values.includes(value);

export function checkClaim(
  claim: Claim,
  scopes: readonly Scope[],
  customAttributes: readonly string[] = [],
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!namePattern.test(claim.name))
    problems.push({
      field: 'name',
      message: 'must be 1 to 100 printable ASCII characters without spaces, quotes or backslashes',
    });
  else if (reservedClaims.has(claim.name))
    problems.push({ field: 'name', message: `${claim.name} is a reserved claim` });
  if (!oneOf(claim.claimType, ['RESOURCE', 'IDENTITY']))
    problems.push({ field: 'claimType', message: 'must be RESOURCE or IDENTITY' });
  if (!oneOf(claim.status, ['ACTIVE', 'INACTIVE']))
    problems.push({ field: 'status', message: 'must be ACTIVE or INACTIVE' });
  if (claim.valueType === 'EXPRESSION') {
    const attribute = /^user\.([A-Za-z][A-Za-z0-9_]*)$/.exec(claim.value)?.[1];
    const literal = /^"[^"\\]{0,1024}"$/.test(claim.value);
    if (
      !literal &&
      !(
        attribute &&
        (profileAttributes as readonly string[])
          .concat(['id', 'status'], customAttributes)
          .includes(attribute)
      )
    ) {
      problems.push({
        field: 'value',
        message: 'must be user.<profile attribute> or a "quoted string"',
      });
    }
  } else if (claim.valueType === 'GROUPS') {
    if (!oneOf(claim.groupFilterType, groupFilterTypes))
      problems.push({
        field: 'group_filter_type',
        message: `must be one of ${groupFilterTypes.join(', ')}`,
      });
    if (claim.value.length === 0 || claim.value.length > 1024)
      problems.push({ field: 'value', message: 'must be 1 to 1024 characters' });
    else if (claim.groupFilterType === 'REGEX') {
      // The same rule token issuance applies: a pattern it would refuse is refused here, at once.
      const compiled = compileGroupPattern(claim.value);
      if ('refused' in compiled) problems.push({ field: 'value', message: compiled.refused });
    }
  } else problems.push({ field: 'valueType', message: 'must be EXPRESSION or GROUPS' });
  const known = new Set(scopes.map((s) => s.name));
  for (const scope of claim.scopes)
    if (!known.has(scope))
      problems.push({
        field: 'conditions.scopes',
        message: `${scope} is not a scope of this authorization server`,
      });
  return problems;
}

export function checkPolicy(policy: Policy): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (policy.name.length === 0 || policy.name.length > 100)
    problems.push({ field: 'name', message: 'must be 1 to 100 characters' });
  if (policy.description.length > 255)
    problems.push({ field: 'description', message: 'must be at most 255 characters' });
  if (policy.priority < 1) problems.push({ field: 'priority', message: 'must be at least 1' });
  if (!oneOf(policy.status, ['ACTIVE', 'INACTIVE']))
    problems.push({ field: 'status', message: 'must be ACTIVE or INACTIVE' });
  if (policy.clientIds.length === 0)
    problems.push({
      field: 'conditions.clients.include',
      message: 'must list ALL_CLIENTS or client ids',
    });
  if (policy.clientIds.includes('ALL_CLIENTS') && policy.clientIds.length > 1) {
    problems.push({ field: 'conditions.clients.include', message: 'ALL_CLIENTS stands alone' });
  }
  return problems;
}

export function checkRule(rule: Rule, scopes: readonly Scope[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (rule.name.length === 0 || rule.name.length > 100)
    problems.push({ field: 'name', message: 'must be 1 to 100 characters' });
  if (rule.priority < 1) problems.push({ field: 'priority', message: 'must be at least 1' });
  if (!oneOf(rule.status, ['ACTIVE', 'INACTIVE']))
    problems.push({ field: 'status', message: 'must be ACTIVE or INACTIVE' });
  if (rule.grantTypes.length === 0 || rule.grantTypes.some((g) => !oneOf(g, ruleGrantTypes))) {
    problems.push({
      field: 'conditions.grantTypes.include',
      message: `must list grant types among ${ruleGrantTypes.join(', ')}`,
    });
  }
  const known = new Set(scopes.map((s) => s.name));
  if (rule.scopes.length === 0)
    problems.push({ field: 'conditions.scopes.include', message: 'must list scopes, or *' });
  for (const scope of rule.scopes) {
    if (scope !== '*' && !known.has(scope))
      problems.push({
        field: 'conditions.scopes.include',
        message: `${scope} is not a scope of this authorization server`,
      });
  }
  const {
    accessTokenLifetimeMinutes: access,
    refreshTokenLifetimeMinutes: refresh,
    refreshTokenWindowMinutes: window,
  } = rule;
  if (access < 5 || access > 1440)
    problems.push({
      field: 'actions.token.accessTokenLifetimeMinutes',
      message: 'must be from 5 to 1440',
    });
  if (refresh !== 0 && (refresh < access || refresh > 5 * 525_600)) {
    problems.push({
      field: 'actions.token.refreshTokenLifetimeMinutes',
      message: 'must be 0 (unlimited), or from the access token lifetime to 5 years',
    });
  }
  if (window < 10 || (refresh !== 0 && window > refresh)) {
    problems.push({
      field: 'actions.token.refreshTokenWindowMinutes',
      message: 'must be at least 10, and at most the refresh token lifetime',
    });
  }
  return problems;
}

/** SPEC section 2: every client, every grant type, every scope; access 60 min, refresh 90 days. */
export function defaultAccessPolicy(ids: {
  policyId: string;
  ruleId: string;
  everyoneGroupId: string;
}): { policy: Policy; rule: Rule } {
  return {
    policy: {
      id: ids.policyId,
      name: 'Default Policy',
      description: 'Default policy description',
      priority: 1,
      status: 'ACTIVE',
      clientIds: ['ALL_CLIENTS'],
    },
    rule: {
      id: ids.ruleId,
      policyId: ids.policyId,
      name: 'Default Policy Rule',
      priority: 1,
      status: 'ACTIVE',
      grantTypes: [...defaultRuleGrantTypes],
      userIds: [],
      groupIds: [ids.everyoneGroupId],
      scopes: ['*'],
      accessTokenLifetimeMinutes: 60,
      refreshTokenLifetimeMinutes: 129_600,
      refreshTokenWindowMinutes: 10_080,
    },
  };
}
