import type { Claim } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { type AccessTokenClaimsInput, accessTokenClaims } from './access-token.js';
import { ClaimsError } from './claims-error.js';
import { claim, groupsClaim, john, manyGroups, subjectOf } from './testing/subjects.js';

const issuer = 'https://acme.example.com/oauth2/default';
const now = 1467145094;

/** given(the server's claims).when(a token is issued for this request): its claims. */
const given = (customClaims: readonly Claim[]) => ({
  when: (request: Partial<AccessTokenClaimsInput> = {}) =>
    accessTokenClaims({
      issuer,
      audience: 'api://default',
      clientId: '0oaWeb',
      scopes: ['openid', 'email', 'orders:read'],
      subject: subjectOf(john),
      now,
      lifetimeSeconds: 3600,
      jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
      customClaims,
      ...request,
    }),
});

describe('access token claims', () => {
  it("given a user flow, when the token is issued, then it has seed 001's claims in seed 001's order", () => {
    const claims = given([]).when();
    expect(claims).toEqual({
      ver: 1,
      jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
      iss: issuer,
      aud: 'api://default',
      sub: 'john.doe@example.com',
      iat: now,
      exp: now + 3600,
      cid: '0oaWeb',
      uid: '00uid4BxXw6I6TV4m0g3',
      scp: ['openid', 'email', 'orders:read'],
      auth_time: 1449624026,
    });
    expect(Object.keys(claims)).toEqual([
      'ver',
      'jti',
      'iss',
      'aud',
      'sub',
      'iat',
      'exp',
      'cid',
      'uid',
      'scp',
      'auth_time',
    ]);
  });

  it('given client_credentials, when the token is issued, then sub is the client and there is no uid nor auth_time', () => {
    const claims = given([]).when({ subject: undefined, scopes: ['orders:read'] });
    expect(claims).toMatchObject({ sub: '0oaWeb', cid: '0oaWeb', scp: ['orders:read'] });
    expect(claims).not.toHaveProperty('uid');
    expect(claims).not.toHaveProperty('auth_time');
  });

  it('given one audience, when issued, then aud is a string; given several, then an array', () => {
    expect(given([]).when({ audience: ['api://orders'] }).aud).toBe('api://orders');
    expect(given([]).when({ audience: ['api://a', 'api://b'] }).aud).toEqual([
      'api://a',
      'api://b',
    ]);
  });

  it('given a lifetime from the rule, when issued, then exp is iat plus that lifetime', () => {
    expect(given([]).when({ lifetimeSeconds: 300 })).toMatchObject({ iat: now, exp: now + 300 });
  });

  it('given profile, email, address and phone are granted, when issued, then none of their claims is in the access token (they are for /userinfo)', () => {
    const claims = given([]).when({ scopes: ['openid', 'profile', 'email', 'address', 'phone'] });
    for (const name of ['name', 'preferred_username', 'email', 'address', 'phone_number']) {
      expect(claims).not.toHaveProperty(name);
    }
  });
});

describe('custom RESOURCE claims', () => {
  it('given claims conditioned on scopes, when a scope is granted, then its claims are added after the reserved ones, in definition order', () => {
    const claims = given([
      claim('tier', { value: '"gold"', scopes: ['orders:read'] }),
      claim('mail', { value: 'user.email', scopes: ['email', 'orders:write'] }),
      claim('always', { value: '"yes"' }),
      claim('writer', { value: '"w"', scopes: ['orders:write'] }),
    ]).when({ scopes: ['orders:read', 'email'] });
    expect(claims).toMatchObject({ tier: 'gold', mail: 'john.doe@example.com', always: 'yes' });
    expect(claims).not.toHaveProperty('writer');
    expect(Object.keys(claims).slice(-3)).toEqual(['tier', 'mail', 'always']);
  });

  it('given inactive or IDENTITY claims, when issued, then they are not in the access token', () => {
    const claims = given([
      claim('off', { status: 'INACTIVE' }),
      claim('idOnly', { claimType: 'IDENTITY' }),
    ]).when();
    expect(claims).not.toHaveProperty('off');
    expect(claims).not.toHaveProperty('idOnly');
  });

  it('given alwaysIncludeInToken false, when a RESOURCE claim applies, then it is still in the access token', () => {
    expect(given([claim('tier', { alwaysIncludeInToken: false })]).when()).toHaveProperty('tier');
  });

  it('given expressions on the user, when issued, then they read the profile, and an attribute it lacks gives no claim', () => {
    const claims = given([
      claim('first', { value: 'user.firstName' }),
      claim('userId', { value: 'user.id' }),
      claim('verified', { value: 'user.emailVerified' }),
      claim('missing', { value: 'user.shoeSize' }),
      claim('proto', { value: 'user.constructor' }),
      claim('status', { value: 'user.status' }),
    ]).when({
      subject: subjectOf({ ...john, profile: { ...john.profile, middleName: undefined } }),
    });
    expect(claims).toMatchObject({ first: 'John', userId: john.id, verified: true });
    for (const name of ['missing', 'proto', 'status']) expect(claims).not.toHaveProperty(name);
  });

  it('given client_credentials, when issued, then literals are added and user expressions and groups are not', () => {
    const claims = given([
      claim('tier', { value: '"gold"' }),
      claim('first', { value: 'user.firstName' }),
      groupsClaim('.*', 'REGEX'),
    ]).when({ subject: undefined, scopes: ['orders:read'] });
    expect(claims).toMatchObject({ tier: 'gold' });
    expect(claims).not.toHaveProperty('first');
    expect(claims).not.toHaveProperty('groups');
  });

  it('given a claim with a reserved name, when issued, then it never overrides the reserved claim', () => {
    const claims = given([
      claim('sub', { value: '"admin"' }),
      claim('scp', { value: '"*"' }),
      claim('acr', { value: '"loa3"' }),
    ]).when();
    expect(claims).toMatchObject({
      sub: 'john.doe@example.com',
      scp: ['openid', 'email', 'orders:read'],
    });
    expect(claims).not.toHaveProperty('acr');
  });

  it('given two claims of one name, when both apply, then the first defined wins', () => {
    expect(
      given([claim('tier', { value: '"gold"' }), claim('tier', { value: '"tin"' })]).when(),
    ).toMatchObject({ tier: 'gold' });
  });

  it('given a groups claim, when issued, then it lists the matching group names', () => {
    expect(given([groupsClaim('eng', 'STARTS_WITH')]).when()).toMatchObject({
      groups: ['Engineering', 'eng-ops'],
    });
  });

  it('given a groups claim matching no group, when issued, then there is no groups claim', () => {
    expect(given([groupsClaim('finance', 'CONTAINS')]).when()).not.toHaveProperty('groups');
  });

  it('given a groups claim matching 101 groups, when issued, then the request fails', () => {
    const crowded = subjectOf({ ...john, groups: manyGroups(101) });
    expect(() => given([groupsClaim('team-', 'STARTS_WITH')]).when({ subject: crowded })).toThrow(
      ClaimsError,
    );
  });

  it('given a groups claim matching 101 groups but conditioned on a scope not granted, when issued, then it is not evaluated and the request succeeds', () => {
    const crowded = subjectOf({ ...john, groups: manyGroups(101) });
    const claims = given([groupsClaim('team-', 'STARTS_WITH', { scopes: ['orders:write'] })]).when({
      subject: crowded,
      scopes: ['orders:read'],
    });
    expect(claims).not.toHaveProperty('groups');
  });
});
