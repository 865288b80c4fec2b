import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './password.js';
import { readProfile } from './profile.js';

const base = {
  login: 'ada@example.com',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
};

describe('readProfile', () => {
  it('accepts a complete profile and trims it', () => {
    const { profile, problems } = readProfile({
      ...base,
      firstName: '  Ada ',
      timezone: 'Europe/London',
      locale: 'en-GB',
      countryCode: 'GB',
      emailVerified: true,
    });
    expect(problems).toEqual([]);
    expect(profile).toMatchObject({
      firstName: 'Ada',
      timezone: 'Europe/London',
      emailVerified: true,
    });
  });

  it('names every attribute at fault', () => {
    const { profile, problems } = readProfile({
      login: 'not-an-email',
      firstName: 7,
      timezone: 'Mars/Olympus',
      favourite: 'x',
      countryCode: 'gb',
      profileUrl: 'javascript:alert(1)',
    });
    expect(profile).toBeUndefined();
    expect(problems.map((p) => p.field).sort()).toEqual(
      [
        'profile.countryCode',
        'profile.email',
        'profile.favourite',
        'profile.firstName',
        'profile.lastName',
        'profile.login',
        'profile.profileUrl',
        'profile.timezone',
      ].sort(),
    );
    expect(problems.find((p) => p.field === 'profile.favourite')?.message).toBe(
      "Property name 'favourite' is not defined in profile",
    );
  });

  it('merges a partial update, where null clears an optional attribute and cannot clear a required one', () => {
    const { profile } = readProfile(
      { nickName: 'Countess', middleName: null },
      { ...base, middleName: 'Augusta' },
    );
    expect(profile).toEqual({ ...base, nickName: 'Countess' });
    expect(readProfile({ firstName: null }, base).problems.map((p) => p.field)).toEqual([
      'profile.firstName',
    ]);
    expect(readProfile([], base).problems).toEqual([
      { field: 'profile', message: 'must be an object' },
    ]);
  });
});

describe('passwords', () => {
  it('enforce the policy', () => {
    expect(checkPasswordPolicy('Correct-Horse-9', 'ada@example.com')).toEqual([]);
    for (const weak of [
      'Short1',
      'alllowercase1',
      'ALLUPPERCASE1',
      'NoDigitsHere',
      'Ada-Is-Great-1',
      'x'.repeat(300),
    ]) {
      expect(checkPasswordPolicy(weak, 'ada@example.com'), weak).toHaveLength(1);
    }
  });

  it('hash with scrypt in PHC form, verify only the right password, and salt every hash', async () => {
    const cost = { log2N: 10, r: 8, p: 1 }; // the format is what is tested here, not the cost
    const hash = await hashPassword('Correct-Horse-9', cost);
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('Correct-Horse-9', hash)).toBe(true);
    expect(await verifyPassword('correct-horse-9', hash)).toBe(false);
    expect(await hashPassword('Correct-Horse-9', cost)).not.toBe(hash);
    expect(await verifyPassword('x', 'not a hash')).toBe(false);
  });

  it('use 32 MiB scrypt (N=2^15, r=8, p=3) by default', async () => {
    expect(await hashPassword('Correct-Horse-9')).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
  });
});
