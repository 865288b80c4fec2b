// The projector as a library: every read model Gatehouse has, run over one consumer group.

import { clientLifecycleEventTypes, directoryProjection } from '@gatehouse/directory';
import type { DeliveredEvent, EventBus } from '@gatehouse/event-bus';
import type { Envelope } from '@gatehouse/events';
import { Topics } from '@gatehouse/events';
import { grantsProjection, invalidationProjection } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';
import {
  type Projection,
  ProjectionRunner,
  type RebuildResult,
  rebuildProjections,
} from '@gatehouse/projections';
import { keysProjection } from '@gatehouse/signing-keys';

/** Every projection the projector maintains: the read models every service reads, all under rm:. */
export const projections: readonly Projection[] = [
  directoryProjection,
  keysProjection,
  grantsProjection,
  invalidationProjection,
];

/**
 * gatehouse.client-lifecycle is the public stream of client lifecycle events (SPEC section 7): the
 * projector appends there a copy (same id) of each one a command appended to gatehouse.directory,
 * once admitted. Events without a command id are not copied: in logs written before, they were
 * appended to both topics' owners directly.
 */
export function republishedTopic(envelope: Envelope, topic: string): string | undefined {
  return topic === Topics.directory &&
    envelope.commandId !== '' &&
    clientLifecycleEventTypes.has(envelope.type as never)
    ? Topics.clientLifecycle
    : undefined;
}

export interface ProjectorDeps {
  bus: EventBus;
  store: ProjectionStore;
  /** Consumer group shared by every projector replica. Default `gatehouse.projector`. */
  groupId?: string;
  onError?: (error: unknown, event: DeliveredEvent) => void;
}

export interface Projector {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Drops every read model and builds it again from offset 0; run it while stopped. */
  rebuild(): Promise<RebuildResult>;
}

export function createProjector(deps: ProjectorDeps): Projector {
  let runner: ProjectionRunner | undefined;
  return {
    async start() {
      runner ??= await ProjectionRunner.start({
        ...deps,
        projections,
        republish: republishedTopic,
      });
    },
    async stop() {
      await runner?.stop();
      runner = undefined;
    },
    async rebuild() {
      if (runner) throw new Error('stop the projector before rebuilding');
      return rebuildProjections({ bus: deps.bus, store: deps.store, projections });
    },
  };
}
