// Cross-checks against jose, an independent implementation: what one signs the other verifies.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { publicJwkOf, publicKeyFromJwk } from './jwk.js';
import { signJwt } from './sign.js';
import { TokenInvalidError } from './token-invalid-error.js';
import { type VerifyOptions, verifyJwt } from './verify.js';

const ISSUER = 'https://acme.gatehouse.test/oauth2/default';
const AUDIENCE = 'api://default';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = { keys: [publicJwkOf('k1', publicKey)] };
const now = Math.floor(Date.now() / 1000);
const accessToken = {
  ver: 1,
  jti: 'AT.abc',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now,
  exp: now + 3600,
  cid: '0oa1',
  uid: '00u1',
  scp: ['openid', 'profile'],
  sub: 'alice@example.com',
};
const options: VerifyOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: (kid) => {
    const jwk = jwks.keys.find((candidate) => candidate.kid === kid);
    return jwk && publicKeyFromJwk(jwk);
  },
};

describe('tokens signJwt mints', () => {
  it("verify with jose's jwtVerify against a local JWKS of publicJwkOf", async () => {
    const token = signJwt(accessToken, { kid: 'k1', privateKey });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['RS256'],
    });
    expect(protectedHeader).toEqual({ kid: 'k1', alg: 'RS256' });
    expect(payload).toEqual(accessToken);
  });

  it('verify with jose when they carry typ JWT', async () => {
    const token = signJwt(accessToken, { kid: 'k1', privateKey }, { typ: 'JWT' });
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      typ: 'JWT',
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(protectedHeader.typ).toBe('JWT');
  });
});

describe("jose's SignJWT tokens", () => {
  it('verify with verifyJwt, claims intact', async () => {
    const token = await new SignJWT(accessToken)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .sign(privateKey);
    expect(verifyJwt(token, options)).toEqual({
      header: { alg: 'RS256', kid: 'k1', typ: 'JWT' },
      claims: accessToken,
    });
  });

  it('are refused by verifyJwt once expired, as jose refuses them', async () => {
    const token = await new SignJWT({ ...accessToken, iat: now - 7200, exp: now - 3600 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(privateKey);
    expect(() => verifyJwt(token, options)).toThrow(expect.objectContaining({ reason: 'expired' }));
    await expect(jwtVerify(token, createLocalJWKSet(jwks))).rejects.toThrow(/exp/);
  });

  it('signed HS256 with the RSA public key bytes as secret are refused (key confusion)', async () => {
    const pem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    for (const secret of [pem, JSON.stringify(jwks.keys[0])]) {
      const token = await new SignJWT(accessToken)
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(new TextEncoder().encode(secret));
      const error = (() => {
        try {
          verifyJwt(token, options);
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(TokenInvalidError);
      expect((error as TokenInvalidError).reason).toBe('algorithm');
    }
  });

  it('signed PS256 with the right RSA key are refused: only RS256 is accepted', async () => {
    const token = await new SignJWT(accessToken)
      .setProtectedHeader({ alg: 'PS256', kid: 'k1' })
      .sign(privateKey);
    expect(() => verifyJwt(token, options)).toThrow(
      expect.objectContaining({ reason: 'algorithm' }),
    );
  });
});
