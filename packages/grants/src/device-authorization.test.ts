import { describe, expect, it } from 'vitest';
import {
  displayUserCode,
  newDeviceCode,
  newUserCode,
  normalizeUserCode,
  userCodeAlphabet,
} from './device-authorization.js';

describe('device authorization codes (RFC 8628)', () => {
  it('makes user codes of 8 consonants (section 6.1), shown as two groups of 4', () => {
    const codes = Array.from({ length: 200 }, newUserCode);
    for (const code of codes) expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
    // Every letter of the alphabet turns up, and nothing else.
    expect(new Set(codes.join('')).size).toBe(userCodeAlphabet.length);
    expect(new Set(codes).size).toBe(codes.length);
    expect(displayUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
  });

  it('reads a typed user code whatever its case, spaces and dashes; refuses what cannot be one', () => {
    for (const typed of ['BCDF-GHJK', 'bcdf-ghjk', ' bcdf ghjk ', 'BcDfGhJk', 'B-C-D-F-G-H-J-K'])
      expect(normalizeUserCode(typed)).toBe('BCDFGHJK');
    for (const typed of ['', 'BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', 'BCDF-GHJ0', 'BCDF_GHJK'])
      expect(normalizeUserCode(typed)).toBeUndefined();
    expect(normalizeUserCode(`${'-'.repeat(60)}BCDFGHJK`)).toBeUndefined();
  });

  it('makes device codes of 256 random bits', () => {
    const code = newDeviceCode();
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(code, 'base64url')).toHaveLength(32);
    expect(newDeviceCode()).not.toBe(code);
  });
});
