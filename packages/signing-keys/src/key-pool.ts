// A pool of signing keys generated ahead of need (issue 15): a new server gets pooled keys when it is
// created, so a new tenant can sign tokens as soon as its creation returns, instead of waiting for
// ~135 ms of CPU per key behind every other new server. The keys service fills it in the background
// (KeyWorkers) and every replica takes from it; it lives in the projection store beside the read
// models (shared by every generation), each key sealed under the KEK for the pool
// ("pool/{kid}"), and is sealed again for its server's place when it is taken. Only a speed-up: a
// lost or empty pool means keys are generated on demand, as before.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { SigningKeyCreated } from '@gatehouse/contracts';
import { jwkThumbprint } from '@gatehouse/jwt';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyMaterial, sealKeyMaterial } from './generate.js';
import { type KeyEncryptionKeys, keyPlace, sealPrivateKey, unsealPrivateKey } from './kek.js';

export const keyPoolKeys = {
  /** set: the kids in the pool */
  kids: () => 'fs:keypool:kids',
  /** string: a pooled key, a SigningKeyCreated sealed for `poolPlace(kid)`, protobuf in base64 */
  key: (kid: string) => `fs:keypool:key:${kid}`,
};

/** Where a pooled key belongs until it is taken; sealed in as additional data. */
export const poolPlace = (kid: string) => `pool/${kid}`;

export class KeyPool {
  constructor(
    private readonly store: ProjectionStore,
    private readonly keks: KeyEncryptionKeys,
    /** Told about a pooled key that could not be used (and was dropped). */
    private readonly log: (entry: {
      level: 'warn';
      message: string;
      kid: string;
    }) => void = () => {},
  ) {}

  /** How many keys the pool holds. */
  async size(): Promise<number> {
    return (await this.store.smembers(keyPoolKeys.kids())).length;
  }

  /** Seals a key pair for the pool (wiping it) and adds it; returns its kid. */
  async add(material: KeyMaterial): Promise<string> {
    const key = sealKeyMaterial(material, this.keks, poolPlace);
    const encoded = Buffer.from(SigningKeyCreated.encode(key).finish()).toString('base64');
    // The key before its kid: whoever sees the kid finds the key.
    await this.store.set(keyPoolKeys.key(key.kid), encoded);
    await this.store.sadd(keyPoolKeys.kids(), [key.kid]);
    return key.kid;
  }

  /**
   * A pooled key, now sealed for `{tenant}/{serverId}` and out of the pool for good; undefined when
   * the pool is empty. Of replicas taking at once, each gets other keys.
   */
  async take(tenant: string, serverId: string): Promise<SigningKeyCreated | undefined> {
    const kids = await this.store.smembers(keyPoolKeys.kids());
    // From a random place: replicas taking at once mostly try different keys.
    const start = Math.floor(Math.random() * kids.length);
    for (let i = 0; i < kids.length; i++) {
      const kid = kids[(start + i) % kids.length]!;
      const encoded = await this.store.getDel(keyPoolKeys.key(kid));
      await this.store.srem(keyPoolKeys.kids(), [kid]);
      // Another replica took it first.
      if (encoded === null) continue;
      try {
        return this.placed(
          SigningKeyCreated.decode(Buffer.from(encoded, 'base64')),
          tenant,
          serverId,
        );
      } catch {
        // Sealed under a KEK no longer configured, or not what it claims: never used.
        this.log({
          level: 'warn',
          message: 'a pooled signing key could not be used; dropped',
          kid,
        });
      }
    }
    return undefined;
  }

  /** The pooled key sealed for its server, once it is shown to be the key pair its kid names. */
  private placed(pooled: SigningKeyCreated, tenant: string, serverId: string): SigningKeyCreated {
    if (!pooled.privateKey) throw new Error('no private key');
    const der = unsealPrivateKey(pooled.privateKey, this.keks, poolPlace(pooled.kid));
    try {
      // The public half published in JWKS is derived from the sealed private key, not taken on trust.
      const jwk = createPublicKey(
        createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
      ).export({
        format: 'jwk',
      }) as { n: string; e: string };
      if (
        jwk.n !== pooled.n ||
        jwk.e !== pooled.e ||
        jwkThumbprint({ kty: 'RSA', ...jwk }) !== pooled.kid
      )
        throw new Error('the public key does not match');
      return {
        kid: pooled.kid,
        n: jwk.n,
        e: jwk.e,
        privateKey: sealPrivateKey(der, this.keks, keyPlace(tenant, serverId, pooled.kid)),
      };
    } finally {
      der.fill(0);
    }
  }
}
