// A process's local copy of the signing keys it needs (SPEC section 8): signing and verifying need no
// call per token. The ring follows gatehouse.keys and gatehouse.revocations; an event for a server
// drops that server's copy, and the next use loads it again from a source that has applied the event
// (the read model after waiting for the event's position, or KeyService over gRPC asked the same).

import type { KeyObject } from 'node:crypto';
import type { EventBus, EventPosition, Subscription } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import { publicKeyFromJwk, type SigningKey } from '@gatehouse/jwt';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { FollowedCache, followTopics, waitForProjections } from '@gatehouse/projections';
import { decodeKeyEvent } from './events.js';
import { type KeyEncryptionKeys, keyPlace, openPrivateKey } from './kek.js';
import { loadServerKeys, type ServerKeysView } from './read-model.js';

export interface KeySource {
  /** The server's keys, including at least the events at `after`. */
  load(tenant: string, serverId: string, after: readonly EventPosition[]): Promise<ServerKeysView>;
}

/** Reads the read model directly, after waiting (bounded) for the projector to apply `after`. */
export function storeKeySource(
  store: ProjectionStore,
  options: { timeoutMs?: number } = {},
): KeySource {
  return {
    async load(tenant, serverId, after) {
      await waitForProjections(store, after, { timeoutMs: options.timeoutMs ?? 2000 });
      return loadServerKeys(store, tenant, serverId);
    },
  };
}

/** The server has no key that signs (it has none yet, or it was deleted). */
export class NoSigningKeyError extends Error {
  override readonly name = 'NoSigningKeyError';
}

interface Loaded {
  view: ServerKeysView;
  signing?: SigningKey;
  publicKeys: Map<string, KeyObject>;
}

/**
 * Servers whose keys a process holds (least recently used out first): each is its public keys, and
 * in a signing service the active private key, a few KiB. A server without keys (a made-up id, a
 * deleted server) is a miss, and at most 1,000 of those are kept.
 */
export const keyRingBounds = { maxEntries: 5_000, maxMisses: 1_000 } as const;

export class KeyRing {
  private readonly servers: FollowedCache<Loaded>;
  private subscription?: Subscription;

  constructor(
    source: KeySource,
    private readonly keks: KeyEncryptionKeys,
  ) {
    this.servers = new FollowedCache(
      async (id, after) => {
        const slash = id.indexOf('/');
        const [tenant, serverId] = [id.slice(0, slash), id.slice(slash + 1)];
        return this.open(tenant, serverId, await source.load(tenant, serverId, after));
      },
      {
        ...keyRingBounds,
        isMiss: (loaded) => loaded.view.keys.length === 0,
      },
    );
  }

  /** Starts following the key topics; resolves once the subscription is in place. */
  async follow(bus: EventBus): Promise<void> {
    this.subscription = await followTopics(
      bus,
      [Topics.keys, Topics.revocations],
      'gatehouse.key-ring',
      (event) => {
        if (decodeKeyEvent(event.envelope))
          this.saw(event.envelope.tenant, event.envelope.aggregateId, event);
      },
    );
  }

  /** Drops the copy of a server after one of its key events. */
  saw(tenant: string, serverId: string, position: EventPosition): void {
    this.servers.saw(`${tenant}/${serverId}`, position);
  }

  /** The key the server signs with now. */
  async signingKey(tenant: string, serverId: string): Promise<SigningKey> {
    const loaded = await this.load(tenant, serverId);
    if (!loaded.signing)
      throw new NoSigningKeyError(`authorization server ${tenant}/${serverId} has no signing key`);
    return loaded.signing;
  }

  /** The server's verification keys by kid, for verifyJwt's `keys` (revoked ones absent). */
  async verificationKeys(
    tenant: string,
    serverId: string,
  ): Promise<(kid: string) => KeyObject | undefined> {
    const { publicKeys } = await this.load(tenant, serverId);
    return (kid) => publicKeys.get(kid);
  }

  /** Every published key of the server, as loaded. */
  async keys(tenant: string, serverId: string): Promise<ServerKeysView> {
    return (await this.load(tenant, serverId)).view;
  }

  /** Servers held now (for tests and metrics). */
  get size(): number {
    return this.servers.size;
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.servers.clear();
  }

  private load(tenant: string, serverId: string): Promise<Loaded> {
    return this.servers.get(`${tenant}/${serverId}`);
  }

  private open(tenant: string, serverId: string, view: ServerKeysView): Loaded {
    const publicKeys = new Map(
      view.keys.map((key) => [key.kid, publicKeyFromJwk({ kty: 'RSA', n: key.n, e: key.e })]),
    );
    const active = view.active;
    return {
      view,
      publicKeys,
      ...(active
        ? {
            signing: {
              kid: active.kid,
              privateKey: openPrivateKey(
                active.privateKey,
                this.keks,
                keyPlace(tenant, serverId, active.kid),
              ),
            },
          }
        : {}),
    };
  }
}
