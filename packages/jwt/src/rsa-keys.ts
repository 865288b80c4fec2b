// Which KeyObjects may sign or verify RS256. Checked once per KeyObject: reading a key's type and
// details crosses into C++, and the hot paths see the same few keys again and again.
import { KeyObject } from 'node:crypto';

/** RFC 7518 section 3.3: RS256 keys are at least 2048 bits. */
export const MIN_RSA_MODULUS_BITS = 2048;

const signers = new WeakSet<KeyObject>();
const verifiers = new WeakSet<KeyObject>();

function isRsa(key: unknown): key is KeyObject {
  return (
    key instanceof KeyObject &&
    key.asymmetricKeyType === 'rsa' &&
    (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS
  );
}

/** An RSA private key of at least 2048 bits. */
export function isRsaSigningKey(key: unknown): key is KeyObject {
  if (signers.has(key as KeyObject)) return true;
  if (!isRsa(key) || key.type !== 'private') return false;
  signers.add(key);
  return true;
}

/** An RSA key (public, or private standing for its public half) of at least 2048 bits. */
export function isRsaVerificationKey(key: unknown): key is KeyObject {
  if (verifiers.has(key as KeyObject)) return true;
  if (!isRsa(key)) return false;
  verifiers.add(key);
  return true;
}
