import type { Claim } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { checkClaim, checkRule, defaultAccessPolicy } from './access.js';
import { systemScope } from './scopes.js';

const scopes = [systemScope('s1', 'email'), systemScope('s2', 'profile')];
const claim: Claim = {
  id: 'c',
  name: 'email_address',
  status: 'ACTIVE',
  claimType: 'RESOURCE',
  valueType: 'EXPRESSION',
  value: 'user.email',
  scopes: ['email'],
  alwaysIncludeInToken: true,
  groupFilterType: '',
};
const fields = (problems: { field: string }[]) => problems.map((p) => p.field);

describe('claims', () => {
  it('accept profile expressions, string literals and group filters', () => {
    expect(checkClaim(claim, scopes)).toEqual([]);
    expect(checkClaim({ ...claim, value: '"tier-1"' }, scopes)).toEqual([]);
    expect(
      checkClaim(
        { ...claim, valueType: 'GROUPS', value: '^eng', groupFilterType: 'REGEX', name: 'groups' },
        scopes,
      ),
    ).toEqual([]);
  });

  it('refuse reserved names, unknown attributes and scopes, and bad filters', () => {
    expect(fields(checkClaim({ ...claim, name: 'sub' }, scopes))).toEqual(['name']);
    expect(fields(checkClaim({ ...claim, value: 'user.shoeSize' }, scopes))).toEqual(['value']);
    expect(fields(checkClaim({ ...claim, value: 'java.lang.Runtime' }, scopes))).toEqual(['value']);
    expect(fields(checkClaim({ ...claim, scopes: ['orders'] }, scopes))).toEqual([
      'conditions.scopes',
    ]);
    expect(
      fields(
        checkClaim({ ...claim, valueType: 'GROUPS', value: '(', groupFilterType: 'REGEX' }, scopes),
      ),
    ).toEqual(['value']);
    // A pattern whose matching time is unbounded (ReDoS) is refused when the claim is made.
    expect(
      checkClaim(
        { ...claim, valueType: 'GROUPS', value: '(a+)+', groupFilterType: 'REGEX' },
        scopes,
      ).map((problem) => problem.field),
    ).toEqual(['value']);
    expect(
      fields(
        checkClaim(
          { ...claim, valueType: 'GROUPS', value: 'eng', groupFilterType: 'LIKE' },
          scopes,
        ),
      ),
    ).toEqual(['group_filter_type']);
    expect(fields(checkClaim({ ...claim, claimType: 'BOTH', status: 'ON' }, scopes))).toEqual([
      'claimType',
      'status',
    ]);
  });
});

describe('rules', () => {
  const { rule } = defaultAccessPolicy({ policyId: 'p', ruleId: 'r', everyoneGroupId: 'g' });

  it('make the default rule of SPEC section 2 valid: every grant type and scope, 60 min and 90 days', () => {
    expect(checkRule(rule, scopes)).toEqual([]);
    expect(rule).toMatchObject({
      grantTypes: [
        'authorization_code',
        'implicit',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      scopes: ['*'],
      accessTokenLifetimeMinutes: 60,
      refreshTokenLifetimeMinutes: 129_600,
    });
  });

  it('may list the device authorization grant (RFC 8628), which the default rule leaves out as Okta does', () => {
    const device = 'urn:ietf:params:oauth:grant-type:device_code';
    expect(checkRule({ ...rule, grantTypes: [device] }, scopes)).toEqual([]);
    expect(rule.grantTypes).not.toContain(device);
    expect(fields(checkRule({ ...rule, grantTypes: ['password'] }, scopes))).toEqual([
      'conditions.grantTypes.include',
    ]);
  });

  it('keep lifetimes in range: access 5..1440 min, a window of at least 10 min within the refresh lifetime', () => {
    expect(fields(checkRule({ ...rule, accessTokenLifetimeMinutes: 4 }, scopes))).toEqual([
      'actions.token.accessTokenLifetimeMinutes',
    ]);
    expect(fields(checkRule({ ...rule, accessTokenLifetimeMinutes: 1441 }, scopes))).toEqual([
      'actions.token.accessTokenLifetimeMinutes',
    ]);
    expect(fields(checkRule({ ...rule, refreshTokenWindowMinutes: 9 }, scopes))).toEqual([
      'actions.token.refreshTokenWindowMinutes',
    ]);
    expect(
      fields(
        checkRule(
          { ...rule, refreshTokenLifetimeMinutes: 100, refreshTokenWindowMinutes: 200 },
          scopes,
        ),
      ),
    ).toEqual(['actions.token.refreshTokenWindowMinutes']);
    expect(checkRule({ ...rule, refreshTokenLifetimeMinutes: 0 }, scopes)).toEqual([]);
    expect(
      fields(checkRule({ ...rule, grantTypes: ['password'], scopes: ['orders'] }, scopes)),
    ).toEqual(['conditions.grantTypes.include', 'conditions.scopes.include']);
  });
});
