// Registering a private_key_jwt client (RFC 7591 `jwks` / `jwks_uri`, RFC 7523): which keys and
// which URIs it may give, and how its keys are kept.
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readClientMetadata } from './metadata.js';

const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa = rsaPair.publicKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
  format: 'jwk',
});

/** A service that signs its assertions, with `extra` registration fields. */
const service = (extra: Record<string, unknown>) =>
  readClientMetadata({
    client_name: 'Job',
    application_type: 'service',
    token_endpoint_auth_method: 'private_key_jwt',
    ...extra,
  });
const refusal = (extra: Record<string, unknown>) =>
  service(extra).problems.map((p) => `${p.field}: ${p.message}`);

describe('private_key_jwt registration', () => {
  it('keeps an inline RSA and P-256 key set with its public members only', () => {
    const { metadata, problems } = service({
      jwks: {
        keys: [
          { ...rsa, kid: 'rsa-1', use: 'sig', alg: 'PS256', key_ops: ['verify'], x5t: 'abc' },
          { ...ec, kid: 'ec-1', alg: 'ES256' },
        ],
      },
    });
    expect(problems).toEqual([]);
    expect(metadata).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: '' });
    const kept = JSON.parse(metadata!.jwks) as { keys: JsonWebKey[] };
    expect(kept).toEqual({
      keys: [
        { kty: 'RSA', kid: 'rsa-1', use: 'sig', alg: 'PS256', n: rsa.n, e: rsa.e },
        { kty: 'EC', kid: 'ec-1', alg: 'ES256', crv: 'P-256', x: ec.x, y: ec.y },
      ],
    });
    // What is kept is the key that was sent.
    expect(
      createPublicKey({ key: kept.keys[0]!, format: 'jwk' }).export({ format: 'jwk' }),
    ).toEqual(rsa);
  });

  it('keeps a jwks_uri, https or http on a loopback host', () => {
    for (const uri of [
      'https://client.example/.well-known/jwks.json',
      'http://localhost:8080/jwks',
      'http://127.0.0.1/jwks',
      'http://[::1]:9000/jwks',
    ])
      expect(service({ jwks_uri: uri }).metadata, uri).toMatchObject({ jwks: '', jwksUri: uri });
  });

  it('is for web, native and service applications, not browser ones (public)', () => {
    for (const application_type of ['web', 'native'])
      expect(
        service({
          application_type,
          grant_types: ['authorization_code'],
          redirect_uris: ['https://a.example/cb'],
          jwks: { keys: [ec] },
        }).problems,
      ).toEqual([]);
    expect(
      refusal({
        application_type: 'browser',
        grant_types: ['authorization_code'],
        redirect_uris: ['https://a.example/cb'],
        jwks: { keys: [ec] },
      }),
    ).toEqual([
      "token_endpoint_auth_method: a browser application is public: 'token_endpoint_auth_method' must be none",
    ]);
  });

  it('refuses private keys, saying they must never be sent', () => {
    const rsaPrivate = rsaPair.privateKey.export({ format: 'jwk' });
    const ecPrivate = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'jwk',
    });
    expect(refusal({ jwks: { keys: [ec, rsaPrivate] } })).toEqual([
      "jwks: 'jwks' keys[1] holds private key material (d, p, q, dp, dq, qi): private keys must never be sent, only public ones; replace this key pair",
    ]);
    expect(refusal({ jwks: { keys: [ecPrivate] } })[0]).toMatch(
      /keys\[0\] holds private key material \(d\): private keys must never be sent/,
    );
    expect(refusal({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })[0]).toMatch(
      /holds private key material \(k\)/,
    );
  });

  it('refuses RSA keys under 2048 bits', () => {
    expect(refusal({ jwks: { keys: [rsa1024] } })).toEqual([
      "jwks: 'jwks' keys[0] is a 1024-bit RSA key: it must have at least 2048 bits",
    ]);
  });

  it('needs exactly one of jwks and jwks_uri, and neither for other methods', () => {
    expect(refusal({ jwks: { keys: [ec] }, jwks_uri: 'https://client.example/jwks' })).toEqual([
      "jwks: a private_key_jwt client gives 'jwks' or 'jwks_uri', not both",
    ]);
    expect(refusal({})).toEqual([
      "jwks: a private_key_jwt client must give its public keys, in 'jwks' or at 'jwks_uri'",
    ]);
    expect(
      readClientMetadata({
        client_name: 'Web',
        redirect_uris: ['https://a.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        jwks: { keys: [ec] },
        jwks_uri: 'https://client.example/jwks',
      }).problems,
    ).toEqual([
      { field: 'jwks', message: "'jwks' is only for private_key_jwt clients" },
      { field: 'jwks_uri', message: "'jwks_uri' is only for private_key_jwt clients" },
    ]);
  });

  it('refuses a jwks_uri that is not https (but for loopback), relative, or carries a fragment or credentials', () => {
    const cases: [string, string][] = [
      ['http://client.example/jwks', 'must use https (http is allowed only for localhost)'],
      ['ftp://client.example/jwks', 'must use https'],
      ['/jwks', 'must be an absolute URI'],
      ['https://client.example/jwks#keys', 'must not contain a fragment'],
      ['https://user:pass@client.example/jwks', 'must not contain a user name or password'],
      [`https://client.example/${'x'.repeat(1024)}`, 'must be at most 1024 characters'],
    ];
    for (const [uri, why] of cases)
      expect(refusal({ jwks_uri: uri }), uri).toEqual([`jwks_uri: 'jwks_uri' ${why}`]);
    expect(refusal({ jwks_uri: 7 })).toEqual(["jwks_uri: 'jwks_uri' must be a string"]);
  });

  it('refuses key sets of the wrong size or shape', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => ({ ...ec, kid: `k${i}` }));
    const cases: [unknown, string][] = [
      [{ keys: eleven }, "'jwks' must hold at most 10 keys"],
      [{ keys: [] }, "'jwks' must hold at least one key"],
      [[ec], "'jwks' must be a JWK set: an object with a 'keys' array"],
      [{ keys: ec }, "'jwks' must be a JWK set: an object with a 'keys' array"],
      [
        { keys: [{ ...ec, x5c: ['A'.repeat(16 * 1024)] }] },
        "'jwks' must be at most 16 KiB of JSON",
      ],
    ];
    for (const [jwks, message] of cases)
      expect(refusal({ jwks }), JSON.stringify(jwks).slice(0, 80)).toEqual([`jwks: ${message}`]);
  });

  it('refuses keys it cannot check assertions with, naming each', () => {
    const cases: [unknown, string][] = [
      [
        { ...rsa, alg: 'ES256' },
        "has 'alg' ES256, which an RSA key cannot sign with (RS256 or PS256)",
      ],
      [{ ...ec, alg: 'RS256' }, "has 'alg' RS256, which an EC key cannot sign with (ES256)"],
      [{ ...rsa, alg: 'HS256' }, `has 'alg' "HS256": it must be one of RS256, PS256, ES256`],
      [
        { ...rsa, use: 'enc' },
        `has 'use' "enc": a client's keys sign its assertions, so 'use' must be sig`,
      ],
      [{ ...ec, crv: 'P-384' }, "must have 'crv' P-256 (an EC key)"],
      [{ kty: 'OKP', crv: 'Ed25519', x: ec.x }, "must have 'kty' RSA or EC"],
      [{ ...rsa, n: 'not base64url!' }, "must have 'n' as base64url text (an RSA public key)"],
      [{ ...ec, y: undefined }, "must have 'y' as base64url text (an EC public key)"],
      // A point off the curve: x and y swapped.
      [{ ...ec, x: ec.y, y: ec.x }, 'is not a valid EC public key'],
      [{ ...ec, kid: 'k'.repeat(201) }, "must have a 'kid' of at most 200 characters"],
      [{ ...ec, kid: 7 }, "must have a string 'kid'"],
      ['key', 'must be a JWK (a JSON object)'],
    ];
    for (const [key, why] of cases)
      expect(refusal({ jwks: { keys: [key] } }), JSON.stringify(key)).toEqual([
        `jwks: 'jwks' keys[0] ${why}`,
      ]);
  });

  it('refuses two keys with one kid', () => {
    expect(
      refusal({
        jwks: {
          keys: [
            { ...rsa, kid: 'a' },
            { ...ec, kid: 'b' },
            { ...ec, kid: 'a' },
          ],
        },
      }),
    ).toEqual([`jwks: 'jwks' keys[2] has the kid "a" of an earlier key: kids must be unique`]);
  });
});
