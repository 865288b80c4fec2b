// The write side of signing keys: provisions, rotates, revokes and removes the keys of each
// authorization server. A change is a command on the server's keys stream (SPEC section 1): decided
// on the version it read and admitted by the projector only if that version still holds, otherwise
// decided again on the new state. So of two replicas that both find a rotation due, the second finds
// it done: one rotation per period. A lock in the store keeps the replicas from racing in the first
// place (a losing attempt wastes the key it generated); correctness does not rest on it.
import type { SigningKeyCreated } from '@gatehouse/contracts';
import type { EventBus } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import type { ProjectionStore } from '@gatehouse/projection-store';
import {
  CommandHandler,
  type CommandHandlerOptions,
  CommandNotAppendedError,
  CommandOutcomeUnknownError,
} from '@gatehouse/projections';
import {
  decideServerKeys,
  encodeKeyEvent,
  generateSealedKey,
  type KeyEncryptionKeys,
  type KeyPool,
  keyReadModel,
  loadServerKeys,
  type ServerKeysCommand,
  type ServerKeysView,
  serverKeysStream,
} from '@gatehouse/signing-keys';

export interface KeyKeeperOptions {
  bus: EventBus;
  store: ProjectionStore;
  keks: KeyEncryptionKeys;
  /** How long a key signs before its successor takes over. */
  rotationPeriodMs: number;
  /** The longest lifetime of a token signed with a key: a retired key stays in JWKS that long. */
  maxTokenLifetimeMs: number;
  /** Longest wait for the projector, before and after a change. */
  readYourWritesMs: number;
  /** Names this replica in its locks. */
  replicaId: string;
  now: () => Date;
  /**
   * How long a replica's lock on a server's keys lasts at most (default 60 s); 0: no lock, so
   * replicas race and the log decides (what happens anyway when a lock expires mid-change).
   */
  lockTtlMs?: number;
  /** Told about every change that lost a race (and was decided again) or ran out of attempts. */
  log?: CommandHandlerOptions['log'];
  /**
   * Keys generated ahead of need: a new key comes from it while it has one, and is generated on
   * demand (the slow way, never broken) when it is empty or unreachable.
   */
  pool?: KeyPool;
  /** Told each time a key was taken from the pool (to refill it). */
  onPoolKeyTaken?: () => void;
}

/** Another replica is changing this server's keys; try again shortly. */
export class KeysBusyError extends Error {
  override readonly name = 'KeysBusyError';
}

/** The event log or the projector could not keep up; nothing or not everything is visible yet. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

/** What one pass of the schedule did: servers ("tenant/serverId") rotated, kids removed. */
export interface ScheduleResult {
  rotated: string[];
  removed: string[];
  failed: { server: string; error: unknown }[];
}

/** A lock outlives any change; it is released as soon as the change is visible. */
const lockTtlMs = 60_000;

export class KeyKeeper {
  private readonly commands: CommandHandler;
  /** Where this replica's new keys came from. */
  readonly keySources = { pool: 0, onDemand: 0 };

  constructor(private readonly options: KeyKeeperOptions) {
    this.commands = new CommandHandler({
      bus: options.bus,
      store: options.store,
      topic: Topics.keys,
      readYourWritesMs: options.readYourWritesMs,
      now: options.now,
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** Gives a new server its keys; does nothing when it has some. */
  provision(tenant: string, serverId: string, causationId: string): Promise<ServerKeysView> {
    return this.change(tenant, serverId, causationId, async (view) =>
      view.keys.length > 0 || view.revoked.size > 0
        ? undefined
        : {
            kind: 'ProvisionKeys',
            active: await this.newKey(tenant, serverId),
            next: await this.newKey(tenant, serverId),
          },
    );
  }

  /** Rotates now (on demand), or only when the active key's period is over (`onlyWhenDue`). */
  rotate(
    tenant: string,
    serverId: string,
    causationId: string,
    options: { onlyWhenDue?: boolean } = {},
  ): Promise<ServerKeysView> {
    return this.change(tenant, serverId, causationId, this.rotation(tenant, serverId, options));
  }

  /** Emergency revocation: the key's tokens are invalid at once. */
  revoke(tenant: string, serverId: string, kid: string, causationId: string) {
    return this.change(tenant, serverId, causationId, async () => ({
      kind: 'RevokeKey',
      kid,
      next: await this.newKey(tenant, serverId),
    }));
  }

  /** The server was deleted: its keys leave JWKS. */
  removeAll(tenant: string, serverId: string, causationId: string) {
    return this.change(tenant, serverId, causationId, async (view) =>
      view.keys.length > 0 ? { kind: 'RemoveAllKeys' } : undefined,
    );
  }

  /**
   * One pass of the schedule over every server with keys: rotates those whose period is over and
   * removes expired retired keys. A server another replica is changing is left to it.
   */
  async runSchedule(causationId: string): Promise<ScheduleResult> {
    const result: ScheduleResult = { rotated: [], removed: [], failed: [] };
    for (const id of await this.options.store.smembers(keyReadModel.servers())) {
      const slash = id.indexOf('/');
      const tenant = id.slice(0, slash);
      const serverId = id.slice(slash + 1);
      const view = await loadServerKeys(this.options.store, tenant, serverId);
      try {
        // Read before the lock, so possibly stale: each change decides again on fresh state.
        if (this.rotationDue(view)) {
          const rotation = this.rotation(tenant, serverId, { onlyWhenDue: true });
          if ((await this.decideAndAppend(tenant, serverId, causationId, rotation)).changed)
            result.rotated.push(id);
        }
        const expiring = view.keys.filter((key) => this.expired(key.removeAfter));
        if (expiring.length > 0) {
          const after = await this.decideAndAppend(tenant, serverId, causationId, this.removal());
          if (after.changed)
            for (const key of expiring)
              if (!after.view.keys.some((k) => k.kid === key.kid)) result.removed.push(key.kid);
        }
      } catch (error) {
        // Another replica is on it; or this server cannot be changed now: the next pass retries,
        // and the other servers are not held up.
        if (!(error instanceof KeysBusyError)) result.failed.push({ server: id, error });
      }
    }
    return result;
  }

  private rotation(tenant: string, serverId: string, options: { onlyWhenDue?: boolean }) {
    return async (view: ServerKeysView): Promise<ServerKeysCommand | undefined> => {
      if (options.onlyWhenDue && !this.rotationDue(view)) return undefined;
      return {
        kind: 'RotateKeys',
        next: await this.newKey(tenant, serverId),
        removeAfter: new Date(this.options.now().getTime() + this.options.maxTokenLifetimeMs),
      };
    };
  }

  /** A key for the server: from the pool while it has one, else generated now. */
  private async newKey(tenant: string, serverId: string): Promise<SigningKeyCreated> {
    const { pool } = this.options;
    if (pool) {
      const pooled = await pool.take(tenant, serverId).catch((error: unknown) => {
        this.options.log?.({
          level: 'warn',
          message: 'the key pool is unreachable; generating a key on demand',
          error: String(error),
        });
        return undefined;
      });
      if (pooled) {
        this.keySources.pool += 1;
        this.options.onPoolKeyTaken?.();
        return pooled;
      }
    }
    this.keySources.onDemand += 1;
    return generateSealedKey(this.options.keks, tenant, serverId);
  }

  private removal() {
    return async (view: ServerKeysView): Promise<ServerKeysCommand | undefined> =>
      view.keys.some((key) => this.expired(key.removeAfter))
        ? { kind: 'RemoveExpiredKeys', now: this.options.now() }
        : undefined;
  }

  private rotationDue(view: ServerKeysView): boolean {
    return (
      view.active !== undefined &&
      Date.parse(view.active.since) + this.options.rotationPeriodMs <= this.options.now().getTime()
    );
  }

  private expired(removeAfter: string | undefined): boolean {
    return removeAfter !== undefined && Date.parse(removeAfter) <= this.options.now().getTime();
  }

  private async change(
    tenant: string,
    serverId: string,
    causationId: string,
    command: (view: ServerKeysView) => Promise<ServerKeysCommand | undefined>,
  ): Promise<ServerKeysView> {
    return (await this.decideAndAppend(tenant, serverId, causationId, command)).view;
  }

  /** The change itself; `changed` is false when the command turned out not to be needed. */
  private async decideAndAppend(
    tenant: string,
    serverId: string,
    causationId: string,
    command: (view: ServerKeysView) => Promise<ServerKeysCommand | undefined>,
  ): Promise<{ view: ServerKeysView; changed: boolean }> {
    const { store, replicaId } = this.options;
    const lock = `lock:keys:${tenant}/${serverId}`;
    const ttlMs = this.options.lockTtlMs ?? lockTtlMs;
    if (ttlMs > 0 && !(await store.setIfAbsent(lock, replicaId, { ttlMs })))
      throw new KeysBusyError(`the keys of ${tenant}/${serverId} are being changed`);
    let release = ttlMs > 0;
    try {
      const stream = serverKeysStream(serverId);
      const changed = await this.commands.handle(
        tenant,
        causationId,
        async (reads) => {
          const state = stream.fromJson(await reads.state(stream.name));
          // The view (read with or after the stream) has the times a decision needs: when the
          // active key started signing, when a retired one may go.
          const decided = await command(await loadServerKeys(store, tenant, serverId));
          const events = decided ? decideServerKeys(decided, state) : [];
          return {
            events: events.map((event) => ({
              aggregateId: serverId,
              type: event.type,
              data: encodeKeyEvent(event),
            })),
            result: events.length > 0,
          };
        },
        `keys/${serverId}`,
      );
      return { view: await loadServerKeys(store, tenant, serverId), changed };
    } catch (error) {
      if (error instanceof CommandNotAppendedError)
        throw new KeysUnavailableError(
          error.mayHaveBeenAppended
            ? 'the event log did not confirm the change in time; it may still apply'
            : 'the event log is unavailable; the keys were not changed',
        );
      if (error instanceof CommandOutcomeUnknownError) {
        // Keep the lock until it expires: a replica deciding on the old keys now would only lose.
        release = false;
        throw new KeysUnavailableError(
          'the keys were changed, but the projector has not applied it yet',
        );
      }
      throw error;
    } finally {
      if (release) await store.compareAndSet(lock, replicaId, null);
    }
  }
}
