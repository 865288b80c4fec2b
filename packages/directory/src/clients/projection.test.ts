// The client read model from a client's events, in log order (all of them on gatehouse.directory).
import type { SealedClientSecret } from '@gatehouse/contracts';
import { newEnvelope } from '@gatehouse/events';
import { indexEntry, MemoryProjectionStore } from '@gatehouse/projection-store';
import { describe, expect, it } from 'vitest';
import { type DirectoryEvent, encodeDirectoryEvent } from '../events.js';
import { keys } from '../read-model.js';
import { readClientMetadata } from './metadata.js';
import { clientViewOf, projectClientEvent } from './projection.js';

const metadata = readClientMetadata({ client_name: 'Web', redirect_uris: ['https://a.example/cb'] })
  .metadata!;
const id = '0oaAAAAAAAAAAAAAAAAA';
const events: DirectoryEvent[] = [
  {
    type: 'gatehouse.events.v1.ClientRegistered',
    data: { metadata, clientSecretSha256: '1'.repeat(64) },
  },
  { type: 'gatehouse.events.v1.ClientSecretRotated', data: { clientSecretSha256: '2'.repeat(64) } },
  {
    type: 'gatehouse.events.v1.ClientUpdated',
    data: { metadata: { ...metadata, clientName: 'Web 2' } },
  },
  { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
];
const envelopes = events.map((event, i) =>
  newEnvelope(
    {
      type: event.type,
      tenant: 'acme',
      aggregateId: id,
      data: encodeDirectoryEvent(event),
    },
    { now: () => new Date(Date.UTC(2026, 10, 23, 10, i)) },
  ),
);

async function apply(order: number[]) {
  const store = new MemoryProjectionStore();
  for (const i of order) await store.write(projectClientEvent(envelopes[i]!, events[i] as never));
  return store.hgetall(keys.client('acme', id));
}

describe('client projection', () => {
  it("lists a registered client in its tenant's set of clients, and a deleted one no more", async () => {
    const store = new MemoryProjectionStore();
    await store.write(projectClientEvent(envelopes[0]!, events[0] as never));
    expect(await store.smembers(keys.clients('acme'))).toEqual([id]);
    const deleted = { type: 'gatehouse.events.v1.ClientDeleted', data: {} } as const;
    const envelope = newEnvelope({
      type: deleted.type,
      tenant: 'acme',
      aggregateId: id,
      data: encodeDirectoryEvent(deleted),
    });
    await store.write(projectClientEvent(envelope, deleted));
    expect(await store.smembers(keys.clients('acme'))).toEqual([]);
  });

  it('keeps ordered indexes of the clients and of their user and group assignments, for paging', async () => {
    const store = new MemoryProjectionStore();
    const write = async (event: DirectoryEvent) =>
      store.write(
        projectClientEvent(
          newEnvelope({
            type: event.type,
            tenant: 'acme',
            aggregateId: id,
            data: encodeDirectoryEvent(event),
          }),
          event as never,
        ),
      );
    const ids = async (key: string) =>
      (await store.read([{ op: 'indexRange', key, min: null, max: null, limit: 10 }]))[0].map(
        (member) => indexEntry(member).id,
      );
    await write(events[0]!);
    for (const userId of ['00uB', '00uA'])
      await write({ type: 'gatehouse.events.v1.AppUserAssigned', data: { userId } });
    await write({ type: 'gatehouse.events.v1.AppGroupAssigned', data: { groupId: '00gA' } });
    expect(await ids(keys.clientIndex('acme'))).toEqual([id]);
    expect(await ids(keys.appUserIndex('acme', id))).toEqual(['00uA', '00uB']);
    expect(await ids(keys.appGroupIndex('acme', id))).toEqual(['00gA']);
    await write({ type: 'gatehouse.events.v1.AppUserUnassigned', data: { userId: '00uA' } });
    await write({ type: 'gatehouse.events.v1.AppGroupUnassigned', data: { groupId: '00gA' } });
    await write({ type: 'gatehouse.events.v1.ClientDeleted', data: {} });
    expect(await ids(keys.appUserIndex('acme', id))).toEqual(['00uB']);
    expect(await ids(keys.appGroupIndex('acme', id))).toEqual([]);
    expect(await ids(keys.clientIndex('acme'))).toEqual([]);
  });

  it('shows the newest metadata, secret and status, and a deletion as no client', async () => {
    const view = clientViewOf(await apply([0, 1, 2, 3]));
    expect(view).toMatchObject({
      status: 'INACTIVE',
      secretSha256: '2'.repeat(64),
      metadata: { clientName: 'Web 2' },
      created: '2026-11-23T10:00:00.000Z',
      lastUpdated: '2026-11-23T10:03:00.000Z',
    });
    const deleted = { type: 'gatehouse.events.v1.ClientDeleted', data: {} } as const;
    const store = new MemoryProjectionStore();
    for (const i of [0, 1])
      await store.write(projectClientEvent(envelopes[i]!, events[i] as never));
    await store.write(
      projectClientEvent(
        newEnvelope({
          type: deleted.type,
          tenant: 'acme',
          aggregateId: id,
          data: encodeDirectoryEvent(deleted),
        }),
        deleted,
      ),
    );
    expect(clientViewOf(await store.hgetall(keys.client('acme', id)))).toBeUndefined();
  });

  it('keeps the sealed secret of a registration and of each rotation, its bytes as they were', async () => {
    const sealedOf = (byte: number): SealedClientSecret => ({
      kekId: `kek-${byte}`,
      iv: Buffer.alloc(12, byte),
      ciphertext: Buffer.from(Array.from({ length: 43 }, (_, i) => (i * byte) % 256)),
      tag: Buffer.alloc(16, 255 - byte),
    });
    const store = new MemoryProjectionStore();
    const write = (event: DirectoryEvent) =>
      store.write(
        projectClientEvent(
          newEnvelope({
            type: event.type,
            tenant: 'acme',
            aggregateId: id,
            data: encodeDirectoryEvent(event),
          }),
          event as never,
        ),
      );
    const view = async () => clientViewOf(await store.hgetall(keys.client('acme', id)));
    const asBytes = (sealed: SealedClientSecret | undefined) =>
      sealed && {
        kekId: sealed.kekId,
        iv: [...sealed.iv],
        ciphertext: [...sealed.ciphertext],
        tag: [...sealed.tag],
      };
    await write({
      type: 'gatehouse.events.v1.ClientRegistered',
      data: { metadata, clientSecretSha256: '1'.repeat(64), clientSecretSealed: sealedOf(7) },
    });
    expect(asBytes((await view())?.secretSealed)).toEqual(asBytes(sealedOf(7)));
    await write({
      type: 'gatehouse.events.v1.ClientSecretRotated',
      data: { clientSecretSha256: '2'.repeat(64), clientSecretSealed: sealedOf(9) },
    });
    expect(asBytes((await view())?.secretSealed)).toEqual(asBytes(sealedOf(9)));
    expect((await view())?.secretSha256).toBe('2'.repeat(64));
    // A rotation without a seal leaves none: the sealed secret would be the old one's.
    await write({
      type: 'gatehouse.events.v1.ClientSecretRotated',
      data: { clientSecretSha256: '3'.repeat(64) },
    });
    expect((await view())?.secretSealed).toBeUndefined();
    // A client registered before secrets were sealed has none either.
    expect(clientViewOf(await apply([0, 1]))).not.toHaveProperty('secretSealed');
  });

  it('reads metadata projected before private_key_jwt clients with no keys, not undefined ones', async () => {
    const fields = await apply([0]);
    const { jwks: _, jwksUri: __, ...before } = metadata;
    const view = clientViewOf({ ...fields, metadata: JSON.stringify(before) });
    expect(view?.metadata).toEqual(metadata);
    expect(view?.metadata).toMatchObject({ jwks: '', jwksUri: '' });
  });
});
