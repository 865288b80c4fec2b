// Building envelopes: the only place that stamps ids and times on new events.
import { Envelope } from '@gatehouse/contracts';
import { uuidv7 } from './uuidv7.js';

export interface NewEvent {
  /** Fully qualified protobuf message name of `data`. */
  type: string;
  /** Version of that message's schema; defaults to 1. */
  schemaVersion?: number;
  tenant: string;
  aggregateId: string;
  /** The serialized event message. */
  data: Uint8Array;
  /** Request id or id of the event that caused this one. */
  causationId?: string;
  /** The aggregate's version after this event, for aggregates whose events span several topics. */
  aggregateVersion?: number;
}

/** Time and ids are passed in so that deciders and tests stay deterministic. */
export interface EnvelopeStamps {
  now?: () => Date;
  newId?: () => string;
}

export function newEnvelope(event: NewEvent, stamps: EnvelopeStamps = {}): Envelope {
  const occurredAt = stamps.now?.() ?? new Date();
  return {
    id: stamps.newId?.() ?? uuidv7(occurredAt.getTime()),
    type: event.type,
    schemaVersion: event.schemaVersion ?? 1,
    tenant: event.tenant,
    aggregateId: event.aggregateId,
    occurredAt,
    causationId: event.causationId ?? '',
    data: Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength),
    aggregateVersion: BigInt(event.aggregateVersion ?? 0),
  };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return Envelope.encode(envelope).finish();
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return Envelope.decode(bytes);
}

/**
 * The last-writer-wins stamp of an event: its aggregate version, then its id (UUID v7), as one
 * string of digits and lower-case hex that compares in that order, bytewise or by any collation.
 */
export function versionStamp(envelope: Envelope): string {
  return `${envelope.aggregateVersion.toString().padStart(20, '0')}${envelope.id.replaceAll('-', '')}`;
}
