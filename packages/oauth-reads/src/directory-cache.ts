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
import { loadServerConfig, type ServerConfig } from './server-config.js';
import { ProjectionsStaleError } from './token-validity.js';

const split = (key: string) => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)] as const;
};

export class DirectoryCache {
  private readonly tenants: FollowedCache<string | null>;
  private readonly clients: FollowedCache<ClientView | undefined>;
  private readonly servers: FollowedCache<ServerConfig | undefined>;
  private subscription?: Subscription;

  constructor(store: ProjectionStore, tenancy: TenancyConfig) {
    const tenantStatus = (key: string) => store.hget(keys.tenant(split(key)[0]), 'status');
    const client = async (key: string) => {
      const [tenant, clientId] = split(key);
      return clientViewOf(await store.hgetall(keys.client(tenant, clientId)));
    };
    const server = (key: string) => {
      const [tenant, serverId] = split(key);
      return loadServerConfig(store, tenancy, tenant, serverId);
    };
    this.tenants = new FollowedCache(afterApplied(store, tenantStatus));
    this.clients = new FollowedCache(afterApplied(store, client));
    this.servers = new FollowedCache(afterApplied(store, server));
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
    return failClosed(this.servers.get(`${tenant}/${serverId}`));
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
