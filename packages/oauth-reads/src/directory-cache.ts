// The directory entries /token and /authorize read on every request, held in memory: tenant status, clients and
// each server's configuration. Following gatehouse.directory (where every directory event is, a
// client's lifecycle included) drops an entry on any event of its aggregate (a client's own id; a
// server's id for its scopes, claims, policies and rules; the tenant's id), and the next read waits
// for the read model to apply it.
import { type ClientView, clientViewOf, keys, type TenancyConfig } from '@gatehouse/directory';
import type { EventBus, Subscription } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import type { ProjectionStore } from '@gatehouse/projection-store';
import {
  afterApplied,
  FollowedCache,
  followTopics,
  ProjectionsBehindError,
} from '@gatehouse/projections';
import { orgServerId } from '@gatehouse/signing-keys';
import { loadServerConfig, type ServerConfig } from './server-config.js';
import { ProjectionsStaleError } from './token-validity.js';

const split = (key: string) => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)] as const;
};

/**
 * What each process holds (FollowedCache's bounds: least recently used out first). Tenants and
 * servers are few per deployment, clients many; a miss is an id with nothing behind it (made-up
 * by a request, or deleted), and at most `maxMisses` of those are kept, so that requests naming
 * random ids cost a read each and never push out entries in use. Each entry is a few hundred
 * bytes plus its value (a server's configuration is the largest, a few KiB with its claims).
 */
export const directoryCacheBounds = {
  tenants: { maxEntries: 10_000, maxMisses: 1_000 },
  clients: { maxEntries: 20_000, maxMisses: 1_000 },
  servers: { maxEntries: 5_000, maxMisses: 1_000 },
} as const;

export class DirectoryCache {
  private readonly tenants: FollowedCache<string | null>;
  private readonly clients: FollowedCache<ClientView | undefined>;
  private readonly servers: FollowedCache<ServerConfig | undefined>;
  private subscription?: Subscription;

  constructor(
    private readonly store: ProjectionStore,
    private readonly tenancy: TenancyConfig,
  ) {
    const tenantStatus = (key: string) => store.hget(keys.tenant(split(key)[0]), 'status');
    const client = async (key: string) => {
      const [tenant, clientId] = split(key);
      return clientViewOf(await store.hgetall(keys.client(tenant, clientId)));
    };
    const server = (key: string) => {
      const [tenant, serverId] = split(key);
      return loadServerConfig(store, tenancy, tenant, serverId);
    };
    this.tenants = new FollowedCache(
      afterApplied(store, tenantStatus),
      directoryCacheBounds.tenants,
    );
    this.clients = new FollowedCache(afterApplied(store, client), directoryCacheBounds.clients);
    this.servers = new FollowedCache(afterApplied(store, server), directoryCacheBounds.servers);
  }

  /** `service` names the follower's consumer groups (`gatehouse.{service}.directory.*`). */
  async follow(bus: EventBus, service: string): Promise<void> {
    this.subscription = await followTopics(
      bus,
      [Topics.directory],
      `gatehouse.${service}.directory`,
      (event) => {
        const key = `${event.envelope.tenant}/${event.envelope.aggregateId}`;
        this.tenants.saw(key, event);
        this.clients.saw(key, event);
        this.servers.saw(key, event);
      },
    );
  }

  /** The tenant's status (ACTIVE, INACTIVE), or null when there is no such tenant. */
  tenantStatus(tenant: string): Promise<string | null> {
    return failClosed(this.tenants.get(`${tenant}/${tenant}`));
  }

  client(tenant: string, clientId: string): Promise<ClientView | undefined> {
    return failClosed(this.clients.get(`${tenant}/${clientId}`));
  }

  server(tenant: string, serverId: string): Promise<ServerConfig | undefined> {
    // The org server's settings follow from the tenancy alone (nothing is read): not held, so that
    // requests naming made-up tenants do not fill the cache with entries that are never misses.
    if (serverId === orgServerId)
      return loadServerConfig(this.store, this.tenancy, tenant, serverId);
    return failClosed(this.servers.get(`${tenant}/${serverId}`));
  }

  /** Entries held now, per cache (for tests and metrics). */
  get sizes(): { tenants: number; clients: number; servers: number } {
    return { tenants: this.tenants.size, clients: this.clients.size, servers: this.servers.size };
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.tenants.clear();
    this.clients.clear();
    this.servers.clear();
  }
}

/**
 * An entry whose change the read model has not applied within the wait: the projector is behind,
 * and the request fails closed with 503 temporarily_unavailable rather than answer from old state.
 */
async function failClosed<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ProjectionsBehindError) throw new ProjectionsStaleError(undefined);
    throw error;
  }
}
