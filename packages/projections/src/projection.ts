// What a projection is: a pure function from one event to the writes that apply it to a read model.
import type { Envelope } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';

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
}

/** Last offset applied per topic partition, written with the writes of that event. */
export const positionPrefix = 'pos:';
export const topicPositionPrefix = (topic: string) => `${positionPrefix}${topic}:`;
export const positionKey = (topic: string, partition: number) =>
  `${topicPositionPrefix(topic)}${partition}`;
