import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signJwt } from './sign.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { kid: 'k1', privateKey };
const segments = (token: string) => token.split('.');
const decoded = (segment: string) => Buffer.from(segment, 'base64url').toString('utf8');

describe('signJwt', () => {
  it('writes the header exactly as Okta does: {"kid":…,"alg":"RS256"}', () => {
    const [header] = segments(signJwt({ sub: 'alice' }, key));
    expect(decoded(header!)).toBe('{"kid":"k1","alg":"RS256"}');
  });

  it('adds typ after alg when asked', () => {
    const [header] = segments(signJwt({ sub: 'alice' }, key, { typ: 'JWT' }));
    expect(decoded(header!)).toBe('{"kid":"k1","alg":"RS256","typ":"JWT"}');
  });

  it('keeps one header per (kid, typ), not per first caller', () => {
    const plain = segments(signJwt({}, key))[0];
    const typed = segments(signJwt({}, key, { typ: 'JWT' }))[0];
    const otherKid = segments(signJwt({}, { kid: 'k2', privateKey }))[0];
    expect(new Set([plain, typed, otherKid]).size).toBe(3);
    expect(segments(signJwt({}, key))[0]).toBe(plain);
  });

  it('carries the claims as given, in order, as base64url JSON', () => {
    const claims = { ver: 1, iss: 'https://idp.example', scp: ['openid', 'email'], name: 'Zoë' };
    const [, payload] = segments(signJwt(claims, key));
    expect(decoded(payload!)).toBe(JSON.stringify(claims));
  });

  it('signs header.payload with RSASSA-PKCS1-v1_5 SHA-256 under the given key', () => {
    const token = signJwt({ sub: 'alice' }, key);
    const [header, payload, signature] = segments(token);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{342}$/);
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        publicKey,
        Buffer.from(signature!, 'base64url'),
      ),
    ).toBe(true);
  });

  it('refuses keys that cannot make an RS256 signature', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    for (const wrong of [small, ec, publicKey, createPublicKey(privateKey)])
      expect(() => signJwt({}, { kid: 'k1', privateKey: wrong })).toThrow(TypeError);
  });

  it('refuses claims that are not a JSON object, and an empty kid', () => {
    expect(() => signJwt([] as never, key)).toThrow(TypeError);
    expect(() => signJwt(null as never, key)).toThrow(TypeError);
    expect(() => signJwt({}, { kid: '', privateKey })).toThrow(TypeError);
  });

  it('is deterministic for the same claims (PKCS#1 v1.5 has no salt)', () => {
    const claims = { jti: createHash('sha256').update('x').digest('hex') };
    expect(signJwt(claims, key)).toBe(signJwt(claims, key));
  });
});
