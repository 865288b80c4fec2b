// at_hash and c_hash (OpenID Connect Core 3.1.3.6 and 3.3.2.11).
import { createHash } from 'node:crypto';

/**
 * The base64url of the left-most half of the hash of the value's ASCII octets, the hash being the
 * one of the ID token's `alg`: SHA-256 for RS256, the only algorithm Gatehouse signs with.
 */
export function tokenHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest().subarray(0, 16).toString('base64url');
}

/**
 * `ds_hash` (OpenID Connect Native SSO) of a device secret known by its SHA-256 (hex): the left
 * half of that digest, base64url, as tokenHash gives of the secret itself.
 */
export function deviceSecretHash(secretSha256Hex: string): string {
  return Buffer.from(secretSha256Hex.slice(0, 32), 'hex').toString('base64url');
}
