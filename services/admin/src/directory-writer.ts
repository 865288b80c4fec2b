// The admin's write path: append directory events, then wait until the projector has applied them,
// so the next call reads what this one wrote (SPEC section 3). Also the uniqueness claims that make
// "create" safe under concurrent requests. Event-log and projector trouble become 503s here.
import {
  clientLifecycleEventTypes,
  type DirectoryEvent,
  encodeDirectoryEvent,
  keys,
} from '@gatehouse/directory';
import { type EventBus, EventBusUnavailableError, type EventPosition } from '@gatehouse/event-bus';
import { newEnvelope, Topics } from '@gatehouse/events';
import { OktaApiError } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { ProjectionsBehindError, waitForProjections } from '@gatehouse/projections';

/** A claim outlives any request; the projector makes it permanent once the event is applied. */
const claimTtlMs = 5 * 60_000;

/** The change is appended, but the projector has not applied it in time: it will appear. */
class ChangeNotVisibleYet extends OktaApiError {}

export class DirectoryWriter {
  constructor(
    private readonly bus: EventBus,
    private readonly store: ProjectionStore,
    private readonly options: { readYourWritesMs: number; now?: () => Date },
  ) {}

  /**
   * Appends one aggregate's events. `fromVersion`, for aggregates whose events span topics (clients),
   * is the version the decision was made on: the events get the versions after it.
   */
  async append(
    tenant: string,
    aggregateId: string,
    events: readonly DirectoryEvent[],
    causationId: string,
    fromVersion?: number,
  ): Promise<void> {
    const version = (i: number) => (fromVersion === undefined ? undefined : fromVersion + i + 1);
    await this.appendAll(
      tenant,
      events.map((event, i) => ({ aggregateId, event, version: version(i) })),
      causationId,
    );
  }

  /** Appends the events of several aggregates of one tenant, in order, in one publish. */
  async appendAll(
    tenant: string,
    changes: readonly { aggregateId: string; event: DirectoryEvent; version?: number }[],
    causationId: string,
  ): Promise<void> {
    if (changes.length === 0) return;
    const envelopes = changes.map(({ aggregateId, event, version }) =>
      newEnvelope(
        {
          type: event.type,
          tenant,
          aggregateId,
          data: encodeDirectoryEvent(event),
          causationId,
          aggregateVersion: version,
        },
        { now: this.options.now },
      ),
    );
    // Client lifecycle events have their own topic (SPEC section 7); a command's events go to one
    // topic in practice, and to each in their order otherwise.
    const positions: EventPosition[] = [];
    try {
      for (const topic of [Topics.directory, Topics.clientLifecycle]) {
        const batch = envelopes.filter((_, i) => topicOf(changes[i]!.event) === topic);
        if (batch.length > 0) positions.push(...(await this.bus.publish(topic, batch)));
      }
    } catch (error) {
      if (error instanceof EventBusUnavailableError) {
        throw OktaApiError.unavailable(
          'The change could not be saved: the event log is unavailable. Nothing was changed; try again.',
        );
      }
      throw error;
    }
    try {
      await waitForProjections(this.store, positions, { timeoutMs: this.options.readYourWritesMs });
    } catch (error) {
      if (error instanceof ProjectionsBehindError) {
        const pending = OktaApiError.unavailable(
          'The change was saved but is not visible yet: the projector is behind. It will appear shortly.',
        );
        throw new ChangeNotVisibleYet(
          pending.status,
          pending.errorCode,
          pending.errorSummary,
          [],
          pending.headers,
        );
      }
      throw error;
    }
  }

  /**
   * Runs `change` (which appends the events that create or rename the holder) while holding a unique
   * name: refuses with E0000001 on `field` when another aggregate holds it, and gives the claim back
   * only when nothing was appended. Once appended, the projector makes the claim permanent.
   */
  async whileClaiming(
    claim: {
      kind: string;
      tenant: string;
      name: string;
      holder: string;
      field: string;
      taken?: string;
    },
    change: () => Promise<void>,
  ): Promise<void> {
    const key = keys.claim(claim.kind, claim.tenant, claim.name);
    if (!(await this.store.setIfAbsent(key, claim.holder, { ttlMs: claimTtlMs }))) {
      throw OktaApiError.validation([
        {
          field: claim.field,
          message:
            claim.taken ?? 'An object with this field already exists in the current organization',
        },
      ]);
    }
    try {
      await change();
    } catch (error) {
      if (!(error instanceof ChangeNotVisibleYet))
        await this.store.compareAndSet(key, claim.holder, null);
      throw error;
    }
  }
}

function topicOf(event: DirectoryEvent): string {
  return clientLifecycleEventTypes.has(event.type) ? Topics.clientLifecycle : Topics.directory;
}
