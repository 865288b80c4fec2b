// New RSA-2048 signing keys, sealed for their place before anything else sees them: the clear private
// key lives only in these functions' memory (and, from a worker thread, in the message that carries
// it to this one), and is wiped once sealed.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { SigningKeyCreated } from '@gatehouse/contracts';
import { jwkThumbprint } from '@gatehouse/jwt';
import { type KeyEncryptionKeys, keyPlace, sealPrivateKey } from './kek.js';

const generateRsa = promisify(generateKeyPair);

/** A key pair in the clear: the public key's JWK members and the PKCS#8 DER private key. */
export interface KeyMaterial {
  n: string;
  e: string;
  der: Uint8Array;
}

/** The RSA parameters of every signing key. */
export const rsaKeyParameters = { modulusLength: 2048, publicExponent: 0x10001 } as const;

/** A key pair, generated on libuv's thread pool. */
export async function generateKeyMaterial(): Promise<KeyMaterial> {
  const { publicKey, privateKey } = await generateRsa('rsa', rsaKeyParameters);
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return { n: jwk.n, e: jwk.e, der: privateKey.export({ format: 'der', type: 'pkcs8' }) };
}

/**
 * Seals a key pair for the place `placeOf(kid)` names (its kid is the RFC 7638 thumbprint of the
 * public key) and wipes the clear private key.
 */
export function sealKeyMaterial(
  material: KeyMaterial,
  keks: KeyEncryptionKeys,
  placeOf: (kid: string) => string,
): SigningKeyCreated {
  try {
    const kid = jwkThumbprint({ kty: 'RSA', n: material.n, e: material.e });
    const sealed = sealPrivateKey(material.der, keks, placeOf(kid));
    return { kid, n: material.n, e: material.e, privateKey: sealed };
  } finally {
    material.der.fill(0);
  }
}

/** Generates a key pair for a server now; its kid is the RFC 7638 thumbprint of the public key. */
export async function generateSealedKey(
  keks: KeyEncryptionKeys,
  tenant: string,
  serverId: string,
): Promise<SigningKeyCreated> {
  return sealKeyMaterial(await generateKeyMaterial(), keks, (kid) =>
    keyPlace(tenant, serverId, kid),
  );
}
