// A client's events reach the projector from two topics, in any relative order while it catches up:
// every order must give the same read model, with the newest secret.
import { newEnvelope } from '@gatehouse/events';
import { MemoryProjectionStore } from '@gatehouse/projection-store';
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
      aggregateVersion: i + 1,
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
  it('gives the same read model, with the newest secret, whatever order the two topics arrive in', async () => {
    const inOrder = await apply([0, 1, 2, 3]);
    // The lifecycle topic (secret rotated, deactivated) ahead of the directory topic, and mixed.
    for (const order of [
      [1, 3, 0, 2],
      [3, 1, 2, 0],
      [2, 0, 3, 1],
    ])
      expect(await apply(order)).toEqual(inOrder);
    expect(clientViewOf(inOrder)).toMatchObject({
      status: 'INACTIVE',
      secretSha256: '2'.repeat(64),
      version: 4,
      metadata: { clientName: 'Web 2' },
    });
  });

  it('keeps a deleted client deleted when its older events arrive after the deletion', async () => {
    const deleted = { type: 'gatehouse.events.v1.ClientDeleted', data: {} } as const;
    const envelope = newEnvelope({
      type: deleted.type,
      tenant: 'acme',
      aggregateId: id,
      data: encodeDirectoryEvent(deleted),
      aggregateVersion: 5,
    });
    const store = new MemoryProjectionStore();
    await store.write(projectClientEvent(envelope, deleted));
    for (const i of [0, 1, 2, 3])
      await store.write(projectClientEvent(envelopes[i]!, events[i] as never));
    expect(clientViewOf(await store.hgetall(keys.client('acme', id)))).toBeUndefined();
  });
});
