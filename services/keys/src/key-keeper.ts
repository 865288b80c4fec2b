// The write side of signing keys: provisions, rotates, revokes and removes the keys of each
// authorization server, one change at a time per server across every `keys` replica. A change takes
// the server's lock in the store, waits until the read model has applied every key event appended so
// far, decides against it, appends, and waits for its own events before it lets go. So of two
// replicas that both find a rotation due, the second finds it done: one rotation per period.
import type { EventBus, EventPosition } from '@gatehouse/event-bus';
import { EventBusUnavailableError } from '@gatehouse/event-bus';
import { newEnvelope, Topics } from '@gatehouse/events';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { ProjectionsBehindError, waitForProjections } from '@gatehouse/projections';
import {
  decideServerKeys,
  encodeKeyEvent,
  generateSealedKey,
  type KeyEncryptionKeys,
  keyReadModel,
  loadServerKeys,
  type ServerKeysCommand,
  type ServerKeysView,
  stateOfServerKeys,
  topicOfKeyEvent,
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
  constructor(private readonly options: KeyKeeperOptions) {}

  /** Gives a new server its keys; does nothing when it has some. */
  provision(tenant: string, serverId: string, causationId: string): Promise<ServerKeysView> {
    return this.change(tenant, serverId, causationId, async (view) =>
      view.keys.length > 0 || view.revoked.size > 0
        ? undefined
        : {
            kind: 'ProvisionKeys',
            active: await generateSealedKey(this.options.keks, tenant, serverId),
            next: await generateSealedKey(this.options.keks, tenant, serverId),
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
      next: await generateSealedKey(this.options.keks, tenant, serverId),
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
        next: await generateSealedKey(this.options.keks, tenant, serverId),
        removeAfter: new Date(this.options.now().getTime() + this.options.maxTokenLifetimeMs),
      };
    };
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
    if (!(await store.setIfAbsent(lock, replicaId, { ttlMs: lockTtlMs })))
      throw new KeysBusyError(`the keys of ${tenant}/${serverId} are being changed`);
    let release = true;
    try {
      await this.caughtUp();
      const view = await loadServerKeys(store, tenant, serverId);
      const decided = await command(view);
      if (!decided) return { view, changed: false };
      const events = decideServerKeys(decided, stateOfServerKeys(view));
      if (events.length === 0) return { view, changed: false };
      const positions: EventPosition[] = [];
      try {
        for (const topic of [Topics.revocations, Topics.keys]) {
          const batch = events
            .filter((event) => topicOfKeyEvent(event) === topic)
            .map((event) =>
              newEnvelope(
                {
                  type: event.type,
                  tenant,
                  aggregateId: serverId,
                  data: encodeKeyEvent(event),
                  causationId,
                },
                { now: this.options.now },
              ),
            );
          if (batch.length > 0) positions.push(...(await this.options.bus.publish(topic, batch)));
        }
      } catch (error) {
        if (error instanceof EventBusUnavailableError)
          throw new KeysUnavailableError('the event log is unavailable; the keys were not changed');
        throw error;
      }
      try {
        await waitForProjections(store, positions, { timeoutMs: this.options.readYourWritesMs });
      } catch (error) {
        if (error instanceof ProjectionsBehindError) {
          // Keep the lock until it expires: a replica reading the old keys now would decide again.
          release = false;
          throw new KeysUnavailableError(
            'the keys were changed, but the projector has not applied it yet',
          );
        }
        throw error;
      }
      return { view: await loadServerKeys(store, tenant, serverId), changed: true };
    } finally {
      if (release) await store.compareAndSet(lock, replicaId, null);
    }
  }

  /** Waits until the read model has applied every key event appended so far, by anyone. */
  private async caughtUp(): Promise<void> {
    const positions: EventPosition[] = [];
    for (const topic of [Topics.keys, Topics.revocations]) {
      for (const [partition, end] of await this.options.bus.endOffsets(topic)) {
        if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
      }
    }
    try {
      await waitForProjections(this.options.store, positions, {
        timeoutMs: this.options.readYourWritesMs,
      });
    } catch (error) {
      if (error instanceof ProjectionsBehindError)
        throw new KeysUnavailableError('the projector is behind; the keys cannot be changed now');
      throw error;
    }
  }
}
