// The signing keys of one authorization server as a decider (SPEC section 8). A server has one ACTIVE
// key (signs), one NEXT key (published, signs nothing yet) and RETIRED keys (published until every
// token they signed has expired). Rotation promotes NEXT, so a key is always in JWKS before it signs.
// Commands carry keys already generated and sealed, so deciding stays pure.
import type { SigningKeyCreated } from '@gatehouse/contracts';
import type { KeyEvent } from './events.js';

export type KeyStatus = 'NEXT' | 'ACTIVE' | 'RETIRED';

export interface KeyRecord {
  kid: string;
  status: KeyStatus;
  /** When a RETIRED key leaves JWKS. */
  removeAfter?: Date;
}

export interface ServerKeysState {
  /** Published keys, oldest first. */
  keys: readonly KeyRecord[];
  /** Kids revoked in an emergency; never valid again. */
  revoked: ReadonlySet<string>;
}

export const initialServerKeysState: ServerKeysState = { keys: [], revoked: new Set() };

export type ServerKeysCommand =
  /** A new server gets an active key and its successor at once. Does nothing when it has keys. */
  | { kind: 'ProvisionKeys'; active: SigningKeyCreated; next: SigningKeyCreated }
  /** NEXT becomes ACTIVE, ACTIVE becomes RETIRED until `removeAfter`, `next` is published. */
  | { kind: 'RotateKeys'; next: SigningKeyCreated; removeAfter: Date }
  /** Emergency: the key and its tokens are dead at once; a revoked ACTIVE key is replaced by NEXT. */
  | { kind: 'RevokeKey'; kid: string; next: SigningKeyCreated }
  /** RETIRED keys whose tokens have all expired leave JWKS. */
  | { kind: 'RemoveExpiredKeys'; now: Date }
  /** The server is gone: every key leaves JWKS. */
  | { kind: 'RemoveAllKeys' };

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
  constructor(
    readonly kind: 'not_found' | 'invalid_state',
    message: string,
  ) {
    super(message);
  }
}

const created = (key: SigningKeyCreated): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyCreated',
  data: key,
});
const activated = (kid: string): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyActivated',
  data: { kid },
});
const removed = (kid: string): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyRemoved',
  data: { kid },
});

export function decideServerKeys(command: ServerKeysCommand, state: ServerKeysState): KeyEvent[] {
  const active = state.keys.find((key) => key.status === 'ACTIVE');
  const next = state.keys.find((key) => key.status === 'NEXT');
  switch (command.kind) {
    case 'ProvisionKeys':
      if (state.keys.length > 0) return [];
      return [created(command.active), activated(command.active.kid), created(command.next)];
    case 'RotateKeys':
      if (!active || !next)
        throw new SigningKeyError('invalid_state', 'The server has no keys to rotate');
      // Activation first: a reader between the two events sees two active keys, never none.
      return [
        activated(next.kid),
        {
          type: 'gatehouse.events.v1.SigningKeyRetired',
          data: { kid: active.kid, removeAfter: command.removeAfter },
        },
        created(command.next),
      ];
    case 'RevokeKey': {
      const key = state.keys.find((candidate) => candidate.kid === command.kid);
      if (!key) {
        if (state.revoked.has(command.kid)) return [];
        throw new SigningKeyError('not_found', `Resource not found: ${command.kid} (JsonWebKey)`);
      }
      const events: KeyEvent[] = [
        { type: 'gatehouse.events.v1.SigningKeyRevoked', data: { kid: key.kid } },
        removed(key.kid),
      ];
      if (key.status === 'RETIRED') return events;
      events.push(created(command.next));
      // The old NEXT has been published since the last rotation; a brand-new key only if none is.
      if (key.status === 'ACTIVE') events.push(activated(next ? next.kid : command.next.kid));
      return events;
    }
    case 'RemoveExpiredKeys':
      return state.keys
        .filter((key) => key.status === 'RETIRED' && key.removeAfter! <= command.now)
        .map((key) => removed(key.kid));
    case 'RemoveAllKeys':
      return state.keys.map((key) => removed(key.kid));
  }
}

export function evolveServerKeys(state: ServerKeysState, event: KeyEvent): ServerKeysState {
  switch (event.type) {
    case 'gatehouse.events.v1.SigningKeyCreated':
      return { ...state, keys: [...state.keys, { kid: event.data.kid, status: 'NEXT' }] };
    case 'gatehouse.events.v1.SigningKeyActivated':
      return {
        ...state,
        keys: state.keys.map((key) =>
          key.kid === event.data.kid ? { kid: key.kid, status: 'ACTIVE' } : key,
        ),
      };
    case 'gatehouse.events.v1.SigningKeyRetired':
      return {
        ...state,
        keys: state.keys.map((key) =>
          key.kid === event.data.kid
            ? { kid: key.kid, status: 'RETIRED', removeAfter: event.data.removeAfter }
            : key,
        ),
      };
    case 'gatehouse.events.v1.SigningKeyRemoved':
      return { ...state, keys: state.keys.filter((key) => key.kid !== event.data.kid) };
    case 'gatehouse.events.v1.SigningKeyRevoked':
      return { ...state, revoked: new Set([...state.revoked, event.data.kid]) };
  }
}
