// RSA public keys as JWKs (RFC 7517/7518) for the `/keys` endpoint and for verifiers, and the
// RFC 7638 thumbprint used as `kid`. Synchronous on purpose: node:crypto's JWK export and import
// are what jose itself calls for a KeyObject, without jose's promise wrapping.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { isBase64url } from './base64url.js';
import { isRsaVerificationKey, MIN_RSA_MODULUS_BITS } from './rsa-keys.js';

export interface PublicJwk {
  kty: 'RSA';
  use: 'sig';
  alg: 'RS256';
  kid: string;
  n: string;
  e: string;
}

/** The JWK members `publicKeyFromJwk` reads; `use` and `alg`, when present, must allow RS256. */
export interface RsaJwkInput {
  kty: string;
  n: string;
  e: string;
  kid?: string;
  use?: string;
  alg?: string;
}

/**
 * The public JWK of an RSA key (a private key is accepted; only `n` and `e` are taken from it).
 * Members in the order Okta's `/keys` serves them: kty, alg, kid, use, e, n.
 */
export function publicJwkOf(kid: string, publicKey: KeyObject): PublicJwk {
  if (typeof kid !== 'string' || kid === '') throw new TypeError('kid must be a non-empty string');
  if (!isRsaVerificationKey(publicKey))
    throw new TypeError(`expected an RSA KeyObject of at least ${MIN_RSA_MODULUS_BITS} bits`);
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', alg: 'RS256', kid, use: 'sig', e: e!, n: n! };
}

// Verifiers call this for every key of a JWKS they refresh; a KeyObject per (kid, n, e) is kept.
// Bounded so that a JWKS that keeps changing cannot grow it without end.
const MAX_CACHED_KEYS = 1024;
const importedKeys = new Map<string, KeyObject>();

/** The public KeyObject of an RSA JWK, cached per (kid, n, e). Throws TypeError for anything else. */
export function publicKeyFromJwk(jwk: PublicJwk | RsaJwkInput): KeyObject {
  if (typeof jwk !== 'object' || jwk === null) throw new TypeError('a JWK must be an object');
  const { kty, n, e, kid, use, alg } = jwk as RsaJwkInput;
  if (kty !== 'RSA') throw new TypeError(`expected kty "RSA", got ${JSON.stringify(kty)}`);
  if (use !== undefined && use !== 'sig')
    throw new TypeError(`a JWK for use ${JSON.stringify(use)} cannot verify signatures`);
  if (alg !== undefined && alg !== 'RS256')
    throw new TypeError(`a JWK for alg ${JSON.stringify(alg)} cannot verify RS256`);
  if (kid !== undefined && typeof kid !== 'string') throw new TypeError('kid must be a string');
  if (typeof n !== 'string' || typeof e !== 'string' || !isBase64url(n) || !isBase64url(e))
    throw new TypeError('n and e must be base64url strings');

  // n and e never contain '.', so this key is unambiguous whatever the kid holds.
  const cacheKey = `${kid ?? ''}.${n}.${e}`;
  const cached = importedKeys.get(cacheKey);
  if (cached) return cached;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
  } catch (cause) {
    throw new TypeError('not a usable RSA public key', { cause });
  }
  if (!isRsaVerificationKey(key))
    throw new TypeError(`RSA keys must have at least ${MIN_RSA_MODULUS_BITS} bits`);
  if (importedKeys.size >= MAX_CACHED_KEYS) importedKeys.delete(importedKeys.keys().next().value!);
  importedKeys.set(cacheKey, key);
  return key;
}

/** RFC 7638 SHA-256 thumbprint of an RSA JWK, base64url: Gatehouse's `kid` for a new key. */
export function jwkThumbprint(jwk: { e: string; kty: 'RSA'; n: string }): string {
  if (jwk.kty !== 'RSA') throw new TypeError('only RSA thumbprints are supported');
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string')
    throw new TypeError('n and e must be strings');
  if (!isBase64url(jwk.n) || !isBase64url(jwk.e))
    throw new TypeError('n and e must be base64url strings');
  // Required members only, in lexicographic order, no whitespace; base64url needs no escaping.
  return createHash('sha256')
    .update(`{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`)
    .digest('base64url');
}
