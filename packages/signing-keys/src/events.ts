// Signing key events as typed records, and their protobuf encoding. All of them go to gatehouse.keys,
// a server's in one order; the projector copies revocations to gatehouse.revocations (SPEC 7).
import {
  type Envelope,
  SigningKeyActivated,
  SigningKeyCreated,
  SigningKeyRemoved,
  SigningKeyRetired,
  SigningKeyRevoked,
} from '@gatehouse/contracts';
import { type EventsOf, eventCodecs, type MessageCodec } from '@gatehouse/events';

const codecs = {
  'gatehouse.events.v1.SigningKeyCreated': SigningKeyCreated as MessageCodec<SigningKeyCreated>,
  'gatehouse.events.v1.SigningKeyActivated':
    SigningKeyActivated as MessageCodec<SigningKeyActivated>,
  'gatehouse.events.v1.SigningKeyRetired': SigningKeyRetired as MessageCodec<SigningKeyRetired>,
  'gatehouse.events.v1.SigningKeyRemoved': SigningKeyRemoved as MessageCodec<SigningKeyRemoved>,
  'gatehouse.events.v1.SigningKeyRevoked': SigningKeyRevoked as MessageCodec<SigningKeyRevoked>,
} as const;

/** A signing key event: its type and its data, before it is put in an envelope. */
export type KeyEvent = EventsOf<typeof codecs>;
export type KeyEventType = KeyEvent['type'];

const keyEvents = eventCodecs(codecs);

export const encodeKeyEvent: (event: KeyEvent) => Uint8Array = keyEvents.encode;

/** The key event an envelope carries, or undefined when its type is not one. */
export const decodeKeyEvent: (envelope: Envelope) => KeyEvent | undefined = keyEvents.decode;
