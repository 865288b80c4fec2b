import { describe, expect, it } from 'vitest';
import { compactStandardClaims, standardClaims } from './standard-claims.js';
import { john, minimal } from './testing/subjects.js';

describe('standard claims by scope', () => {
  it('given only the email scope, when read, then email and email_verified only', () => {
    expect(standardClaims(john, ['openid', 'email'])).toEqual({
      email: 'john.doe@example.com',
      email_verified: true,
    });
  });

  it('given only the phone or the address scope, when read, then only its claim', () => {
    expect(standardClaims(john, ['phone'])).toEqual({ phone_number: '+1 (425) 555-1212' });
    expect(Object.keys(standardClaims(john, ['address']))).toEqual(['address']);
  });

  it('given openid or a custom scope only, when read, then no standard claim', () => {
    expect(standardClaims(john, ['openid', 'orders:read', 'offline_access'])).toEqual({});
  });

  it('given scopes in any order, when read, then the claims come in the order of the table', () => {
    expect(Object.keys(standardClaims(john, ['phone', 'email']))).toEqual([
      'email',
      'email_verified',
      'phone_number',
    ]);
  });

  it('given a profile with only what is required, when read, then absent attributes give no claim, never null', () => {
    expect(standardClaims(minimal, ['profile', 'email', 'address', 'phone'])).toEqual({
      name: 'Min Imal',
      preferred_username: 'min@example.com',
      given_name: 'Min',
      family_name: 'Imal',
      updated_at: 1704067200,
      email: 'min@example.com',
      email_verified: false,
    });
  });

  it('given an Okta-style locale en_US, when read, then the claim is the BCP 47 en-US', () => {
    const user = { ...john, profile: { ...john.profile, locale: 'en_US' } };
    expect(standardClaims(user, ['profile']).locale).toBe('en-US');
  });

  it('given an address with some parts, when read, then the address has those parts only', () => {
    const user = {
      ...minimal,
      profile: { ...minimal.profile, city: 'Paris', countryCode: 'FR' },
    };
    expect(standardClaims(user, ['address'])).toEqual({
      address: { locality: 'Paris', country: 'FR' },
    });
  });

  it('given an unreadable lastUpdated, when read, then no updated_at rather than NaN', () => {
    expect(standardClaims({ ...john, lastUpdated: 'yesterday' }, ['profile'])).not.toHaveProperty(
      'updated_at',
    );
  });

  it('given the compact form, when read, then name and preferred_username (profile) and email (email) only', () => {
    expect(compactStandardClaims(john, ['openid', 'profile', 'email', 'address', 'phone'])).toEqual(
      {
        name: 'John Doe',
        preferred_username: 'john.doe@example.com',
        email: 'john.doe@example.com',
      },
    );
    expect(compactStandardClaims(john, ['openid', 'address', 'phone'])).toEqual({});
  });
});
