// Signing key events as typed records, and their protobuf encoding. Lifecycle events go to
// gatehouse.keys; a revocation goes to gatehouse.revocations with every other revocation (SPEC 7).
import {
  type Envelope,
  SigningKeyActivated,
  SigningKeyCreated,
  SigningKeyRemoved,
  SigningKeyRetired,
  SigningKeyRevoked,
} from '@gatehouse/contracts';
import { Topics } from '@gatehouse/events';

interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

const codecs = {
  'gatehouse.events.v1.SigningKeyCreated': SigningKeyCreated as MessageCodec<SigningKeyCreated>,
  'gatehouse.events.v1.SigningKeyActivated':
    SigningKeyActivated as MessageCodec<SigningKeyActivated>,
  'gatehouse.events.v1.SigningKeyRetired': SigningKeyRetired as MessageCodec<SigningKeyRetired>,
  'gatehouse.events.v1.SigningKeyRemoved': SigningKeyRemoved as MessageCodec<SigningKeyRemoved>,
  'gatehouse.events.v1.SigningKeyRevoked': SigningKeyRevoked as MessageCodec<SigningKeyRevoked>,
} as const;

type Codecs = typeof codecs;
export type KeyEventType = keyof Codecs;
type DataOf<K extends KeyEventType> = Codecs[K] extends MessageCodec<infer T> ? T : never;

/** A signing key event: its type and its data, before it is put in an envelope. */
export type KeyEvent = { [K in KeyEventType]: { type: K; data: DataOf<K> } }[KeyEventType];

export function encodeKeyEvent(event: KeyEvent): Uint8Array {
  return (codecs[event.type] as MessageCodec<KeyEvent['data']>).encode(event.data).finish();
}

/** The key event an envelope carries, or undefined when its type is not one. */
export function decodeKeyEvent(envelope: Envelope): KeyEvent | undefined {
  const codec = codecs[envelope.type as KeyEventType] as MessageCodec<KeyEvent['data']> | undefined;
  if (!codec) return undefined;
  return { type: envelope.type, data: codec.decode(envelope.data) } as KeyEvent;
}

export function topicOfKeyEvent(event: KeyEvent): string {
  return event.type === 'gatehouse.events.v1.SigningKeyRevoked' ? Topics.revocations : Topics.keys;
}
