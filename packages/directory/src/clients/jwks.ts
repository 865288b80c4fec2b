// A private_key_jwt client's public keys as it registers them inline (RFC 7591 `jwks`): the JWK set
// the token endpoint will check its client assertions against (RFC 7523), read, checked and kept
// with its public members only.
import { createPublicKey } from 'node:crypto';
import type { FieldProblem } from '../errors.js';

/** Algorithms a client assertion may be signed with, by the key type that signs with them. */
export const assertionAlgorithms = { RSA: ['RS256', 'PS256'], EC: ['ES256'] } as const;
/** client_secret_jwt's HMAC, keyed by the client secret. */
export const clientSecretAssertionAlgorithms = ['HS256'] as const;
/** Every algorithm of a private_key_jwt assertion, as the token service verifies and discovery advertises them. */
export const clientAssertionAlgorithms = [
  ...assertionAlgorithms.RSA,
  ...assertionAlgorithms.EC,
] as const;

const maxKeys = 10;
const maxJsonBytes = 16 * 1024;
/** A key's members that are not secret; anything else a client sent is dropped, not kept. */
const publicMembers = ['kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y'] as const;
/** Members only a private (or symmetric) key has (RFC 7518 sections 6.2.2, 6.3.2 and 6.4.1). */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const base64url = /^[A-Za-z0-9_-]+$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a JWK set `{keys: [...]}`: 1 to 10 RSA (2048 bits or more) or P-256 signing keys, public
 * only, with unique kids. Returns it as the JSON text kept in the client's metadata.
 */
export function readJwkSet(
  field: string,
  value: unknown,
): { jwks?: string; problems: FieldProblem[] } {
  const problem = (message: string) => ({
    problems: [{ field, message: `'${field}' ${message}` }],
  });
  if (!isObject(value) || !Array.isArray(value.keys))
    return problem("must be a JWK set: an object with a 'keys' array");
  // The set is kept in every read model that holds the client, and read on every assertion.
  if (Buffer.byteLength(JSON.stringify(value)) > maxJsonBytes)
    return problem(`must be at most ${maxJsonBytes / 1024} KiB of JSON`);
  if (value.keys.length === 0) return problem('must hold at least one key');
  if (value.keys.length > maxKeys) return problem(`must hold at most ${maxKeys} keys`);

  const problems: FieldProblem[] = [];
  const keys: Record<string, string>[] = [];
  const kids = new Set<string>();
  value.keys.forEach((key: unknown, i) => {
    const why = keyProblem(key);
    if (why) {
      problems.push({ field, message: `'${field}' keys[${i}] ${why}` });
      return;
    }
    const jwk = key as Record<string, string>;
    if (jwk.kid !== undefined) {
      // An assertion names its key by kid: two keys with one kid would make that name ambiguous.
      if (kids.has(jwk.kid))
        problems.push({
          field,
          message: `'${field}' keys[${i}] has the kid "${jwk.kid}" of an earlier key: kids must be unique`,
        });
      kids.add(jwk.kid);
    }
    keys.push(
      Object.fromEntries(
        publicMembers.flatMap((name) => (jwk[name] === undefined ? [] : [[name, jwk[name]]])),
      ),
    );
  });
  if (problems.length > 0) return { problems };
  return { problems, jwks: JSON.stringify({ keys }) };
}

/** Why a member of `keys` is no public signing key Gatehouse can check assertions with, if not. */
function keyProblem(key: unknown): string | undefined {
  if (!isObject(key)) return 'must be a JWK (a JSON object)';
  const secret = privateMembers.filter((name) => key[name] !== undefined);
  // Refused rather than dropped: a private key that was sent is compromised, whatever we keep.
  if (secret.length > 0)
    return `holds private key material (${secret.join(', ')}): private keys must never be sent, only public ones; replace this key pair`;
  const { kty } = key;
  if (kty !== 'RSA' && kty !== 'EC') return "must have 'kty' RSA or EC";
  for (const name of ['kid', 'use', 'alg', 'crv'] as const)
    if (key[name] !== undefined && typeof key[name] !== 'string')
      return `must have a string '${name}'`;
  const parts = kty === 'RSA' ? (['n', 'e'] as const) : (['x', 'y'] as const);
  for (const name of parts)
    if (typeof key[name] !== 'string' || !base64url.test(key[name]))
      return `must have '${name}' as base64url text (an ${kty} public key)`;
  if (kty === 'EC' && key.crv !== 'P-256') return "must have 'crv' P-256 (an EC key)";
  if (key.use !== undefined && key.use !== 'sig')
    return `has 'use' "${String(key.use).slice(0, 50)}": a client's keys sign its assertions, so 'use' must be sig`;
  if (
    key.alg !== undefined &&
    !(assertionAlgorithms[kty] as readonly unknown[]).includes(key.alg)
  ) {
    const all = [...assertionAlgorithms.RSA, ...assertionAlgorithms.EC];
    return all.includes(key.alg as never)
      ? `has 'alg' ${key.alg}, which an ${kty} key cannot sign with (${assertionAlgorithms[kty].join(' or ')})`
      : `has 'alg' "${String(key.alg).slice(0, 50)}": it must be one of ${all.join(', ')}`;
  }
  if (typeof key.kid === 'string' && key.kid.length > 200)
    return "must have a 'kid' of at most 200 characters";
  let details: ReturnType<typeof createPublicKey>['asymmetricKeyDetails'];
  try {
    const jwk =
      kty === 'RSA' ? { kty, n: key.n, e: key.e } : { kty, crv: key.crv, x: key.x, y: key.y };
    details = createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails;
  } catch {
    return `is not a valid ${kty} public key`;
  }
  if (kty === 'RSA' && (details?.modulusLength ?? 0) < 2048)
    return `is a ${details?.modulusLength}-bit RSA key: it must have at least 2048 bits`;
  return undefined;
}
