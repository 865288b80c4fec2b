import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, newEnvelope } from './envelope.js';

describe('envelope', () => {
  it('round-trips through protobuf with every field', () => {
    const envelope = newEnvelope(
      {
        type: 'gatehouse.events.v1.ClientDeactivated',
        tenant: 'acme',
        aggregateId: '0oa1',
        data: new Uint8Array([1, 2, 3]),
        causationId: 'req-1',
        schemaVersion: 2,
        aggregateVersion: 7,
        commandId: 'cmd-1',
        expectedVersions: [
          { stream: 'client/0oa1', version: 6 },
          { stream: 'user/00u1', version: 0 },
        ],
      },
      { now: () => new Date('2026-11-23T09:30:00.123Z'), newId: () => 'id-1' },
    );
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual({
      id: 'id-1',
      type: 'gatehouse.events.v1.ClientDeactivated',
      schemaVersion: 2,
      tenant: 'acme',
      aggregateId: '0oa1',
      occurredAt: new Date('2026-11-23T09:30:00.123Z'),
      causationId: 'req-1',
      data: Buffer.from([1, 2, 3]),
      aggregateVersion: 7n,
      commandId: 'cmd-1',
      expectedVersions: [
        { stream: 'client/0oa1', version: 6n },
        { stream: 'user/00u1', version: 0n },
      ],
    });
  });

  it('stamps a UUID v7 id taken at the occurrence time, and schema version 1 by default', () => {
    const envelope = newEnvelope({
      type: 't',
      tenant: 'acme',
      aggregateId: 'a',
      data: new Uint8Array(),
    });
    expect(envelope.id).toMatch(/^[0-9a-f-]{14}7/);
    expect(envelope.schemaVersion).toBe(1);
  });
});
