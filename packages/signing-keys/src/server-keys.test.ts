import type { SigningKeyCreated } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import type { KeyEvent } from './events.js';
import {
  decideServerKeys,
  evolveServerKeys,
  initialServerKeysState,
  type ServerKeysCommand,
  SigningKeyError,
} from './server-keys.js';

const key = (kid: string): SigningKeyCreated => ({
  kid,
  n: `n-${kid}`,
  e: 'AQAB',
  privateKey: {
    kekId: 'kek-1',
    iv: Buffer.alloc(12),
    ciphertext: Buffer.alloc(8),
    tag: Buffer.alloc(16),
  },
});
const created = (kid: string): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyCreated',
  data: key(kid),
});
const activated = (kid: string): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyActivated',
  data: { kid },
});
const retired = (kid: string, removeAfter: Date): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyRetired',
  data: { kid, removeAfter },
});
const removed = (kid: string): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyRemoved',
  data: { kid },
});
const revoked = (kid: string): KeyEvent => ({
  type: 'gatehouse.events.v1.SigningKeyRevoked',
  data: { kid },
});

const given = (events: KeyEvent[]) => {
  const state = events.reduce(evolveServerKeys, initialServerKeysState);
  return {
    when: (command: ServerKeysCommand) => ({
      thenEmits: (expected: KeyEvent[]) =>
        expect(decideServerKeys(command, state)).toEqual(expected),
      thenRefuses: (kind: SigningKeyError['kind']) => {
        expect(() => decideServerKeys(command, state)).toThrow(SigningKeyError);
        try {
          decideServerKeys(command, state);
        } catch (error) {
          expect((error as SigningKeyError).kind).toBe(kind);
        }
      },
    }),
  };
};

const provisioned = [created('k1'), activated('k1'), created('k2')];
const later = new Date('2026-11-24T00:00:00Z');

describe('server keys decider', () => {
  it('provisions an active key and its published successor, once', () => {
    given([])
      .when({ kind: 'ProvisionKeys', active: key('k1'), next: key('k2') })
      .thenEmits(provisioned);
    given(provisioned)
      .when({ kind: 'ProvisionKeys', active: key('k3'), next: key('k4') })
      .thenEmits([]);
  });

  it('rotates: NEXT signs, ACTIVE retires until its tokens expire, a new NEXT is published', () => {
    given(provisioned)
      .when({ kind: 'RotateKeys', next: key('k3'), removeAfter: later })
      .thenEmits([activated('k2'), retired('k1', later), created('k3')]);
  });

  it('refuses to rotate a server without keys', () => {
    given([])
      .when({ kind: 'RotateKeys', next: key('k3'), removeAfter: later })
      .thenRefuses('invalid_state');
    given([...provisioned, removed('k1'), removed('k2')])
      .when({ kind: 'RotateKeys', next: key('k3'), removeAfter: later })
      .thenRefuses('invalid_state');
  });

  it('removes retired keys only once every token they signed has expired', () => {
    const rotated = [...provisioned, activated('k2'), retired('k1', later), created('k3')];
    given(rotated)
      .when({ kind: 'RemoveExpiredKeys', now: new Date(later.getTime() - 1) })
      .thenEmits([]);
    given(rotated)
      .when({ kind: 'RemoveExpiredKeys', now: later })
      .thenEmits([removed('k1')]);
  });

  it('revokes the active key at once and signs with the published NEXT from then on', () => {
    given(provisioned)
      .when({ kind: 'RevokeKey', kid: 'k1', next: key('k3') })
      .thenEmits([revoked('k1'), removed('k1'), created('k3'), activated('k2')]);
  });

  it('revokes a NEXT key and publishes a new one; a retired key just goes', () => {
    given(provisioned)
      .when({ kind: 'RevokeKey', kid: 'k2', next: key('k3') })
      .thenEmits([revoked('k2'), removed('k2'), created('k3')]);
    const rotated = [...provisioned, activated('k2'), retired('k1', later), created('k3')];
    given(rotated)
      .when({ kind: 'RevokeKey', kid: 'k1', next: key('k4') })
      .thenEmits([revoked('k1'), removed('k1')]);
  });

  it('revokes a key once; an unknown kid is not found', () => {
    const after = [...provisioned, revoked('k1'), removed('k1'), created('k3'), activated('k2')];
    given(after)
      .when({ kind: 'RevokeKey', kid: 'k1', next: key('k4') })
      .thenEmits([]);
    given(provisioned)
      .when({ kind: 'RevokeKey', kid: 'nope', next: key('k4') })
      .thenRefuses('not_found');
  });

  it('removes every key when its server is deleted', () => {
    given(provisioned)
      .when({ kind: 'RemoveAllKeys' })
      .thenEmits([removed('k1'), removed('k2')]);
  });
});
