import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwkThumbprint, publicJwkOf, publicKeyFromJwk } from './jwk.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

// RFC 7638 section 3.1 (the RSA key of RFC 7517 appendix A.1).
const RFC_7638_JWK = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPe' +
    'bWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY36' +
    '8QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lF' +
    'd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
} as const;

describe('jwkThumbprint', () => {
  it("gives RFC 7638's example thumbprint for its example key", () => {
    expect(jwkThumbprint(RFC_7638_JWK)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it("agrees with jose's calculateJwkThumbprint on a generated key", async () => {
    const jwk = publicJwkOf('k1', publicKey);
    expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
  });

  it('refuses other key types and values that are not base64url', () => {
    expect(() => jwkThumbprint({ ...RFC_7638_JWK, kty: 'EC' as 'RSA' })).toThrow(TypeError);
    expect(() => jwkThumbprint({ ...RFC_7638_JWK, n: 'a"b' })).toThrow(TypeError);
  });
});

describe('publicJwkOf', () => {
  it("gives Okta's /keys entry: kty, alg, kid, use, e, n in that order", () => {
    const jwk = publicJwkOf('k1', publicKey);
    expect(Object.keys(jwk)).toEqual(['kty', 'alg', 'kid', 'use', 'e', 'n']);
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: 'k1', use: 'sig', e: 'AQAB' });
    expect(jwk.n).toMatch(/^[A-Za-z0-9_-]{342}$/);
  });

  it("has the n and e jose's exportJWK gives", async () => {
    const { n, e } = await exportJWK(publicKey);
    expect(publicJwkOf('k1', publicKey)).toMatchObject({ n, e });
  });

  it('publishes only the public half of a private key', () => {
    const jwk = publicJwkOf('k1', privateKey);
    expect(jwk).toEqual(publicJwkOf('k1', publicKey));
    expect(jwk).not.toHaveProperty('d');
  });

  it('refuses EC keys, small RSA keys and an empty kid', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => publicJwkOf('k1', ec)).toThrow(TypeError);
    expect(() => publicJwkOf('k1', small)).toThrow(TypeError);
    expect(() => publicJwkOf('', publicKey)).toThrow(TypeError);
  });
});

describe('publicKeyFromJwk', () => {
  it('imports the key publicJwkOf exported', () => {
    const imported = publicKeyFromJwk(publicJwkOf('k1', publicKey));
    expect(imported.type).toBe('public');
    expect(imported.equals(publicKey)).toBe(true);
  });

  it('returns the same KeyObject for the same (kid, n, e), another for another kid', () => {
    const jwk = publicJwkOf('k1', publicKey);
    const first = publicKeyFromJwk(jwk);
    expect(publicKeyFromJwk({ ...jwk })).toBe(first);
    expect(publicKeyFromJwk({ kty: 'RSA', n: jwk.n, e: jwk.e })).not.toBe(first);
    expect(publicKeyFromJwk({ ...jwk, kid: 'k2' })).not.toBe(first);
  });

  it('imports a bare {kty, n, e} such as RFC 7638 example key', () => {
    const key = publicKeyFromJwk({ kty: 'RSA', n: RFC_7638_JWK.n, e: RFC_7638_JWK.e });
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('refuses keys for other types, uses or algorithms, and broken or small moduli', () => {
    const jwk = publicJwkOf('k1', publicKey);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    });
    for (const wrong of [
      { ...jwk, kty: 'EC' },
      { ...jwk, use: 'enc' },
      { ...jwk, alg: 'RS512' },
      { ...jwk, n: `${jwk.n}=` },
      { ...jwk, n: '' },
      { kty: 'RSA', n: small.n!, e: small.e! },
    ])
      expect(() => publicKeyFromJwk(wrong)).toThrow(TypeError);
  });
});
