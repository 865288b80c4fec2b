// What a projection is: a pure function from one event to the writes that apply it to a read model.
import type { Envelope } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import type { WriteModel } from './write-models.js';

export interface Projection {
  name: string;
  /** Topics whose events this projection reads. */
  topics: readonly string[];
  /** Key prefixes this projection writes under, and only under; a rebuild drops them. */
  keyPrefixes: readonly string[];
  /**
   * The writes that apply one event. Pure: the same event gives the same writes, and applying them
   * twice leaves the same read model (absolute values, set members; no counters). Unknown event
   * types give no writes.
   */
  project(envelope: Envelope): readonly WriteOp[];
  /** Whether this projection reads `envelope` from `topic`; all of them when absent. */
  accepts?(topic: string, envelope: Envelope): boolean;
  /**
   * The write model whose commands decide this projection's events: only the events of admitted
   * commands are projected (SPEC section 1). Runners admit each event once, for every projection.
   */
  writeModel?: WriteModel;
}

/** The write models of a list of projections, each once. */
export const writeModelsOf = (projections: readonly Projection[]): WriteModel[] => [
  ...new Map(
    projections.flatMap((p) => (p.writeModel ? [[p.writeModel.name, p.writeModel] as const] : [])),
  ).values(),
];

/** Last offset applied per topic partition, written with the writes of that event. */
export const positionPrefix = 'pos:';
export const topicPositionPrefix = (topic: string) => `${positionPrefix}${topic}:`;
export const positionKey = (topic: string, partition: number) =>
  `${topicPositionPrefix(topic)}${partition}`;

/**
 * When the read models last held everything: epoch ms of a moment such that every event appended
 * to the projections' topics before it had been applied. Written by every running projector; read
 * by every process that checks tokens, which fails closed once it is too old (SPEC section 6).
 */
export const caughtUpAtKey = `${positionPrefix}caught-up-at`;
