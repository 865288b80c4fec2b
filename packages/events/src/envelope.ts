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
  /** The aggregate's version after this event, where the producer numbers them (refresh families). */
  aggregateVersion?: number;
  /** The command attempt that appends this event (SPEC section 1); see `commandEnvelopes`. */
  commandId?: string;
  /** On a command's first event: the version of each stream the command decided on. */
  expectedVersions?: readonly { stream: string; version: number }[];
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
    commandId: event.commandId ?? '',
    expectedVersions: (event.expectedVersions ?? []).map(({ stream, version }) => ({
      stream,
      version: BigInt(version),
    })),
  };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return Envelope.encode(envelope).finish();
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return Envelope.decode(bytes);
}
