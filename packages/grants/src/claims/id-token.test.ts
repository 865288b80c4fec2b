import { createHash } from 'node:crypto';
import type { Claim } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { accessTokenClaims } from './access-token.js';
import { type IdTokenClaimsInput, idTokenClaims } from './id-token.js';
import { claim, john, subjectOf } from './testing/subjects.js';

const issuer = 'https://acme.example.com';
const now = 1449624026;
const accessToken = 'eyJhbGciOiJSUzI1NiJ9.eyJ2ZXIiOjF9.c2lnbmF0dXJl';
const code = 'SplxlOBeZQQYbYS6WxSbIA';
const allScopes = ['openid', 'profile', 'email', 'address', 'phone'];

/** OIDC Core 3.1.3.6, computed here on its own: left half of SHA-256, base64url. */
const leftHalfSha256 = (value: string) =>
  createHash('sha256').update(value).digest().subarray(0, 16).toString('base64url');

/** given(the server).when(an ID token is issued for this request): its claims. */
const given = (server: 'org' | 'custom', customClaims: readonly Claim[] = []) => ({
  when: (request: Partial<IdTokenClaimsInput> = {}) =>
    idTokenClaims({
      issuer,
      clientId: 'uAaunofWkaDJxukCFeBx',
      subject: subjectOf(john),
      scopes: allScopes,
      now,
      jti: 'ID.4eAWJOCMB3SX8XewDfVR',
      idp: '00ok1u7AsAkrwdZL3z0g3',
      server,
      customClaims,
      ...request,
    }),
});

/** Seed 000's example ID token: every claim of profile, email, address and phone for John. */
const everyScopeDependentClaim = {
  name: 'John Doe',
  nickname: 'Jimmy',
  preferred_username: 'john.doe@example.com',
  given_name: 'John',
  middle_name: 'James',
  family_name: 'Doe',
  profile: 'http://profile.wordpress.com/john.doe',
  zoneinfo: 'America/Los_Angeles',
  locale: 'en-US',
  updated_at: 1311280970,
  email: 'john.doe@example.com',
  email_verified: true,
  address: {
    street_address: '123 Hollywood Blvd.',
    locality: 'Los Angeles',
    region: 'CA',
    postal_code: '90210',
    country: 'US',
  },
  phone_number: '+1 (425) 555-1212',
};
const scopeDependentNames = Object.keys(everyScopeDependentClaim);
const scopeDependentOf = (claims: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(claims).filter(([name]) => scopeDependentNames.includes(name)));

/** Custom IDENTITY claims of a custom server: one always in tokens, one only when asked. */
const identityClaims = [
  claim('department', { claimType: 'IDENTITY', value: '"R&D"', alwaysIncludeInToken: true }),
  claim('nick', {
    claimType: 'IDENTITY',
    value: 'user.nickName',
    scopes: ['profile'],
    alwaysIncludeInToken: false,
  }),
  claim('tier', { claimType: 'RESOURCE', value: '"gold"' }),
];

describe('ID token base claims', () => {
  it('given a sign-in, when an ID token is issued, then it has the base claims in order, and lives 60 minutes', () => {
    const claims = given('org').when({ scopes: ['openid'], nonce: 'n-0S6_WzA2Mj' });
    expect(claims).toEqual({
      ver: 1,
      sub: '00uid4BxXw6I6TV4m0g3',
      iss: issuer,
      aud: 'uAaunofWkaDJxukCFeBx',
      iat: now,
      exp: now + 3600,
      jti: 'ID.4eAWJOCMB3SX8XewDfVR',
      amr: ['pwd'],
      idp: '00ok1u7AsAkrwdZL3z0g3',
      nonce: 'n-0S6_WzA2Mj',
      auth_time: 1449624026,
    });
    expect(Object.keys(claims)).toEqual([
      'ver',
      'sub',
      'iss',
      'aud',
      'iat',
      'exp',
      'jti',
      'amr',
      'idp',
      'nonce',
      'auth_time',
    ]);
  });

  it('given no nonce in the request, when issued, then there is no nonce claim', () => {
    expect(given('org').when({ scopes: ['openid'] })).not.toHaveProperty('nonce');
  });

  it('given an access token issued with it, when issued, then at_hash is the left half of its SHA-256 (OIDC Core 3.1.3.6)', () => {
    const claims = given('org').when({ accessToken });
    expect(claims.at_hash).toBe(leftHalfSha256(accessToken));
    expect(claims).not.toHaveProperty('c_hash');
  });

  it('given a code issued with it, when issued, then c_hash is the left half of its SHA-256 (OIDC Core 3.3.2.11)', () => {
    const claims = given('org').when({ code });
    expect(claims.c_hash).toBe(leftHalfSha256(code));
    expect(claims).not.toHaveProperty('at_hash');
  });

  it('given a custom claim named after a base claim, when issued, then the base claim stands', () => {
    const claims = given('custom', [
      claim('sub', { claimType: 'IDENTITY' }),
      claim('nonce', { claimType: 'IDENTITY' }),
      claim('at_hash', { claimType: 'IDENTITY' }),
    ]).when({ scopes: ['openid'] });
    expect(claims.sub).toBe(john.id);
    expect(claims).not.toHaveProperty('nonce');
    expect(claims).not.toHaveProperty('at_hash');
  });
});

// Seed 001, "Scope-dependent claims": which claims the ID token carries, per response type.
describe("seed 001's response-type table", () => {
  it('given response_type code or token, when /authorize answers, then there is no ID token, and the access token carries no scope-dependent claim (N/A)', () => {
    const claims = accessTokenClaims({
      issuer,
      audience: 'api://default',
      clientId: 'uAaunofWkaDJxukCFeBx',
      scopes: allScopes,
      subject: subjectOf(john),
      now,
      lifetimeSeconds: 3600,
      jti: 'AT.1',
      customClaims: [],
    });
    expect(scopeDependentOf(claims)).toEqual({});
  });

  describe.each(['org', 'custom'] as const)('%s authorization server', (server) => {
    it('given response_type id_token, when issued, then it has every claim of the requested scopes', () => {
      const claims = given(server).when({ nonce: 'n' });
      expect(scopeDependentOf(claims)).toEqual(everyScopeDependentClaim);
      expect(claims).not.toHaveProperty('at_hash');
    });

    it('given response_type id_token code, when issued, then it has every claim of the requested scopes and c_hash', () => {
      const claims = given(server).when({ nonce: 'n', code });
      expect(scopeDependentOf(claims)).toEqual(everyScopeDependentClaim);
      expect(claims.c_hash).toBe(leftHalfSha256(code));
    });

    it('given response_type id_token token, when issued, then only name and preferred_username (profile) and email (email)', () => {
      const claims = given(server).when({ nonce: 'n', accessToken });
      expect(scopeDependentOf(claims)).toEqual({
        name: 'John Doe',
        preferred_username: 'john.doe@example.com',
        email: 'john.doe@example.com',
      });
    });

    it('given response_type code id_token token, when issued, then the same few claims, with at_hash and c_hash', () => {
      const claims = given(server).when({ nonce: 'n', accessToken, code });
      expect(scopeDependentOf(claims)).toEqual({
        name: 'John Doe',
        preferred_username: 'john.doe@example.com',
        email: 'john.doe@example.com',
      });
      expect(claims).toMatchObject({
        at_hash: leftHalfSha256(accessToken),
        c_hash: leftHalfSha256(code),
      });
    });

    it('given an access token and only the email scope, when issued, then only email', () => {
      const claims = given(server).when({ scopes: ['openid', 'email'], accessToken });
      expect(scopeDependentOf(claims)).toEqual({ email: 'john.doe@example.com' });
    });
  });

  it('given a custom server and no access token, when issued, then every IDENTITY claim of the scopes is added, alwaysIncludeInToken or not', () => {
    const claims = given('custom', identityClaims).when({ nonce: 'n' });
    expect(claims).toMatchObject({ department: 'R&D', nick: 'Jimmy' });
    expect(claims).not.toHaveProperty('tier');
  });

  it('given a custom server and an access token, when issued, then only the IDENTITY claims with alwaysIncludeInToken are added', () => {
    const claims = given('custom', identityClaims).when({ nonce: 'n', accessToken });
    expect(claims).toMatchObject({ department: 'R&D' });
    expect(claims).not.toHaveProperty('nick');
    expect(claims).not.toHaveProperty('tier');
  });

  it('given custom IDENTITY claims conditioned on a scope not granted, when issued, then they are not added', () => {
    const claims = given('custom', identityClaims).when({ scopes: ['openid', 'email'] });
    expect(claims).toHaveProperty('department');
    expect(claims).not.toHaveProperty('nick');
  });

  it('given the org server, when issued, then custom claims are never added: they need a custom server', () => {
    const claims = given('org', identityClaims).when({ nonce: 'n' });
    expect(claims).not.toHaveProperty('department');
    expect(claims).not.toHaveProperty('nick');
  });

  it('given a custom IDENTITY claim named like a standard claim, when issued, then the standard claim stands', () => {
    const claims = given('custom', [
      claim('email', { claimType: 'IDENTITY', value: '"spoofed@example.com"' }),
    ]).when({ scopes: ['openid', 'email'] });
    expect(claims.email).toBe('john.doe@example.com');
  });

  it('given a custom groups IDENTITY claim on a scope of the server, when that scope is granted, then it lists the groups', () => {
    const claims = given('custom', [
      claim('groups', {
        claimType: 'IDENTITY',
        valueType: 'GROUPS',
        value: 'Eng',
        groupFilterType: 'STARTS_WITH',
        scopes: ['team'],
      }),
    ]).when({ scopes: ['openid', 'team'] });
    expect(claims.groups).toEqual(['Engineering', 'eng-ops']);
  });
});
