// A new RSA-2048 signing key, sealed for its place before anything else sees it: the clear private
// key lives only in this function's memory.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { SigningKeyCreated } from '@gatehouse/contracts';
import { jwkThumbprint } from '@gatehouse/tokens';
import { type KeyEncryptionKeys, keyPlace, sealPrivateKey } from './kek.js';

const generateRsa = promisify(generateKeyPair);

/** Generates a key pair for a server; its kid is the RFC 7638 thumbprint of the public key. */
export async function generateSealedKey(
  keks: KeyEncryptionKeys,
  tenant: string,
  serverId: string,
): Promise<SigningKeyCreated> {
  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
  });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const kid = jwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e });
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const sealed = sealPrivateKey(der, keks, keyPlace(tenant, serverId, kid));
  der.fill(0);
  return { kid, n: jwk.n, e: jwk.e, privateKey: sealed };
}
