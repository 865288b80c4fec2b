// The signing key read model: one hash per authorization server, written by the projector from
// gatehouse.keys and gatehouse.revocations, read by `keys` (JWKS, rotation) and by every signer.
//   k:{kid}  JSON: kid, n, e, the sealed private key, created
//   s:{kid}  JSON: status (NEXT | ACTIVE | RETIRED), since, removeAfter
//   active   the kid that signs
//   r:{kid}  when the key was revoked; kept after the key is removed, so it stays dead
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { SealedKey } from './kek.js';
import type { KeyStatus } from './server-keys.js';

export const keysReadModelPrefix = 'rm:keys:';

export const keyReadModel = {
  /** hash: the keys of one server, as above */
  server: (tenant: string, serverId: string) => `rm:keys:${tenant}:${serverId}`,
  /** set of "{tenant}/{serverId}" of every server that has had keys */
  servers: () => 'rm:keys:servers',
};

/** The id under which the org authorization server's keys are kept. */
export const orgServerId = 'org';

export interface PublishedKey {
  kid: string;
  n: string;
  e: string;
  status: KeyStatus;
  privateKey: SealedKey;
  created: string;
  /** When the key took its status. */
  since: string;
  removeAfter?: string;
}

export interface ServerKeysView {
  /** Published keys, revoked ones left out, oldest first. */
  keys: PublishedKey[];
  /** The key that signs, if any. */
  active?: PublishedKey;
  revoked: ReadonlySet<string>;
}

export function viewOfServerKeys(hash: Record<string, string>): ServerKeysView {
  const revoked = new Set(
    Object.keys(hash)
      .filter((field) => field.startsWith('r:'))
      .map((field) => field.slice(2)),
  );
  const keys: PublishedKey[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith('k:')) continue;
    const kid = field.slice(2);
    if (revoked.has(kid)) continue;
    const stored = JSON.parse(value) as StoredKey;
    const status = JSON.parse(hash[`s:${kid}`] ?? '{"status":"NEXT"}') as StoredStatus;
    keys.push({
      kid,
      n: stored.n,
      e: stored.e,
      privateKey: {
        kekId: stored.privateKey.kekId,
        iv: Buffer.from(stored.privateKey.iv, 'base64'),
        ciphertext: Buffer.from(stored.privateKey.ciphertext, 'base64'),
        tag: Buffer.from(stored.privateKey.tag, 'base64'),
      },
      created: stored.created,
      status: status.status,
      since: status.since ?? stored.created,
      ...(status.removeAfter ? { removeAfter: status.removeAfter } : {}),
    });
  }
  keys.sort((a, b) => a.created.localeCompare(b.created) || a.kid.localeCompare(b.kid));
  const active = keys.find((key) => key.kid === hash.active);
  return { keys, ...(active ? { active } : {}), revoked };
}

export async function loadServerKeys(
  store: ProjectionStore,
  tenant: string,
  serverId: string,
): Promise<ServerKeysView> {
  return viewOfServerKeys(await store.hgetall(keyReadModel.server(tenant, serverId)));
}

/** The decider's state from the read model. */
export interface StoredKey {
  kid: string;
  n: string;
  e: string;
  privateKey: { kekId: string; iv: string; ciphertext: string; tag: string };
  created: string;
}

export interface StoredStatus {
  status: KeyStatus;
  since?: string;
  removeAfter?: string;
}

/**
 * Waits until each of a tenant's servers has a key that signs (JWKS publishes it), up to
 * `timeoutMs`; returns the servers that still have none (empty: all have one).
 */
export async function waitForSigningKeys(
  store: ProjectionStore,
  tenant: string,
  serverIds: readonly string[],
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let waiting = [...serverIds];
  for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
    const actives = await Promise.all(
      waiting.map((serverId) => store.hget(keyReadModel.server(tenant, serverId), 'active')),
    );
    waiting = waiting.filter((_, i) => actives[i] === null);
    if (waiting.length === 0 || Date.now() >= deadline) return waiting;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, deadline - Date.now())));
  }
}
