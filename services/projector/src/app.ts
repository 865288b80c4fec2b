// The projector as a library: every read model Gatehouse has, run over one consumer group.

import { clientLifecycleEventTypes, directoryProjection } from '@gatehouse/directory';
import type { DeliveredEvent, EventBus } from '@gatehouse/event-bus';
import type { Envelope } from '@gatehouse/events';
import { Topics } from '@gatehouse/events';
import { grantsProjection, invalidationProjection } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';
import {
  generationsOf,
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
 * The version of the read models these projections write (ProjectionRunnerOptions.readModelVersion):
 * raise it with every change of their shape, and a projector started on read models of an older
 * version rebuilds them beside the live ones before it projects. 1: before versions. 2: the
 * collections' ordered indexes (users, groups, group members, apps and their assignments).
 */
export const readModelVersion = 2;

/**
 * The public streams derived from the aggregates' topics (SPEC section 7): the projector appends a
 * copy (same id) of each admitted command's client lifecycle event to gatehouse.client-lifecycle, and
 * of each key revocation to gatehouse.revocations. Events without a command id are not copied: in
 * logs written before, their producers appended them to those topics directly.
 */
export function republishedTopic(envelope: Envelope, topic: string): string | undefined {
  if (envelope.commandId === '') return undefined;
  if (topic === Topics.directory && clientLifecycleEventTypes.has(envelope.type as never))
    return Topics.clientLifecycle;
  if (topic === Topics.keys && envelope.type === 'gatehouse.events.v1.SigningKeyRevoked')
    return Topics.revocations;
  return undefined;
}

export interface ProjectorDeps {
  bus: EventBus;
  /**
   * The read models' store. With generations (a GenerationalStore, as every deployment has), the
   * projector builds the read models when they are missing and heals them when they are lost, and
   * a rebuild runs beside the live ones.
   */
  store: ProjectionStore;
  /** Consumer group shared by every projector replica (per generation). Default `gatehouse.projector`. */
  groupId?: string;
  onError?: (error: unknown, event: DeliveredEvent) => void;
}

export interface Projector {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Builds the read models again from offset 0: with generations, a new generation beside the live
   * one, switched to once caught up, safe at any time with any replicas running; without, in place,
   * only while stopped.
   */
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
        readModelVersion,
      });
    },
    async stop() {
      await runner?.stop();
      runner = undefined;
    },
    async rebuild() {
      if (runner && !generationsOf(deps.store))
        throw new Error('stop the projector before rebuilding');
      return rebuildProjections({
        bus: deps.bus,
        store: deps.store,
        projections,
        republish: republishedTopic,
        readModelVersion,
      });
    },
  };
}
