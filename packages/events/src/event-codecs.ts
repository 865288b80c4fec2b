// Typed events and their protobuf encoding, for a family of event messages: `type` is the fully
// qualified protobuf name, `data` the message. A reader meets types it does not know (a newer
// producer, another family on the same topic) and gets undefined for them.
import type { Envelope } from '@gatehouse/contracts';

/** What ts-proto generates for each message. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

type DataOf<C> = C extends MessageCodec<infer T> ? T : never;

/** The events of a codec table: `{ type, data }` for each of its message names. */
export type EventsOf<Codecs extends Record<string, MessageCodec<unknown>>> = {
  [K in keyof Codecs & string]: { type: K; data: DataOf<Codecs[K]> };
}[keyof Codecs & string];

export function eventCodecs<const Codecs extends Record<string, MessageCodec<unknown>>>(
  codecs: Codecs,
) {
  type Event = EventsOf<Codecs>;
  return {
    encode(event: Event): Uint8Array {
      return (codecs[event.type] as MessageCodec<Event['data']>).encode(event.data).finish();
    },
    /** The event an envelope carries, or undefined when its type is not of this family. */
    decode(envelope: Envelope): Event | undefined {
      if (!Object.hasOwn(codecs, envelope.type)) return undefined;
      const codec = codecs[envelope.type as keyof Codecs] as MessageCodec<Event['data']>;
      return { type: envelope.type, data: codec.decode(envelope.data) } as Event;
    },
  };
}
