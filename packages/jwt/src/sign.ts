// Minting: an RS256 compact JWS signed with node:crypto directly. jose's SignJWT goes through async
// WebCrypto and reaches ~82% of raw signing (see bench/tokens.bench.ts); this path costs the JSON
// and base64url of the claims on top of the RSA operation, nothing else.
import { type KeyObject, sign } from 'node:crypto';
import { isRsaSigningKey, MIN_RSA_MODULUS_BITS } from './rsa-keys.js';

export interface SigningKey {
  kid: string;
  /** RSA private key, at least 2048 bits. */
  privateKey: KeyObject;
}

export interface SignOptions {
  /** The `typ` header parameter, e.g. "JWT" or "application/logout+jwt"; omitted when unset. */
  typ?: string;
}

// Encoded `header.` prefixes by (kid, typ): a handful of live keys times a few token types.
const MAX_CACHED_HEADERS = 256;
const encodedHeaders = new Map<string, string>();

function encodedHeaderOf(kid: string, typ: string | undefined): string {
  const cacheKey = typ === undefined ? kid : `${kid}\n${typ}`;
  let prefix = encodedHeaders.get(cacheKey);
  if (prefix === undefined) {
    if (typeof kid !== 'string' || kid === '')
      throw new TypeError('kid must be a non-empty string');
    if (typ !== undefined && typeof typ !== 'string') throw new TypeError('typ must be a string');
    // Okta's member order: kid first, then alg.
    const header = typ === undefined ? { kid, alg: 'RS256' } : { kid, alg: 'RS256', typ };
    prefix = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.`;
    if (encodedHeaders.size >= MAX_CACHED_HEADERS) encodedHeaders.clear();
    encodedHeaders.set(cacheKey, prefix);
  }
  return prefix;
}

/**
 * Signs `claims` as a compact JWS with header {"kid":…,"alg":"RS256"} (plus "typ" when given).
 * Claims are serialised with JSON.stringify as they are: no claim is added or checked here.
 */
export function signJwt(
  claims: Record<string, unknown>,
  key: SigningKey,
  options?: SignOptions,
): string {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw new TypeError('claims must be a JSON object');
  if (!isRsaSigningKey(key.privateKey))
    throw new TypeError(`expected an RSA private key of at least ${MIN_RSA_MODULUS_BITS} bits`);
  const signingInput =
    encodedHeaderOf(key.kid, options?.typ) +
    Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('sha256', Buffer.from(signingInput, 'latin1'), key.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}
