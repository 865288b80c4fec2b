// The key-encryption key (GATEHOUSE_KEK) that seals every private signing key (SPEC section 8):
// AES-256-GCM, the key's place ("{tenant}/{server}/{kid}") bound in as additional data. Several KEKs
// may be configured so the KEK itself can rotate: the first seals, any of them unseals by its id.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { ConfigError, type Environment, setting } from '@gatehouse/config';

export interface KeyEncryptionKey {
  id: string;
  key: Buffer;
}

export interface KeyEncryptionKeys {
  /** Seals new keys. */
  current: KeyEncryptionKey;
  /** Every configured KEK by id, the current one included. */
  byId: ReadonlyMap<string, KeyEncryptionKey>;
}

export interface SealedKey {
  kekId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export class KekConfigError extends Error {
  override readonly name = 'KekConfigError';
}

/** A private key could not be unsealed: unknown KEK id, or tampered or misplaced ciphertext. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
}

const kekIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Reads `GATEHOUSE_KEK`: `id:base64key[,id:base64key...]`, each key 32 random bytes (for example
 * `kek-1:$(openssl rand -base64 32)`). The first entry seals; every entry unseals.
 */
export function parseKeks(value: string): KeyEncryptionKeys {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new KekConfigError('no key-encryption key given');
  const byId = new Map<string, KeyEncryptionKey>();
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (colon < 1 || !kekIdPattern.test(id))
      throw new KekConfigError('each entry must be id:base64key, the id of [A-Za-z0-9._-]{1,64}');
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/]{43}=?$/.test(encoded) || key.length !== 32)
      throw new KekConfigError(`the key of "${id}" must be 32 bytes in base64`);
    if (byId.has(id)) throw new KekConfigError(`the id "${id}" is given twice`);
    byId.set(id, { id, key });
  }
  return { current: byId.get(entries[0]!.slice(0, entries[0]!.indexOf(':')))!, byId };
}

/** A fresh KEK for tests and for the all-in-one mode's first start. */
export function newKekSetting(id = 'kek-1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export function sealPrivateKey(
  pkcs8Der: Uint8Array,
  keks: KeyEncryptionKeys,
  place: string,
): SealedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keks.current.key, iv);
  cipher.setAAD(Buffer.from(place, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pkcs8Der), cipher.final()]);
  return { kekId: keks.current.id, iv, ciphertext, tag: cipher.getAuthTag() };
}

export function unsealPrivateKey(
  sealed: SealedKey,
  keks: KeyEncryptionKeys,
  place: string,
): Buffer {
  const kek = keks.byId.get(sealed.kekId);
  if (!kek) throw new UnsealError(`no key-encryption key with id "${sealed.kekId}" is configured`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, sealed.iv);
    decipher.setAAD(Buffer.from(place, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new UnsealError(`the private key sealed for ${place} does not open under "${kek.id}"`);
  }
}

/** Where a client secret belongs; sealed in as additional data. */
export const clientSecretPlace = (tenant: string, clientId: string) =>
  `client-secret/${tenant}/${clientId}`;

/**
 * A client secret sealed for `clientId` of `tenant` (the one use that needs the secret itself:
 * client_secret_jwt's HMAC). The same AES-256-GCM as private keys, under the current KEK.
 */
export function sealClientSecret(
  secret: string,
  keks: KeyEncryptionKeys,
  tenant: string,
  clientId: string,
): SealedKey {
  return sealPrivateKey(Buffer.from(secret, 'utf8'), keks, clientSecretPlace(tenant, clientId));
}

/** The secret `sealClientSecret` sealed; UnsealError when it was sealed for another client or KEK. */
export function openClientSecret(
  sealed: SealedKey,
  keks: KeyEncryptionKeys,
  tenant: string,
  clientId: string,
): Buffer {
  try {
    return unsealPrivateKey(sealed, keks, clientSecretPlace(tenant, clientId));
  } catch (error) {
    if (error instanceof UnsealError && error.message.startsWith('the private key'))
      throw new UnsealError(`the client secret sealed for ${clientId} of ${tenant} does not open`);
    throw error;
  }
}

/** Where a key belongs; sealed in as additional data. */
export const keyPlace = (tenant: string, serverId: string, kid: string) =>
  `${tenant}/${serverId}/${kid}`;

/** The private key of a sealed key, ready to sign with; the clear DER is wiped after import. */
export function openPrivateKey(
  sealed: SealedKey,
  keks: KeyEncryptionKeys,
  place: string,
): KeyObject {
  const der = unsealPrivateKey(sealed, keks, place);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/** GATEHOUSE_KEK (required) as a service setting: a malformed value stops the service at start. */
export function readKekSetting(env: Environment): KeyEncryptionKeys {
  try {
    return parseKeks(
      setting.string(env, 'GATEHOUSE_KEK', { hint: 'id:base64 of 32 random bytes' }),
    );
  } catch (error) {
    if (error instanceof KekConfigError) throw new ConfigError('GATEHOUSE_KEK', error.message);
    throw error;
  }
}
