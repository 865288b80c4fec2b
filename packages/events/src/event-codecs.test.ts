import { ClientSecretRotated, TenantDeactivated } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from './envelope.js';
import { eventCodecs, type MessageCodec } from './event-codecs.js';

const codecs = eventCodecs({
  'gatehouse.events.v1.ClientSecretRotated':
    ClientSecretRotated as MessageCodec<ClientSecretRotated>,
  'gatehouse.events.v1.TenantDeactivated': TenantDeactivated as MessageCodec<TenantDeactivated>,
});

const envelopeOf = (type: string, data: Uint8Array) =>
  newEnvelope({ type, tenant: 'acme', aggregateId: 'x', data });

describe('event codecs', () => {
  it('encodes an event and decodes it back from its envelope', () => {
    const event = {
      type: 'gatehouse.events.v1.ClientSecretRotated',
      data: { clientSecretSha256: 'ab'.repeat(32) },
    } as const;
    expect(codecs.decode(envelopeOf(event.type, codecs.encode(event)))).toEqual(event);
  });

  it('gives undefined for types of other families, including names of Object.prototype', () => {
    for (const type of [
      'gatehouse.events.v1.UserCreated',
      'constructor',
      '__proto__',
      'toString',
      '',
    ])
      expect(codecs.decode(envelopeOf(type, new Uint8Array()))).toBeUndefined();
  });
});
