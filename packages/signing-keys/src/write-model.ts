// The signing keys' write model (SPEC sections 1 and 8): one stream per authorization server, its
// keys' lifecycle as evolveServerKeys makes it, so that a change of a server's keys is decided on the
// version it read and admitted in log order like every other command (a rotation two replicas
// decide at once happens once). Every key event of a server is on gatehouse.keys, in one order;
// the projector republishes revocations to gatehouse.revocations.
import type { Envelope } from '@gatehouse/contracts';
import { Topics } from '@gatehouse/events';
import { decodeKeyEvent } from './events.js';
import { evolveServerKeys, initialServerKeysState, type ServerKeysState } from './server-keys.js';

interface ServerKeysJson {
  keys: { kid: string; status: ServerKeysState['keys'][number]['status']; removeAfter?: string }[];
  revoked: string[];
}

const toJson = (state: ServerKeysState): ServerKeysJson => ({
  keys: state.keys.map((key) => ({
    kid: key.kid,
    status: key.status,
    ...(key.removeAfter ? { removeAfter: key.removeAfter.toISOString() } : {}),
  })),
  revoked: [...state.revoked],
});

const fromJson = (json: unknown): ServerKeysState => {
  const state = json as ServerKeysJson | undefined;
  if (!state) return initialServerKeysState;
  return {
    keys: state.keys.map((key) => ({
      kid: key.kid,
      status: key.status,
      ...(key.removeAfter ? { removeAfter: new Date(key.removeAfter) } : {}),
    })),
    revoked: new Set(state.revoked),
  };
};

/** The stream of one server's keys: its name, and its state from the stream's JSON. */
export const serverKeysStream = (serverId: string) => ({
  name: `keys/${serverId}`,
  fromJson,
});

/**
 * Key events a command appended come from gatehouse.keys; gatehouse.revocations carries the
 * projector's copies of revocations, and, in logs written before every key event went to
 * gatehouse.keys, the only record of them: those (without a command id) are read there.
 */
export const readsKeyEvent = (topic: string, envelope: Envelope) =>
  topic === Topics.keys || envelope.commandId === '';

/** The keys write model, as the projector runs it (a `WriteModel` of @gatehouse/projections). */
export const keysWriteModel = {
  name: 'signing-keys',
  topics: [Topics.keys, Topics.revocations],
  accepts: readsKeyEvent,
  changes(envelope: Envelope): { stream: string; evolve(state: unknown): unknown }[] {
    const event = decodeKeyEvent(envelope);
    if (!event) return [];
    return [
      {
        stream: serverKeysStream(envelope.aggregateId).name,
        evolve: (json: unknown) => toJson(evolveServerKeys(fromJson(json), event)),
      },
    ];
  },
} as const;
